// Real runs of the wsgate CLI for the reporter tests: the embedded reference server (passes) or a
// reference server started here with a fault (fails). Every run gets its own temp folders.
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReferenceServer } from '../../reference-server/index.ts';
import type { RunResult } from '../../lib/evidence/results.ts';
import { runProcess } from '../../lib/os/process.ts';
import { SHARED_MACHINE } from '../helpers/cli.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'wsgate.js');

export async function tempDir(prefix = 'wsgate-rep-test-'): Promise<string> {
  return realpath(await mkdtemp(path.join(os.tmpdir(), prefix)));
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The evidence folder (--out). */
  out: string;
  /** A scratch folder for report files; also the cwd unless one was given. */
  dir: string;
  result: RunResult;
  resultText: string;
  cleanup(): Promise<void>;
}

interface RunOptions {
  /** Extra environment; GITHUB_* variables of the machine running the tests are never inherited. */
  env?: Record<string, string>;
  cwd?: string;
  /** Start a reference server with these faults and run against it (else: the embedded server). */
  faults?: string[];
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('GITHUB_')) delete env[k];
  return { ...env, ...extra };
}

/** Runs `wsgate run [URL PROJECT] --out <tmp> ...args`; `args` may use {dir} for the scratch folder. */
export async function wsgateRun(args: (dir: string) => string[], o: RunOptions = {}): Promise<CliRun> {
  const dir = await tempDir();
  const out = path.join(dir, 'evidence');
  const cleanups: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  let target: string[] = [];
  if (o.faults) {
    const project = await tempDir('wsgate-rep-project-');
    const dataDir = await tempDir('wsgate-rep-data-');
    const server = await startReferenceServer({ port: 0, root: project, dataDir, faults: o.faults });
    cleanups.unshift(
      () => server.close(),
      () => rm(project, { recursive: true, force: true }),
      () => rm(dataDir, { recursive: true, force: true }),
    );
    target = [server.url, project];
  }
  const cleanup = async () => {
    for (const c of cleanups) await c().catch(() => undefined);
  };
  try {
    // Budgets and deadlines scaled: these runs are about reports, and share the cores with other files.
    const run = await runProcess(
      process.execPath,
      [BIN, 'run', ...target, '--out', out, ...SHARED_MACHINE, ...args(dir)],
      { cwd: o.cwd ?? dir, env: cleanEnv(o.env), timeoutMs: 120_000 },
    );
    const { exitCode: code, stdout, stderr } = run;
    if (run.timedOut) throw new Error(`wsgate did not end within 120 s\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    let resultText = '';
    try {
      resultText = await readFile(path.join(out, 'result.json'), 'utf8');
    } catch (e) {
      throw new Error(`wsgate wrote no result.json (exit ${code})\nstdout:\n${stdout}\nstderr:\n${stderr}`, {
        cause: e,
      });
    }
    return { code, stdout, stderr, out, dir, result: JSON.parse(resultText) as RunResult, resultText, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The passing run: embedded server, two quick gates. */
export const PASS_GATES = ['--gate', 'ping', '--gate', 'write-file'];
/** The failing run: lie-write makes write-file fail; --bail skips what follows it. */
export const FAIL_GATES = ['--gate', 'write-file', '--gate', 'ping', '--gate', 'slash-help', '--bail'];
export const FAULTS = ['lie-write'];

export function failedChecks(r: RunResult) {
  return r.gates.flatMap((g) =>
    g.steps.flatMap((s) => s.checks.filter((c) => !c.passed).map((c) => ({ gate: g, step: s, check: c }))),
  );
}

/** The transcript lines of an evidence folder. */
export async function transcript(out: string): Promise<{ conn: string; dir: string; step: string; text: string }[]> {
  const text = await readFile(path.join(out, 'transcript.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
