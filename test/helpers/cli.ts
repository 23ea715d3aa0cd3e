// Running the real CLI as a user would: a child process, no stdin, CI=true.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { runProcess, type ProcessResult } from '../../lib/os/process.ts';
import type { RunResult } from '../../lib/evidence/results.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'wsgate.js');
/**
 * For runs of whole gate files that are meant to pass while other test files share the two cores:
 * latency budgets and deadlines are the subject of their own tests, and a starved machine must not
 * turn a healthy run red (the concurrency gate's ten wscat starts take ~2.5 s of its 5 s there).
 */
export const SHARED_MACHINE = ['--budget-scale', '20', '--timeout-scale', '2'];

/** `env` entries set to undefined are removed from the child's environment. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1', ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return runProcess(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env,
    timeoutMs: opts.timeoutMs ?? 90_000,
  });
}

/** The same run as `{code, stdout, stderr}`. */
export async function cliResult(
  args: string[],
  opts: Parameters<typeof runCli>[1] = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args, opts);
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'wsgate-test-'): { path: string; remove(): void } {
  const p = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { path: p, remove: () => rmSync(p, { recursive: true, force: true }) };
}

export function readResult(outDir: string): RunResult {
  return JSON.parse(readFileSync(path.join(outDir, 'result.json'), 'utf8')) as RunResult;
}

/** The first failed gate and step of a run, as `gate / step label`. */
export function firstFailure(r: RunResult): { gate: string; step: string } | undefined {
  for (const g of r.gates) {
    const s = g.steps.find((x) => x.status === 'failed');
    if (s) return { gate: g.id, step: s.label };
  }
  return undefined;
}

/**
 * Temp folders and servers for one test file, all removed/closed in its `after` hook:
 * `const s = scratch(after); s.dir(); s.server(await startReferenceServer(...))`.
 */
export function scratch(after: (fn: () => Promise<void>) => void): {
  dir(prefix?: string): string;
  server<T extends { close(): Promise<void> }>(s: T): T;
} {
  const dirs: { remove(): void }[] = [];
  const servers: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    dirs.forEach((d) => d.remove());
  });
  return {
    dir(prefix) {
      const t = tempDir(prefix);
      dirs.push(t);
      return t.path;
    },
    server(s) {
      servers.push(s);
      return s;
    },
  };
}
