// The embedded default target: the reference server, started in-process on a free 127.0.0.1 port.
// The harness only speaks the wire protocol to it, as it would to any stranger.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, HarnessFailure } from './errors.ts';

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  logDir: string;
  stop(keepData?: boolean): Promise<void>;
}

export async function startEmbedded(project: string, keep: boolean): Promise<EmbeddedServer> {
  const { startReferenceServer } = await import('../reference-server/index.ts');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-server-data-'));
  const server = await startReferenceServer({ host: '127.0.0.1', port: 0, root: project, dataDir, logDir: path.join(dataDir, 'logs') });
  return {
    url: server.url,
    dataDir,
    logDir: server.logDir,
    /** `keepData` false: remove the data folder even under --keep (a run that never started). */
    async stop(keepData = keep) {
      await server.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The embedded server for a command with no URL; a server that cannot start is a harness error (exit 3). */
export async function startEmbeddedTarget(project: string, keep: boolean): Promise<EmbeddedServer> {
  try {
    return await startEmbedded(project, keep);
  } catch (e) {
    throw new HarnessFailure([{ code: 'SERVER', title: `the embedded reference server did not start: ${(e as Error).message}` }], EXIT.harness);
  }
}
