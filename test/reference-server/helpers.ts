import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, type ClientOptions } from 'ws';
import { spawnChild, stopTree } from '../../lib/os/process.ts';
import { startReferenceServer, type RunningServer, type ServerOptions } from '../../reference-server/index.ts';

// Loose on purpose: tests inspect whatever the server sent, including fields it should not have.
// biome-ignore lint/suspicious/noExplicitAny: server frames are read field by field in assertions; each test narrows what it reads
export type Msg = { type?: string; [key: string]: any };

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_DEADLINE_MS = 5000;

export async function tempDir(prefix = 'wsgate-rs-test-', parent = os.tmpdir()): Promise<string> {
  return fs.realpath(await fs.mkdtemp(path.join(parent, prefix)));
}

export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}

/** A real repository with a local identity, so commits work whatever the machine's git config. */
export async function makeRepo(parent?: string): Promise<string> {
  const dir = await tempDir('wsgate-rs-project-', parent);
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.name', 'Test User']);
  git(dir, ['config', 'user.email', 'test@example.com']);
  git(dir, ['config', 'commit.gpgsign', 'false']);
  return dir;
}

export async function removeDirs(...dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
}

/** A server on a free port with its data and logs in their own temp folder. */
export async function startTestServer(
  opts: ServerOptions & { root: string },
): Promise<RunningServer & { cleanup(): Promise<void> }> {
  const dataDir = opts.dataDir ?? (await tempDir('wsgate-rs-data-'));
  const server = await startReferenceServer({ port: 0, ...opts, dataDir }).catch(async (error: unknown) => {
    if (!opts.dataDir) await removeDirs(dataDir);
    throw error;
  });
  return {
    ...server,
    async cleanup() {
      await server.close();
      if (!opts.dataDir) await removeDirs(dataDir);
    },
  };
}

export interface ServerHarness {
  project: string;
  server: Awaited<ReturnType<typeof startTestServer>>;
  client: Client;
}

/**
 * A server on `root` (default: a fresh repository, removed afterwards) and one client past the welcome;
 * all torn down after `body`, whether it passed or threw.
 */
export async function withServer<T>(
  opts: Omit<ServerOptions, 'root'> & { root?: string },
  body: (h: ServerHarness) => Promise<T>,
): Promise<T> {
  const project = opts.root ?? (await makeRepo());
  const server = await startTestServer({ ...opts, root: project });
  let client: Client | undefined;
  try {
    client = await Client.ready(server.url);
    return await body({ project, server, client });
  } finally {
    await client?.close();
    await server.cleanup();
    if (opts.root === undefined) await removeDirs(project);
  }
}

interface Waiter {
  check(): boolean;
}

