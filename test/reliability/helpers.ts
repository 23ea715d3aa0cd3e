// Shared by the reliability tests: real servers on 127.0.0.1:0, the real CLI as a child process
// (with its pid, so the process table can be checked), /proc readers, and output assertions.
// No fixed sleeps: every wait is on an event or a condition, with a deadline.
import { once, EventEmitter } from 'node:events';
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import os from 'node:os';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { WebSocketServer, type WebSocket, type ServerOptions } from 'ws';
import { spawnChild, stopTree } from '../../lib/os/process.ts';
import { BIN, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import type { ProcessResult } from '../../lib/os/process.ts';

export { ROOT, BIN };

/** A temp folder, removed by the returned cleanup list's owner. */
export function makeTmp(cleanups: (() => void)[], prefix = 'wsgate-rel-'): string {
  const t = tempDir(prefix);
  cleanups.push(t.remove);
  return t.path;
}

export function writeGates(dir: string, yaml: string, name = 'gates.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/**
 * Slack for wall-time bounds: twice `base` at least, scaled by the 1-minute load per core (the test
 * machine is shared: other suites may run beside this one), capped so a hang still fails. The load
 * average lags a sudden burst (npm test starting, 50 wscat processes at once), hence the floor of 2.
 */
export function slack(base: number, cap = 45_000): number {
  const perCore = os.loadavg()[0]! / Math.max(1, os.cpus().length);
  return Math.min(Math.round(base * Math.max(2, perCore)), cap);
}

/** The real CLI (`node bin/wsgate.js run ...`), timed. */
export async function timedCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ProcessResult & { wallMs: number }> {
  const t0 = performance.now();
  const r = await runCli(['run', ...args], opts);
  return { ...r, wallMs: Math.round(performance.now() - t0) };
}

/** Output a person reads must never carry a stack trace or an internal error. */
export function assertNoStackTrace(text: string): void {
  assert.doesNotMatch(
    text,
    /^\s+at .+(:\d+:\d+\)?|\(native\)|\(node:[^)]*\))$/m,
    `stack trace in output:\n${text.slice(0, 4000)}`,
  );
  assert.doesNotMatch(
    text,
    /internal error|harness error|Unhandled|uncaught|TypeError|RangeError|ReferenceError/i,
    `internal error in output:\n${text.slice(0, 4000)}`,
  );
}

export interface WsFixture {
  url: string;
  port: number;
  wss: WebSocketServer;
  upgrades: IncomingMessage[];
  received: string[];
  close(): Promise<void>;
}

/** A `ws` WebSocketServer on 127.0.0.1:0 (or on a given http/https server) whose behaviour is onConn. */
export async function wsServer(
  onConn: (ws: WebSocket, req: IncomingMessage, fx: WsFixture) => void,
  opts: ServerOptions = {},
): Promise<WsFixture> {
  const wss = opts.server ? new WebSocketServer(opts) : new WebSocketServer({ host: '127.0.0.1', port: 0, ...opts });
  const srv = (opts.server ?? wss) as unknown as EventEmitter & { address(): AddressInfo | string | null };
  if (!opts.server) await once(wss, 'listening');
  const port = (srv.address() as AddressInfo).port;
  const scheme = opts.server && 'setSecureContext' in opts.server ? 'wss' : 'ws';
  const fx: WsFixture = {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    wss,
    upgrades: [],
    received: [],
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      if (opts.server) {
        const server = opts.server as HttpServer;
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    },
  };
  wss.on('connection', (ws, req) => {
    fx.upgrades.push(req);
    ws.on('error', () => undefined); // a hostile server must not crash the test process either
    ws.on('message', (data, isBinary) => {
      if (!isBinary) fx.received.push(data.toString('utf8'));
    });
    onConn(ws, req, fx);
  });
  return fx;
}

// ---- the process table ----------------------------------------------------------------------------

export interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  /** Clock ticks since boot: tells a live process from a later one that reused its pid. */
  start: string;
  cmdline: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The comm field is in parentheses and may itself hold spaces or parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state === 'Z' || state === 'X') return undefined; // a zombie is dead, only not yet reaped
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(rest[1]), pgid: Number(rest[2]), start: rest[19]!, cmdline };
  } catch {
    return undefined; // exited while we looked
  }
}

