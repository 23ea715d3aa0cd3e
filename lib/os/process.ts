// The only module that spawns or kills processes. Results are data: a non-zero exit is information,
// and every deadline kills the whole process tree (children run in their own process group).
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * How the process table is read: Linux's /proc (every thread, cheap), or POSIX `ps -A -o pid,ppid,stat,rss`
 * where there is no /proc (macOS, the BSDs). WSGATE_PROCESS_TABLE=ps forces the portable path, so CI on
 * Linux exercises it too.
 */
export const PROCESS_TABLE: 'proc' | 'ps' =
  process.env.WSGATE_PROCESS_TABLE === 'ps' || !existsSync('/proc/self/stat') ? 'ps' : 'proc';

interface PsRow {
  pid: number;
  ppid: number;
  stat: string;
  rssKb: number;
}

/** One `ps` run: every process with its parent, state and resident size. */
function psTable(pids?: number[]): PsRow[] {
  let out: string;
  try {
    const select = pids ? ['-p', pids.join(',')] : ['-A'];
    out = execFileSync('ps', [...select, '-o', 'pid=,ppid=,stat=,rss='], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
  } catch (e) {
    // ps exits 1 when none of the pids asked for exists: that is an answer, not a failure.
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[0]!))
    .map((f) => ({ pid: Number(f[0]), ppid: Number(f[1]), stat: f[2]!, rssKb: Number(f[3]) }));
}

export interface ProcessResult {
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the tree after this many ms; undefined = no deadline (long-lived children only). */
  timeoutMs?: number;
  input?: string;
  /** Cap kept output per stream, so a flood cannot exhaust memory. */
  maxOutputBytes?: number;
  /** Stop the tree when this aborts (Ctrl-C of the run). */
  signal?: AbortSignal;
}

const live = new Set<ChildProcess>();

/** Every child started through this module that has not exited yet. */
export function liveChildren(): number[] {
  return [...live].map((c) => c.pid!).filter(Boolean);
}

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
}

/** Signal a process group; a group with no members left is no error. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* no member left */
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

/** The fields of a /proc stat line after the command name (which may hold spaces): state, ppid, ... */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * Every descendant of `root` (Linux /proc): a program may move its own children into a new process
 * group or session, out of reach of a group signal; they still descend from it while it lives.
 */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  const addChild = (ppid: number, pid: number) => {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  };
  let entries: string[] = [];
  if (PROCESS_TABLE === 'ps') for (const r of psTable()) addChild(r.ppid, r.pid);
  else {
    try {
      entries = readdirSync('/proc');
    } catch {
      entries = [];
    }
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    addChild(Number(statFields(stat)[1]), Number(e));
  }
  const out: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** Resident memory of a process and all its descendants, in bytes (Linux /proc); undefined when unreadable. */
export function treeRssBytes(root: number): number | undefined {
  if (PROCESS_TABLE === 'ps') {
    const rows = psTable([root, ...descendants(root)]);
    return rows.length ? rows.reduce((n, r) => n + r.rssKb * 1024, 0) : undefined;
  }
  let total = 0;
  let read = 0;
  for (const pid of [root, ...descendants(root)]) {
    try {
      const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb !== undefined) {
        total += Number(kb) * 1024;
        read++;
      }
    } catch {
      // exited between the listing and the read
    }
  }
  return read ? total : undefined;
}

/** Signal the child's whole process group, and the child itself if the group is gone. */
export function killTree(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child.pid, signal);
  signalPid(child.pid, signal);
}

/**
 * SIGTERM the tree (its process group and every descendant, wherever they moved), SIGKILL what is
 * left after graceMs; resolves once the child has exited and the stragglers are killed.
 */
export async function stopTree(child: ChildProcess, graceMs = 2000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const alive = child.exitCode === null && child.signalCode === null;
  const family = alive ? descendants(pid) : [];
  if (alive) {
    const exited = once(child, 'exit').catch(() => undefined);
    signalGroup(pid, 'SIGTERM');
    for (const d of [pid, ...family]) signalPid(d, 'SIGTERM');
    const timer = setTimeout(() => {
      signalGroup(pid, 'SIGKILL');
      for (const d of [pid, ...family]) signalPid(d, 'SIGKILL');
    }, graceMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }
  // The leader may exit while others linger in its group or below it.
  signalGroup(pid, 'SIGKILL');
  for (const d of family) signalPid(d, 'SIGKILL');
  // A killed grandchild (under a shell that did not exec) may still hold its port for a moment after
  // the leader is gone: "stopped" means the whole family is, so the next step finds the port free.
  await familyGone(family, graceMs);
}

/**
 * Whether a pid has exited: gone, or a zombie whose parent has not reaped it yet. Every thread counts:
 * a node process whose main thread is already a zombie can still have threads running, and those
 * keep its files open (a listening socket then still accepts connections, and resets them).
 */
function exited(pid: number): boolean {
  if (PROCESS_TABLE === 'ps') {
    // ps shows processes, not threads: a zombie (Z) or no row at all is gone.
    const row = psTable([pid])[0];
    return !row || row.stat.startsWith('Z');
  }
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  return tasks.every((tid) => {
    try {
      return 'ZX'.includes(statFields(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))[0]!);
    } catch {
      return true;
    }
  });
}

/**
 * Resolves once every pid has exited, or after `ms`. There is no exit event for a process that is
 * not our child, so /proc is re-read with a short backoff, bounded by the deadline.
 */
