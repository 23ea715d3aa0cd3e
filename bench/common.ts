// Shared bench helpers: timed child processes (wall from this process, CPU and peak RSS from
// /usr/bin/time, which counts the whole reaped process tree), statistics, and a few paths.
import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TMP = path.join(ROOT, 'bench', 'tmp');
export const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

export function ensureTmp(sub = ''): string {
  const dir = path.join(TMP, sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface Timed {
  wallMs: number;
  /** user + sys CPU of the process and every child it reaped (null without /usr/bin/time). */
  cpuMs: number | null;
  /** Largest resident set among the process and its reaped children, KB. */
  maxRssKb: number | null;
  code: number | null;
  stdout: string;
  stderr: string;
}

let timeSeq = 0;

/** Run a command to completion; wall time is measured here, CPU and RSS by /usr/bin/time when present. */
export async function timed(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<Timed> {
  const timeFile = path.join(ensureTmp(), `time-${process.pid}-${timeSeq++}.txt`);
  const [bin, argv] = TIME_BIN ? [TIME_BIN, ['-f', '%U %S %M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const started = performance.now();
  const child = spawn(bin, argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const wallMs = performance.now() - started;
  let cpuMs: number | null = null;
  let maxRssKb: number | null = null;
  if (TIME_BIN) {
    try {
      // The last line: /usr/bin/time prefixes "Command exited with non-zero status N" when it fails.
      const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!;
      const [u, s, m] = last.split(/\s+/).map(Number);
      cpuMs = Math.round((u! + s!) * 1000);
      maxRssKb = m!;
      rmSync(timeFile, { force: true });
    } catch {
      /* no numbers: leave null */
    }
  }
  return { wallMs, cpuMs, maxRssKb, code, stdout, stderr };
}

export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
  all: number[];
}

export function stats(values: number[]): Stats {
  const all = values.map((v) => Math.round(v));
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median: Math.round(median), min: Math.round(s[0]!), max: Math.round(s[s.length - 1]!), n: s.length, all };
}

export function loadAvg(): number[] {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    memTotalMb: Math.round(os.totalmem() / 1024 / 1024),
  };
}

/** VmHWM (peak resident set) of a live process, in KB; null once it is gone. */
export function vmHwmKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Direct children of a live process (Linux /proc). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
