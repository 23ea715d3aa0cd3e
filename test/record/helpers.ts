// Driving the real `wsgate record` as a script would: its stdin is a pipe the test writes lines to
// (so a line may depend on a reply already printed, e.g. a sessionId), its stdout is read as it
// comes. Every wait has a deadline; the process is stopped in the test's after hook.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import YAML from 'yaml';
import { spawnChild, stopTree } from '../../lib/os/process.ts';
import { BIN, ROOT } from '../helpers/cli.ts';

export interface RecordProcess {
  child: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves with the first match of `re` in stdout printed so far or later. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  line(text: string): void;
  /** End stdin (the session's end) and wait for the exit code. */
  finish(ms?: number): Promise<number | null>;
  /** Wait for the exit code, stdin left open. */
  exit(ms?: number): Promise<number | null>;
}

export function startRecord(args: string[], t: TestContext, opts: { cwd?: string } = {}): RecordProcess {
  const child = spawnChild(process.execPath, [BIN, 'record', ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CI: 'true', NO_COLOR: '1' },
  });
  t.after(() => stopTree(child, 500));
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    out: () => out,
    err: () => err,
    waitFor(re, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (!m) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} in wsgate record's output within ${ms} ms:\n${out}\nstderr: ${err}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then(() => {
          if (!listeners.has(check)) return;
          done();
          const m = re.exec(out);
          if (m) resolve(m);
          else reject(new Error(`wsgate record exited before printing ${re}:\n${out}\nstderr: ${err}`));
        });
        check();
      });
    },
    line(text) {
      child.stdin!.write(text + '\n');
    },
    finish(ms = 60_000) {
      child.stdin!.end();
      return this.exit(ms);
    },
    async exit(ms = 60_000) {
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms))),
      ]);
      clearTimeout(timer);
      if (code === 'timeout') throw new Error(`wsgate record did not exit within ${ms} ms:\n${out}\nstderr: ${err}`);
      return code;
    },
  };
}

export type GateStep = Record<string, unknown> & {
  send?: unknown;
  expect?: Record<string, unknown>[];
  verify?: Record<string, unknown>;
};

export function readGates(file: string): { text: string; gates: { id: string; title: string; steps: GateStep[] }[] } {
  const text = readFileSync(file, 'utf8');
  return { text, gates: (YAML.parse(text) as { gates: { id: string; title: string; steps: GateStep[] }[] }).gates };
}

export const UUID_ANYWHERE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
export const ISO_TIME_ANYWHERE = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