/** A real ws client that records every frame and lets a test wait for one with a deadline. */
export class Client {
  readonly frames: string[] = [];
  readonly messages: Msg[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly waiters = new Set<Waiter>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      this.frames.push(text);
      let parsed: Msg;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { type: undefined, raw: text };
      }
      this.messages.push(parsed);
      this.notify();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
  }

  static connect(url: string, options?: ClientOptions): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options);
      const client = new Client(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  /** Connects and waits for the welcome, so later waits never see it by accident. */
  static async ready(url: string, options?: ClientOptions): Promise<Client> {
    const client = await Client.connect(url, options);
    await client.waitFor((m) => m.type === 'connected');
    return client;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) if (waiter.check()) this.waiters.delete(waiter);
  }

  send(message: unknown): number {
    const mark = this.messages.length;
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
    return mark;
  }

  /** Resolves with the first message from index `from` on that matches; rejects at the deadline. */
  waitFor(predicate: (m: Msg) => boolean, from = 0, deadlineMs = DEFAULT_DEADLINE_MS): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          for (let i = from; i < this.messages.length; i++) {
            if (predicate(this.messages[i])) {
              clearTimeout(timer);
              resolve(this.messages[i]);
              return true;
            }
          }
          if (this.closed) {
            clearTimeout(timer);
            reject(
              new Error(`socket closed (${this.closed.code}) before the awaited message; got ${this.describe(from)}`),
            );
            return true;
          }
          return false;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching message within ${deadlineMs} ms; got ${this.describe(from)}`));
      }, deadlineMs);
      if (!waiter.check()) this.waiters.add(waiter);
    });
  }

  /** Sends and returns everything received up to and including the first message matching `until`. */
  async exchange(message: unknown, until: (m: Msg) => boolean, deadlineMs?: number): Promise<Msg[]> {
    const from = this.send(message);
    const last = await this.waitFor(until, from, deadlineMs);
    return this.messages.slice(from, this.messages.indexOf(last, from) + 1);
  }

  /** One chat turn: all messages up to message_complete (or an error reply). */
  chat(text: string, deadlineMs?: number): Promise<Msg[]> {
    return this.exchange(
      { type: 'message', message: text },
      (m) => m.type === 'message_complete' || m.type === 'error',
      deadlineMs,
    );
  }

  /**
   * Proves a negative without sleeping: the server handles one connection's messages in order, so once
   * the reply to a list_sessions sent now arrives, everything earlier has been fully answered.
   */
  async settle(): Promise<void> {
    const nonce = `settle-${Math.random()}`;
    const from = this.send({ type: 'list_sessions', nonce });
    await this.waitFor((m) => m.type === 'sessions_list', from);
  }

  waitForClose(deadlineMs = DEFAULT_DEADLINE_MS): Promise<{ code: number; reason: string }> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (!this.closed) return false;
          clearTimeout(timer);
          resolve(this.closed);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`socket still open after ${deadlineMs} ms`));
      }, deadlineMs);
      if (!waiter.check()) this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.socket.terminate();
    await this.waitForClose();
  }

  private describe(from: number): string {
    return JSON.stringify(this.messages.slice(from).map((m) => m.type ?? m.raw));
  }
}

/** Resolves with the HTTP status of a refused upgrade; rejects if the upgrade succeeds or nothing is decided in time. */
export function upgradeStatus(url: string, options?: ClientOptions, deadlineMs = DEFAULT_DEADLINE_MS): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`upgrade neither refused nor accepted within ${deadlineMs} ms`));
    }, deadlineMs);
    socket.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    socket.on('open', () => {
      clearTimeout(timer);
      socket.terminate();
      reject(new Error('upgrade unexpectedly accepted'));
    });
    socket.on('error', () => {});
  });
}

export async function sessionFor(client: Client, projectPath: string): Promise<string> {
  const [reply] = (
    await client.exchange(
      { type: 'init_session', projectPath },
      (m) => m.type === 'session_initialized' || m.type === 'error',
    )
  ).slice(-1);
  if (reply.type !== 'session_initialized') throw new Error(`init_session failed: ${JSON.stringify(reply)}`);
  return reply.sessionId;
}

export function ofType(messages: Msg[], type: string): Msg[] {
  return messages.filter((m) => m.type === type);
}

const WSCAT = fileURLToPath(new URL('../../node_modules/.bin/wscat', import.meta.url));

export interface WscatOutcome {
  /** The welcome arrived and a ping got its pong through the real wscat. */
  ponged: boolean;
  stderr: string;
}

/**
 * The real wscat as a user runs it: stdin held open (at EOF wscat quits before connecting), the ping
 * written only once the welcome shows the socket is open (earlier lines are lost). Stops wscat either way.
 */
export async function wscatPing(url: string, extraArgs: string[] = [], deadlineMs = 15_000): Promise<WscatOutcome> {
  const child = spawnChild(WSCAT, ['-c', url, ...extraArgs]);
  let stdout = '';
  let stderr = '';
  let sent = false;
  try {
    const ponged = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), deadlineMs);
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        if (!sent && stdout.includes('"type":"connected"')) {
          sent = true;
          child.stdin!.write('{"type":"ping"}\n');
        }
        if (stdout.includes('"type":"pong"')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    return { ponged, stderr };
  } finally {
    child.stdin!.destroy();
    await stopTree(child, 500);
  }
}

/** A raw HTTP request with exactly the headers given (fetch would add or forbid some, such as Host). */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, setHost: opts.headers?.host === undefined },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(DEFAULT_DEADLINE_MS, () => req.destroy(new Error(`no answer within ${DEFAULT_DEADLINE_MS} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
