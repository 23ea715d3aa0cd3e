// The only module that knows wscat's flags and how it behaves with piped stdio
// (../shared/wscat-field-notes.md): stdin stays open for the connection's life, the socket is known
// open only once a `/ping` probe is answered, prompts are counted, and errors become typed values.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { spawnChild, stopTree } from './process.ts';
import { WscatStreamParser, type StreamItem } from './wscat-stream.ts';

export interface ConnectOptions {
  url: string;
  headers?: Record<string, string>;
  subprotocols?: string[];
  origin?: string;
  /** `user:pass` for HTTP basic auth. */
  auth?: string;
  /** Skip TLS certificate checks (wscat -n). */
  insecure?: boolean;
  ca?: string;
  followRedirects?: boolean;
  /** Deadline for the socket to open. */
  openTimeoutMs: number;
}

export type ConnectionErrorCode = 'REFUSED' | 'DNS' | 'TLS' | 'HTTP_STATUS' | 'TIMEOUT' | 'RESET' | 'CLOSED' | 'CANCELLED' | 'WSCAT_MISSING' | 'OTHER';

/**
 * A socket that did not open within `openTimeoutMs`: either the handshake never finished or the server
 * does not answer WebSocket pings (RFC 6455 says it must). `ms` is how long the attempt really took.
 */
export function openTimeout(openTimeoutMs: number, ms: number, stderr = ''): ConnectionFailure {
  return { code: 'TIMEOUT', message: `the socket did not open within ${openTimeoutMs} ms (no answer to the WebSocket ping probe)`, stderr, exitCode: null, ms };
}

/** Bounds on an opening connection besides its own openTimeoutMs. */
export interface OpenControl {
  /** performance.now() by which the socket must be open (a connect step's deadline). */
  deadline?: number;
  /** Stop trying and end the wscat (a pre-opened spare nobody will use). */
  signal?: AbortSignal;
}

export interface ConnectionFailure {
  code: ConnectionErrorCode;
  message: string;
  httpStatus?: number;
  stderr: string;
  exitCode: number | null;
  ms: number;
}

export interface Frame {
  seq: number;
  /** Epoch milliseconds when the harness read it. */
  at: number;
  text: string;
  json: unknown;
  isJson: boolean;
}

export type FrameWait = { kind: 'frame'; frame: Frame } | { kind: 'closed'; info: CloseInfo } | { kind: 'timeout' };

export interface CloseInfo {
  exitCode: number | null;
  signal: string | null;
  error?: ConnectionFailure;
  /** True when the harness asked for the close. */
  byClient: boolean;
}

/** What the sender knows about a frame: raw lines and deliberate protocol breaks are not validated. */
export interface SendMeta {
  raw?: boolean;
  offProtocol?: boolean;
}

export interface ConnectionHooks {
  onFrameIn?(frame: Frame): void;
  onFrameOut?(text: string, at: number, meta: SendMeta): void;
  onStderr?(text: string): void;
}

let resolvedBin: string | null | undefined;
export function wscatBinPath(): string | null {
  if (resolvedBin !== undefined) return resolvedBin;
  try {
    const p = createRequire(import.meta.url).resolve('wscat/bin/wscat');
    resolvedBin = existsSync(p) ? p : null;
  } catch {
    resolvedBin = null;
  }
  return resolvedBin;
}

export function wscatVersion(): string {
  try {
    return (createRequire(import.meta.url)('wscat/package.json') as { version: string }).version;
  } catch {
    return 'missing';
  }
}

/**
 * wscat's environment. Node 20 parses every certificate named by NODE_EXTRA_CA_CERTS when it starts,
 * TLS or not: with the Debian bundle that is ~60 ms of CPU per wscat, a third of its start-up. A
 * connection that can never meet TLS (ws://, no redirects) goes without it; wss:// keeps it, since a
 * private CA may be exactly what it is for.
 */
