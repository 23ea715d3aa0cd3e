// Small REAL servers for the step tests: a `ws` WebSocketServer and a node `http` server on
// 127.0.0.1:0, each released in t.after. A Recorder keeps what a server saw, with a deadline-bound
// wait (no fixed sleeps). `lineOf` finds the line of a marker in a gates text, for loc assertions.
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { WebSocketServer, type WebSocket, type ServerOptions } from 'ws';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './cli.ts';

/** `node WAIT_FOR_FILE FILE`: a run step that holds a gate until the test creates FILE (see the script). */
export const WAIT_FOR_FILE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'wait-for-file.cjs',
);

export class Recorder<T> {
  readonly items: T[] = [];
  private ev = new EventEmitter();
  push(item: T): void {
    this.items.push(item);
    this.ev.emit('item');
  }
  waitFor(pred: (items: T[]) => boolean, what: string, ms = 5000): Promise<T[]> {
    if (pred(this.items)) return Promise.resolve(this.items);
    return new Promise((resolve, reject) => {
      const onItem = () => {
        if (!pred(this.items)) return;
        clearTimeout(timer);
        this.ev.off('item', onItem);
        resolve(this.items);
      };
      const timer = setTimeout(() => {
        this.ev.off('item', onItem);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; saw ${JSON.stringify(this.items)}`));
      }, ms);
      this.ev.on('item', onItem);
    });
  }
}

export interface WsFixture {
  url: string;
  port: number;
  wss: WebSocketServer;
  /** Every text frame the server received, in order, as sent (byte-exact). */
  received: Recorder<{ conn: number; text: string }>;
  /** Every upgrade request and close seen. */
  upgrades: IncomingMessage[];
  closes: Recorder<{ conn: number; code: number; reason: string }>;
}

/**
 * A WebSocketServer whose behaviour is `onConn(ws, n, req)`; `n` counts connections from 0.
 * Received frames and closes are recorded before `onConn`'s own handlers run.
 */
export async function wsServer(
  t: TestContext,
  onConn: (ws: WebSocket, n: number, req: IncomingMessage, fx: WsFixture) => void,
  opts: ServerOptions = {},
): Promise<WsFixture> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...opts });
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const fx: WsFixture = {
    url: `ws://127.0.0.1:${port}`,
    port,
    wss,
    received: new Recorder(),
    upgrades: [],
    closes: new Recorder(),
  };
  let n = 0;
  wss.on('connection', (ws, req) => {
    const i = n++;
    fx.upgrades.push(req);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) fx.received.push({ conn: i, text: data.toString('utf8') });
    });
    ws.on('close', (code, reason) => fx.closes.push({ conn: i, code, reason: reason.toString('utf8') }));
    onConn(ws, i, req, fx);
  });
  t.after(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  return fx;
}

/** Reply to each JSON message with `reply(msg, ws)`'s messages (objects are JSON-encoded, strings sent raw). */
export function jsonReplies(
  reply: (msg: Record<string, unknown>, ws: WebSocket) => (object | string)[],
): (ws: WebSocket) => void {
  return (ws) => {
    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      } catch {
        return;
      }
      for (const m of reply(msg, ws)) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    });
  };
}

/** A node http server; resolves to its base URL. Sockets are destroyed in t.after. */
export async function httpServer(
  t: TestContext,
  handler: http.RequestListener,
): Promise<{ url: string; port: number; server: http.Server }> {
  const server = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, server };
}

/**
 * A port that nothing listens on and nothing else can take while the test process lives: the local
 * end of a connected client socket. A port merely bound and released could be handed to another test's
 * server (tests run in parallel), and a connect meant to be refused would reach that server instead.
 */
export async function closedPort(): Promise<number> {
  const holder = net.createServer((accepted) => accepted.unref());
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const client = net.connect((holder.address() as AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  // Held until the process exits, without keeping it alive.
  holder.unref();
  client.unref();
  return client.localPort!;
}

/** Lowest port the kernel hands out on its own (to outgoing connections and to listen(0)). */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free port for a backend the test starts to bind, taken below the kernel's ephemeral range: a port
 * from inside it can become the local end of another test's outgoing connection (or another listen(0))
 * before the backend binds it, and the backend then fails with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const low = 10_000;
  const high = ephemeralLow() - 1;
  for (let i = 0; i < 50 && high > low; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  // No room below the ephemeral range on this machine: the kernel's own pick, with the old race.
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const SLOW_START = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'slow-start.cjs');

/**
 * Runs `fn` with every node child started meanwhile (wscat) spending `ms` of CPU before its program
 * loads. It changes this process's environment: call it only where no other test runs concurrently.
 */
export async function withSlowChildStart<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, SLOW_START_MS: process.env.SLOW_START_MS };
  process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ''} --require ${JSON.stringify(SLOW_START)}`.trim();
  process.env.SLOW_START_MS = String(ms);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A temp folder removed in t.after. */
export function tmp(t: TestContext, prefix = 'wsgate-steps-'): string {
  const d = tempDir(prefix);
  t.after(() => d.remove());
  return d.path;
}

/** 1-based line of the first line of `yaml` containing `marker` (throws if absent, so a typo cannot pass). */
export function lineOf(yaml: string, marker: string): number {
  const i = yaml.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker ${JSON.stringify(marker)} not in the gates text`);
  return i + 1;
}

/**
 * A gates file with one gate `g` whose steps are the given YAML lines (indented under `steps:`).
 * The default deadline is 15 s so a loaded machine (many wscat processes at once) cannot fail a
 * test that should pass; a test about a deadline sets `within:` itself.
 */
export function oneGate(steps: string, head = ''): string {
  head = head.startsWith('defaults: {')
    ? head.replace('defaults: {', 'defaults: {timeout: 15s, ')
    : `defaults: {timeout: 15s}\n${head}`;
  const lines = steps.replace(/^\n/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  const body = lines.map((l) => (l.trim() ? '      ' + l.slice(indent) : '')).join('\n');
  return `version: 1\n${head}gates:\n  - id: g\n    title: test gate\n    steps:\n${body}\n`;
}

/**
 * Whether a process is still running: `process.kill(pid, 0)` throws once it is gone. A killed
 * grandchild is reparented to PID 1, which in some containers reaps slowly, so a zombie (state Z in
 * /proc/PID/stat: dead, only its exit status is left) also counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc (not Linux): the signal probe said it exists
  }
}

/**
 * Resolves to `pred()` once it holds or `ms` have passed. For state with no event to wait on (the
 * process table, a file another process writes): probes with backoff up to the deadline.
 */
export async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  let delay = 5;
  while (!pred() && performance.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, end - performance.now()))));
    delay = Math.min(delay * 2, 100);
  }
  return pred();
}

/**
 * Wait until `pid` is gone, up to `ms`. A process sent SIGKILL is gone only once the kernel has run
 * its exit, which on a loaded machine can trail the signal. Resolves to whether it is gone.
 */
export function waitGone(pid: number, ms = 3000): Promise<boolean> {
  return until(() => !isAlive(pid), ms);
}
