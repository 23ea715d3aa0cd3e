// The embedded default target: the reference server, started as a process of its own on a free
// 127.0.0.1 port. The harness only speaks the wire protocol to it, as it would to any stranger.
// Its own process, with a minimal environment: its tools run commands for clients, and a command's
// parent is then this server, whose environment holds no CI token or cloud key (in the harness's
// process, `cat /proc/$PPID/environ` returned them all).
import { mkdtempSync } from 'node:fs';
import { removeSync } from 'fs-extra/esm';
import os from 'node:os';
import path from 'node:path';
import { EXIT, HarnessFailure } from '../errors.ts';
import { spawnChild, stopTree } from '../os/process.ts';
import { registerServerToken } from '../os/server-tokens.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { generateToken } from '../../reference-server/access.ts';
import { minimalEnv } from '../../reference-server/tools/child-env.ts';
import { bundleIsFresh } from '../../scripts/bundle-fresh.mjs';

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  logDir: string;
  /** The server's process. */
  pid: number;
  stop(keepData?: boolean): Promise<void>;
}

/** The variable `wsgate serve` reads its token from (TOKEN_ENV of reference-server/cli.ts, not loaded here). */
const TOKEN_ENV = 'WSGATE_SERVE_TOKEN';

/** A server that has not said where it listens by then is not going to (a whole node start-up on a loaded machine). */
const READY_MS = 60_000;

/** `wsgate serve` from the bundle when it is fresh, else the server's own entry through tsx (half the start-up). */
function serveCommand(): string[] {
  if (bundleIsFresh()) return [path.join(PACKAGE_ROOT, 'bin', 'wsgate.js'), 'serve'];
  return ['--import', import.meta.resolve('tsx'), path.join(PACKAGE_ROOT, 'reference-server', 'cli.ts'), 'serve'];
}

/**
 * `gateFolderRoot`: where the run's --parallel per-gate folders go when not inside PATH (--parallel-root
 * DIR); the server admits DIR/.wsgate-parallel-* folders of this user, as it admits PATH.
 */
export async function startEmbedded(project: string, keep: boolean, gateFolderRoot?: string): Promise<EmbeddedServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-server-data-'));
  const logDir = path.join(dataDir, 'logs');
  // Every client must present this token: without it any local user could run commands through the
  // server as you for as long as the run lasts (its port is listed in /proc/net/tcp). The server gets
  // it in its environment and the harness sends it as a header (lib/os/server-tokens.ts): never on a
  // command line, which every local user can read with `ps`.
  const token = generateToken();
  // --exit-with-stdin: the pipe closes when this process ends, however it ends (SIGKILL included), and
  // the server with it; it runs in a process group of its own, so nothing else would stop it.
  const args = [
    ...serveCommand(),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--root',
    project,
    '--allow-gate-folders',
    ...(gateFolderRoot !== undefined ? ['--gate-folder-root', gateFolderRoot] : []),
    '--exit-with-stdin',
    '--data-dir',
    dataDir,
    '--log-dir',
    logDir,
  ];
  const child = spawnChild(process.execPath, args, {
    cwd: project,
    env: minimalEnv({ [TOKEN_ENV]: token }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.on('error', () => undefined);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`it printed no listening line within ${READY_MS / 1000} s`)),
        READY_MS,
      );
      const onData = () => {
        const m = /^listening (ws:\/\/\S+)$/m.exec(out);
        if (!m) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(m[1]!);
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`it exited (${signal ?? code}) before listening: ${err.trim()}`));
      });
    });
  } catch (e) {
    await stopTree(child, 2000);
    removeSync(dataDir);
    throw e;
  }
  const forget = registerServerToken(url, token);
  return {
    url,
    dataDir,
    logDir,
    pid: child.pid!,
    /** `keepData` false: remove the data folder even under --keep (a run that never started). */
    async stop(keepData = keep) {
      forget();
      await stopTree(child, 5000);
      if (!keepData) removeSync(dataDir);
    },
  };
}

/** The embedded server for a command with no URL; a server that cannot start is a harness error (exit 3). */
export async function startEmbeddedTarget(
  project: string,
  keep: boolean,
  gateFolderRoot?: string,
): Promise<EmbeddedServer> {
  try {
    return await startEmbedded(project, keep, gateFolderRoot);
  } catch (e) {
    throw new HarnessFailure(
      [{ code: 'SERVER', title: `the embedded reference server did not start: ${(e as Error).message}` }],
      EXIT.harness,
    );
  }
}