export function wscatEnv(opts: ConnectOptions, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, NO_COLOR: '1', FORCE_COLOR: '0' };
  if (/^ws:\/\//i.test(opts.url) && !opts.followRedirects) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export function wscatArgs(opts: ConnectOptions): string[] {
  const args = ['-c', opts.url, '-P', '--slash'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  for (const p of opts.subprotocols ?? []) args.push('-s', p);
  if (opts.origin) args.push('-o', opts.origin);
  if (opts.auth) args.push('--auth', opts.auth);
  if (opts.insecure) args.push('-n');
  if (opts.ca) args.push('--ca', opts.ca);
  if (opts.followRedirects) args.push('-L');
  return args;
}

export function classifyError(stderr: string, exitCode: number | null, ms: number): ConnectionFailure {
  const line = stderr.split('\n').find((l) => l.startsWith('error: '))?.slice(7) ?? stderr.trim();
  const base = { stderr, exitCode, ms };
  const status = /Unexpected server response: (\d+)/.exec(line);
  if (status) return { ...base, code: 'HTTP_STATUS', httpStatus: Number(status[1]), message: `upgrade refused with HTTP ${status[1]}` };
  if (/ECONNREFUSED/.test(line)) return { ...base, code: 'REFUSED', message: `connection refused (${line})` };
  if (/ENOTFOUND|EAI_AGAIN/.test(line)) return { ...base, code: 'DNS', message: `host name not found (${line})` };
  if (/certificate|self[- ]signed|SSL|TLS|CERT_|EPROTO/i.test(line)) return { ...base, code: 'TLS', message: `TLS failure: ${line}` };
  if (/ETIMEDOUT|timed out/i.test(line)) return { ...base, code: 'TIMEOUT', message: `connection timed out (${line})` };
  if (/ECONNRESET|socket hang up/i.test(line)) return { ...base, code: 'RESET', message: `connection reset (${line})` };
  if (line) return { ...base, code: 'OTHER', message: line };
  // wscat exits 0 without an error line only from its socket 'close' handler (handshake failures
  // go through 'error' and exit non-zero), so the handshake did complete: the old text "before the
  // socket opened" sent people looking for a handshake problem when the server had hung up on them.
  if (exitCode === 0) return { ...base, code: 'CLOSED', message: 'the server closed the connection right after the WebSocket handshake, before it answered the ping probe' };
  return { ...base, code: 'CLOSED', message: `wscat exited with code ${exitCode} before the socket opened` };
}

const PROBE = 'wsgate-probe-';
const RECENT = 12;

export class WscatConnection {
  name: string;
  private child!: ChildProcess;
  private parser: WscatStreamParser;
  private inbox: Frame[] = [];
  private waiter: ((w: FrameWait) => void) | null = null;
  private seq = 0;
  private stderrText = '';
  private closeInfo: CloseInfo | null = null;
  private closeRequested = false;
  private exited: Promise<void>;
  private markExited!: () => void;
  private probeWritten = 0;
  private firstPong: number | null = null;
  private onPong: (() => void) | null = null;
  readonly recent: Frame[] = [];
  framesIn = 0;
  framesOut = 0;
  openedMs = 0;

  private constructor(name: string, private hooks: ConnectionHooks) {
    this.name = name;
    this.parser = new WscatStreamParser((item) => this.onItem(item));
    this.exited = new Promise((r) => (this.markExited = r));
  }

  /** Spawn wscat and wait until the socket is open, or return why it could not open. */
  static async open(name: string, opts: ConnectOptions, hooks: ConnectionHooks = {}, control: OpenControl = {}): Promise<{ ok: true; conn: WscatConnection } | { ok: false; error: ConnectionFailure }> {
    const started = performance.now();
    const bin = wscatBinPath();
    if (!bin) return { ok: false, error: { code: 'WSCAT_MISSING', message: 'wscat is not installed (run npm ci)', stderr: '', exitCode: null, ms: 0 } };
    const conn = new WscatConnection(name, hooks);
    conn.child = spawnChild(process.execPath, [bin, ...wscatArgs(opts)], { env: wscatEnv(opts) });
    conn.wire();
    const opened = await conn.probe(Math.min(started + opts.openTimeoutMs, control.deadline ?? Infinity), control.signal);
    const ms = Math.round(performance.now() - started);
    if (opened) {
      conn.openedMs = ms;
      return { ok: true, conn };
    }
    if (conn.closeInfo) {
      const error = classifyError(conn.stderrText, conn.closeInfo.exitCode, ms);
      return { ok: false, error };
    }
    // A wscat still waiting for its handshake does not end at stdin EOF: stop it now.
    conn.closeRequested = true;
    await stopTree(conn.child, 300);
    if (control.signal?.aborted) return { ok: false, error: { code: 'CANCELLED', message: 'cancelled before the socket opened', stderr: conn.stderrText, exitCode: null, ms } };
    return { ok: false, error: openTimeout(opts.openTimeoutMs, ms, conn.stderrText) };
  }

  private wire(): void {
    const child = this.child;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => this.parser.push(s));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderrText = (this.stderrText + s).slice(-64 * 1024);
      this.hooks.onStderr?.(s);
    });
    child.stdin!.on('error', () => undefined); // wscat may exit while we write
    child.once('close', (exitCode, signal) => {
      this.parser.end();
      const err = exitCode !== 0 && !this.closeRequested ? classifyError(this.stderrText, exitCode, 0) : undefined;
      this.closeInfo = { exitCode, signal, byClient: this.closeRequested, ...(err ? { error: err } : {}) };
      this.wake({ kind: 'closed', info: this.closeInfo });
      this.onPong?.();
      this.markExited();
    });
  }

  private async probe(deadline: number, signal?: AbortSignal): Promise<boolean> {
    let delay = 5;
    const gotPong = new Promise<void>((r) => (this.onPong = r));
    const onAbort = () => this.onPong?.();
    signal?.addEventListener('abort', onAbort);
    while (this.firstPong === null && !this.closeInfo && !signal?.aborted) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      this.writeLine(`/ping ${PROBE}${this.probeWritten++}`);
      // Backoff: a pong usually arrives within a few ms of the socket opening.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gotPong, new Promise<void>((r) => (timer = setTimeout(r, Math.min(delay, left))))]);
      clearTimeout(timer);
      delay = Math.min(delay * 2, 100);
    }
    this.onPong = null;
    signal?.removeEventListener('abort', onAbort);
    return this.firstPong !== null && !this.closeInfo && !signal?.aborted;
  }

  private onItem(item: StreamItem): void {
    if (item.kind === 'pong') {
      if (item.data.startsWith(PROBE) && this.firstPong === null) {
        const n = Number(item.data.slice(PROBE.length));
        this.firstPong = n;
        // Probes written before the socket opened were dropped by wscat without a prompt.
        this.parser.removePromptCredits(n);
        this.onPong?.();
      }
      return;
    }
    if (item.kind === 'ping') return;
    const frame: Frame = { seq: this.seq++, at: Date.now(), text: item.text, json: item.json, isJson: item.isJson };
    this.framesIn++;
    this.recent.push(frame);
    if (this.recent.length > RECENT) this.recent.shift();
    this.hooks.onFrameIn?.(frame);
    if (this.waiter) this.wake({ kind: 'frame', frame });
    else this.inbox.push(frame);
  }

  private wake(w: FrameWait): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.(w);
  }

  private writeLine(line: string): void {
    if (this.closeInfo || !this.child.stdin!.writable) return;
    this.parser.addPromptCredits(1);
    this.child.stdin!.write(line + '\n');
  }

  get isOpen(): boolean {
    return this.closeInfo === null;
  }

  get closed(): CloseInfo | null {
    return this.closeInfo;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Send one text frame. Returns false when the connection is already closed. */
  send(text: string, meta: SendMeta = {}): boolean {
    if (this.closeInfo) return false;
    const at = Date.now();
    this.writeLine(text);
    this.framesOut++;
    this.hooks.onFrameOut?.(text, at, meta);
    return true;
  }

  /** The next unread frame, or the close, or nothing before the deadline (epoch-free ms from performance.now()). */
  next(deadline: number): Promise<FrameWait> {
    const frame = this.inbox.shift();
    if (frame) return Promise.resolve({ kind: 'frame', frame });
    if (this.closeInfo) return Promise.resolve({ kind: 'closed', info: this.closeInfo });
    const left = deadline - performance.now();
    if (left <= 0) return Promise.resolve({ kind: 'timeout' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve({ kind: 'timeout' });
      }, left);
      this.waiter = (w) => {
        clearTimeout(timer);
        resolve(w);
      };
    });
  }

  /**
   * Hand a pre-opened connection to its user: new hooks from now on, and the frames it already
   * received (still unread) replayed to them so the transcript misses nothing.
   */
  adopt(hooks: ConnectionHooks, stderrSoFar = true): void {
    this.hooks = hooks;
    for (const f of this.inbox) hooks.onFrameIn?.(f);
    if (stderrSoFar && this.stderrText) hooks.onStderr?.(this.stderrText);
  }

  rename(name: string): void {
    this.name = name;
  }

  /**
   * Drop the frames no step has read yet: what a step sends is answered by what comes after it, and a
   * leftover `message_complete` or `error` of an earlier exchange must not stand in for the reply.
   * They stay in the transcript (recorded on arrival). Returns how many were dropped.
   */
  discardUnread(): number {
    const n = this.inbox.length;
    this.inbox = [];
    return n;
  }

  /** Unread frames, for reports. */
  get unread(): readonly Frame[] {
    return this.inbox;
  }

  /** Ask wscat to close the socket (`/close CODE REASON`) and wait for it to exit. */
  async close(code = 1000, reason = '', timeoutMs = 2000): Promise<CloseInfo> {
    if (this.closeInfo) return this.closeInfo;
    this.closeRequested = true;
    this.writeLine(`/close ${code}${reason ? ' ' + reason : ''}`);
    const timer = setTimeout(() => void stopTree(this.child, 500), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return this.closeInfo!;
  }

  /** Wait for the server to close the socket. */
  async waitClosed(deadline: number): Promise<CloseInfo | null> {
    if (this.closeInfo) return this.closeInfo;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((r) => (timer = setTimeout(() => r(null), Math.max(0, deadline - performance.now()))));
    const res = await Promise.race([this.exited.then(() => this.closeInfo), timedOut]);
    clearTimeout(timer);
    return res;
  }

  /** End the process whatever its state; safe to call twice. */
  async dispose(): Promise<void> {
    if (!this.closeInfo) {
      this.closeRequested = true;
      this.child.stdin!.end(); // wscat exits at stdin EOF, after sending the lines still in the pipe
      // A healthy wscat exits within milliseconds, so the grace costs nothing; it is long because a
      // wscat starved of CPU must still get to send a gate's last fire-and-forget frames.
      const timer = setTimeout(() => void stopTree(this.child, 300), 2000);
      await this.exited;
      clearTimeout(timer);
    }
    await stopTree(this.child, 300);
  }
}
