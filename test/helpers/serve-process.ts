// `wsgate serve` as a real process on 127.0.0.1:0, as a user starts it: for tests whose subject must
// meet the reference server from outside (its own process, its own faults). Ready once it prints
// "listening ws://…"; stopped (whole process tree) by stop().
import type { ChildProcess } from 'node:child_process';
import { spawnChild, stopTree } from '../../lib/os/process.ts';
import { BIN, tempDir } from './cli.ts';

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `noToken`: serve without its default token (`--no-token`), for tests whose subject is not access. */
export async function serveProcess(opts: {
  root: string;
  faults?: string[];
  readyMs?: number;
  noToken?: boolean;
}): Promise<ServeProcess> {
  const data = tempDir('wsgate-serve-data-');
  // The runs against it use project folders of their own, beside the root: the server confines sessions
  // to --root unless told otherwise.
  const args = [
    BIN,
    'serve',
    '--port',
    '0',
    '--root',
    opts.root,
    '--allow-any-project',
    '--data-dir',
    data.path,
    ...(opts.faults ?? []).flatMap((f) => ['--fault', f]),
    ...(opts.noToken ? ['--no-token'] : []),
  ];
  const child = spawnChild(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' } });
  const stop = async () => {
    await stopTree(child, 2000);
    data.remove();
  };
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`wsgate serve printed no "listening" line within ${opts.readyMs ?? 30_000} ms; stderr: ${err}`),
          ),
        opts.readyMs ?? 30_000,
      );
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^listening (ws:\/\/\S+)/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`wsgate serve exited with ${code} before listening; stderr: ${err}`));
      });
    });
    return { url, child, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