/** Every live (non-zombie) process on the machine. */
export function processTable(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out;
}

/** Every descendant of `root` (children, their children, ...), plus every member of their process groups. */
export function descendantsOf(root: number, table = processTable()): Proc[] {
  const found = new Map<number, Proc>();
  let frontier = [root];
  while (frontier.length) {
    const next: number[] = [];
    for (const p of table)
      if (frontier.includes(p.ppid) && !found.has(p.pid)) {
        found.set(p.pid, p);
        next.push(p.pid);
      }
    frontier = next;
  }
  const groups = new Set([...found.values()].map((p) => p.pgid));
  for (const p of table) if (groups.has(p.pgid) && p.pid !== root && !found.has(p.pid)) found.set(p.pid, p);
  return [...found.values()];
}

/** Those of `procs` still alive (same pid and same start time), or any process whose cmdline has `marker`. */
export function survivors(procs: Proc[], markers: string[] = []): Proc[] {
  const table = processTable();
  const byPid = new Map(table.map((p) => [p.pid, p]));
  const alive = procs.filter((p) => byPid.get(p.pid)?.start === p.start);
  const marked = table.filter(
    (p) => p.pid !== process.pid && markers.some((m) => p.cmdline.includes(m)) && !alive.some((a) => a.pid === p.pid),
  );
  return [...alive, ...marked];
}

/** Poll `survivors` with backoff until none is left or the deadline passes (the kernel reaps asynchronously). */
export async function waitNoSurvivors(procs: Proc[], markers: string[], deadlineMs = 5000): Promise<Proc[]> {
  const end = performance.now() + deadlineMs;
  let delay = 10;
  for (;;) {
    const left = survivors(procs, markers);
    if (left.length === 0 || performance.now() >= end) return left;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
}

// ---- the CLI as a child we hold the pid of -----------------------------------------------------------

export interface LiveCli {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `re`; rejects at the deadline or if the CLI exits first. */
  waitStdout(re: RegExp, ms: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; wallMs: number }>;
  /** Collects the CLI's descendants seen while it ran (sampled at every stdout chunk and on demand). */
  seen: Map<number, Proc>;
  sample(): void;
  kill(): Promise<void>;
}

export function spawnCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): LiveCli {
  const t0 = performance.now();
  const child = spawnChild(process.execPath, [BIN, 'run', ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let out = '';
  let err = '';
  const ev = new EventEmitter();
  const seen = new Map<number, Proc>();
  const sample = () => {
    // Latest wins: a child sampled between fork and exec still shows its parent's command line.
    for (const p of descendantsOf(pid)) seen.set(p.pid, p);
  };
  // Also sample on a timer: on a loaded machine stdout chunks can arrive only after the run has
  // already stopped its children, and a process never sampled could not be shown to be gone.
  const sampler = setInterval(sample, 25);
  child.once('exit', () => clearInterval(sampler));
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => {
    out += s;
    sample();
    ev.emit('out');
  });
  child.stderr!.on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; wallMs: number }>((resolve) => {
    child.once('close', (code, signal) => {
      ev.emit('exit');
      resolve({ code, signal, wallMs: Math.round(performance.now() - t0) });
    });
  });
  return {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    seen,
    sample,
    exited,
    kill: () => stopTree(child, 500),
    waitStdout(re, ms) {
      if (re.test(out)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const done = (e?: Error) => {
          clearTimeout(timer);
          ev.off('out', onOut);
          ev.off('exit', onExit);
          if (e) reject(e);
          else resolve();
        };
        const onOut = () => {
          if (re.test(out)) done();
        };
        const onExit = () => done(new Error(`the CLI exited before its output matched ${re}:\n${out}\n${err}`));
        const timer = setTimeout(
          () => done(new Error(`no ${re} in the CLI's output within ${ms} ms:\n${out}\n${err}`)),
          ms,
        );
        ev.on('out', onOut);
        ev.on('exit', onExit);
      });
    },
  };
}

/** Every file under `dir` (recursively), as [relative path, content]. */
export function readTree(dir: string): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? path.join(rel, e.name) : e.name;
      if (e.isDirectory()) walk(r);
      else if (statSync(path.join(dir, r)).isFile()) out.push([r, readFileSync(path.join(dir, r))]);
    }
  };
  walk('');
  return out;
}
