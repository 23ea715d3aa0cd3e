// The only module that spawns or kills processes. Results are data: a non-zero exit is information,
// and every deadline kills the whole process tree (children run in their own process group).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';

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
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(statFields(stat)[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(e));
    else children.set(ppid, [Number(e)]);
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

export function spawnChild(command: string, args: readonly string[], opts: SpawnOptions & { stdio?: StdioOptions } = {}): ChildProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so a deadline can kill grandchildren too
  });
  track(child);
  return child;
}

/** Run a program to completion (or its deadline) and return what happened as data. */
export async function runProcess(command: string, args: readonly string[], opts: SpawnOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  const max = opts.maxOutputBytes ?? 4 * 1024 * 1024;
  const label = [command, ...args].join(' ');
  let child: ChildProcess;
  try {
    child = spawnChild(command, args, opts);
  } catch (err) {
    return { command: label, exitCode: null, signal: null, stdout: '', stderr: '', ms: 0, timedOut: false, spawnError: String((err as Error).message) };
  }
  const out: Buffer[] = [];
  const errs: Buffer[] = [];
  let outLen = 0;
  let errLen = 0;
  child.stdout?.on('data', (b: Buffer) => {
    if (outLen < max) out.push(b);
    outLen += b.length;
  });
  child.stderr?.on('data', (b: Buffer) => {
    if (errLen < max) errs.push(b);
    errLen += b.length;
  });
  let spawnError: string | undefined;
  child.on('error', (err) => {
    spawnError = err.message;
  });
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // the program may exit without reading its input
    child.stdin.end(opts.input ?? '');
  }
  let timedOut = false;
  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          void stopTree(child, 500);
        }, opts.timeoutMs)
      : undefined;
  const onAbort = () => void stopTree(child, 500);
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) onAbort();
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('close', (code, sig) => resolve([code, sig]));
    child.once('error', () => resolve([null, null]));
  });
  if (timer) clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL'); // reap anything the program left running in its group
  const cut = (bufs: Buffer[], len: number) => {
    const text = Buffer.concat(bufs).subarray(0, max).toString('utf8');
    return len > max ? `${text}\n[... ${len - max} more bytes not kept]` : text;
  };
  return {
    command: label,
    exitCode,
    signal,
    stdout: cut(out, outLen),
    stderr: cut(errs, errLen),
    ms: Math.round(performance.now() - started),
    timedOut,
    ...(spawnError ? { spawnError } : {}),
  };
}

/** Run through `sh -c`, for user-written command lines. */
export function runShell(commandLine: string, opts: SpawnOptions = {}): Promise<ProcessResult> {
  return runProcess('sh', ['-c', commandLine], opts).then((r) => ({ ...r, command: commandLine }));
}