async function familyGone(pids: number[], ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  let delay = 2;
  while (pids.some((p) => !exited(p)) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/** Synchronous last resort for exit handlers: SIGKILL every tracked tree. */
export function killAllNow(): void {
  for (const child of live) {
    if (child.pid === undefined) continue;
    for (const d of descendants(child.pid)) signalPid(d, 'SIGKILL');
    killTree(child, 'SIGKILL');
  }
}

export function spawnChild(
  command: string,
  args: readonly string[],
  opts: SpawnOptions & { stdio?: StdioOptions } = {},
): ChildProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so a deadline can kill grandchildren too
  });
  track(child);
  return child;
}

/**
 * zx's process API, loaded on first use (its import costs ~70 ms: a run with no command or git read
 * never pays it). zx spawns through the function given here, so every child is still tracked, in a
 * process group of its own, and killed by stopTree; its output goes to a store that keeps at most
 * `max` bytes per stream, so a flooding command cannot exhaust memory.
 */
let zxCore: Promise<typeof import('zx/core')> | undefined;
const zx = () => (zxCore ??= import('zx/core'));

/** An output store for zx that keeps the first `max` bytes and counts the rest. */
class CappedChunks extends Array<string | Buffer> {
  static override get [Symbol.species]() {
    return Array;
  }
  kept = 0;
  total = 0;
  max = 0;
  override push(...items: (string | Buffer)[]): number {
    for (const it of items) {
      this.total += it.length;
      const room = this.max - this.kept;
      if (room <= 0) continue;
      const part = it.length <= room ? it : typeof it === 'string' ? it.slice(0, room) : it.subarray(0, room);
      super.push(part);
      this.kept += part.length;
    }
    return this.length;
  }
  text(): string {
    const t = this.map((c) => (typeof c === 'string' ? c : c.toString('utf8'))).join('');
    return this.total > this.kept ? `${t}\n[... ${this.total - this.kept} more bytes not kept]` : t;
  }
}

function capped(max: number): CappedChunks {
  const c = new CappedChunks();
  c.max = max;
  return c;
}

/** Run a program to completion (or its deadline) and return what happened as data. */
export async function runProcess(
  command: string,
  args: readonly string[],
  opts: SpawnOptions = {},
): Promise<ProcessResult> {
  const started = performance.now();
  const max = opts.maxOutputBytes ?? 4 * 1024 * 1024;
  const label = [command, ...args].join(' ');
  const { $ } = await zx();
  const store = { stdout: capped(max), stderr: capped(max), stdall: capped(0) };
  let child: ChildProcess | undefined;
  let spawnError: string | undefined;
  const trackedSpawn = ((cmd: string, argv: readonly string[], o: Parameters<typeof spawn>[2]) => {
    child = spawn(cmd, argv, { ...o, detached: true });
    track(child);
    child.once('error', (e) => (spawnError = e.message));
    return child;
  }) as unknown as typeof spawn;
  let timedOut = false;
  const stop = () => (child ? void stopTree(child, 500) : undefined);
  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, opts.timeoutMs)
      : undefined;
  opts.signal?.addEventListener('abort', stop);
  // The program and its arguments are quoted by zx for the shell it runs them with: no word of them is
  // ever read as shell syntax.
  const p = $({
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? process.env,
    input: opts.input ?? '',
    nothrow: true,
    quiet: true,
    verbose: false,
    spawn: trackedSpawn,
    store,
    preferLocal: false,
  })`${command} ${args}`;
  if (opts.signal?.aborted) stop();
  const out = await p;
  if (timer) clearTimeout(timer);
  opts.signal?.removeEventListener('abort', stop);
  const c = child as ChildProcess | undefined;
  if (c?.pid !== undefined) signalGroup(c.pid, 'SIGKILL'); // reap anything the program left running in its group
  // The shell answers 127 for a program it cannot find and 126 for one it cannot run: that is the
  // program not starting, as spawn's ENOENT/EACCES were.
  const said = store.stderr.text();
  if (
    !spawnError &&
    out.exitCode === 127 &&
    (said.includes(`${command}: command not found`) || said.includes(`${command}: No such file or directory`))
  )
    spawnError = `ENOENT: ${command} is not a program on PATH`;
  if (!spawnError && out.exitCode === 126 && said.includes(`${command}: Permission denied`))
    spawnError = `EACCES: ${command} cannot be run (permission denied)`;
  return {
    command: label,
    exitCode: out.exitCode,
    signal: out.signal,
    stdout: store.stdout.text(),
    stderr: said,
    ms: Math.round(performance.now() - started),
    timedOut,
    ...(spawnError ? { spawnError } : {}),
  };
}

/** Why a command failed, in words: "127 (command not found)" and its last lines of stderr (zx's wording). */
export async function explainExit(
  r: Pick<ProcessResult, 'exitCode' | 'signal' | 'stderr' | 'command'>,
): Promise<string> {
  const { Fail } = await zx();
  return Fail.formatExitMessage(r.exitCode, r.signal, r.stderr.split('\n').slice(-6).join('\n'), r.command)
    .replace(/\n\s*at .*$/m, '')
    .trim();
}

/** Run through `sh -c`, for user-written command lines. */
export function runShell(commandLine: string, opts: SpawnOptions = {}): Promise<ProcessResult> {
  return runProcess('sh', ['-c', commandLine], opts).then((r) => ({ ...r, command: commandLine }));
}
