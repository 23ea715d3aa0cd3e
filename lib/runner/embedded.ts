// The embedded default target: the reference server, started in-process on a free 127.0.0.1 port.
// The harness only speaks the wire protocol to it, as it would to any stranger.
import { lstatSync, mkdtempSync, realpathSync } from 'node:fs';
import { removeSync } from 'fs-extra/esm';
import os from 'node:os';
import path from 'node:path';
import { EXIT, HarnessFailure } from '../errors.ts';
import { registerServerToken } from '../os/server-tokens.ts';
import { generateToken } from '../../reference-server/access.ts';

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  logDir: string;
  stop(keepData?: boolean): Promise<void>;
}

/**
 * Sessions are confined to PATH, plus the fresh per-gate folders `--parallel` makes beside it
 * ($TMPDIR/wsgate-parallel-<run id>-XXXXXX/<gate>, see GateFolders in lib/runner/project.ts): a private
 * (mkdtemp, 0700) folder of this user, so no other user can make one the server would accept.
 */
function isGateFolder(realPath: string): boolean {
  let tmp: string;
  try {
    tmp = realpathSync(os.tmpdir());
  } catch {
    return false;
  }
  const rel = path.relative(tmp, realPath);
  const top = rel.split(path.sep)[0] ?? '';
  if (rel.startsWith('..') || path.isAbsolute(rel) || !top.startsWith('wsgate-parallel-')) return false;
  try {
    const stat = lstatSync(path.join(tmp, top));
    const mine = typeof process.getuid !== 'function' || stat.uid === process.getuid();
    return stat.isDirectory() && mine && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

export async function startEmbedded(project: string, keep: boolean): Promise<EmbeddedServer> {
  const { startReferenceServer } = await import('../../reference-server/index.ts');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-server-data-'));
  // Every client must present this token: without it any local user could run commands through the
  // server as you for as long as the run lasts (its port is listed in /proc/net/tcp). The harness sends
  // it as a header (lib/os/server-tokens.ts), never on a command line, where `ps` would show it.
  const token = generateToken();
  const server = await startReferenceServer({
    host: '127.0.0.1',
    port: 0,
    root: project,
    allowProject: isGateFolder,
    dataDir,
    logDir: path.join(dataDir, 'logs'),
    token,
  });
  const forget = registerServerToken(server.url, token);
  return {
    url: server.url,
    dataDir,
    logDir: server.logDir,
    /** `keepData` false: remove the data folder even under --keep (a run that never started). */
    async stop(keepData = keep) {
      forget();
      await server.close();
      if (!keepData) removeSync(dataDir);
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
