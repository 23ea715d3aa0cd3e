// The only module that knows wscat's flags and how it behaves with piped stdio (docs/wscat.md): stdin
// stays open for the connection's life, an observer loaded into wscat (observer.cjs) tells when the socket opened and how it closed (code, reason), one `/ping`
// probe after the open proves the server is reading, prompts are counted, errors become typed values,
// and the frames received wait in an inbox until a step consumes them.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { spawnChild, stopTree } from '../os/process.ts';
import { originKey, serverTokenFor, WSCAT_TOKEN_ENV } from '../os/server-tokens.ts';
import { WscatStreamParser, type StreamItem } from './stream.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { stallMeter, stretchedDeadline } from '../os/stall.ts';
import { RUN_BUDGET, type HeldBudget, type Holder } from './budget.ts';
import type { ConnectionEvent, Frame, OpenInfo } from '../types/frames.ts';
import { describeCloseCode } from '../util/close-code.ts';

// The connection's data types live in lib/types (evidence and matching read them without loading
// wscat); they are named here too for the modules that use them with a connection.
export type { ConnectionEvent, Frame, OpenInfo };

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
  /** The run's memory budget for frames held, shared by every connection (default: this process's RUN_BUDGET). */
  budget?: HeldBudget;
}

/** A wscat that has not begun its handshake by then is not going to: the machine itself is failing. */
export const WSCAT_START_MAX_MS = 30_000;

export type ConnectionErrorCode =
  | 'REFUSED'
  | 'DNS'
  | 'TLS'
  | 'HTTP_STATUS'
  | 'SUBPROTOCOL_DECLINED'
  | 'TIMEOUT'
  | 'RESET'
  | 'CLOSED'
  | 'CANCELLED'
  | 'WSCAT_MISSING'
  | 'WSCAT_START'
  | 'FLOOD'
  | 'OBSERVER'
  | 'NOT_TRIED'
  | 'OTHER';

/**
 * A socket that did not open within `openTimeoutMs`: either the handshake never finished or the server
 * does not answer WebSocket pings (RFC 6455 says it must). `ms` is how long the attempt really took.
 */
export function openTimeout(openTimeoutMs: number, ms: number, stderr = ''): ConnectionFailure {
  return { code: 'TIMEOUT', message: `the socket did not open within ${openTimeoutMs} ms`, stderr, exitCode: null, ms };
}

/** Bounds on an opening connection besides its own openTimeoutMs. */
export interface OpenControl {
  /** performance.now() by which the socket must be open (a connect step's deadline). */
  deadline?: number;
  /** Stop trying and end the wscat (a pre-opened spare nobody will use). */
  signal?: AbortSignal;
  /** Told when wscat begins the handshake (performance.now() time). */
  onDial?: (at: number) => void;
}

export interface ConnectionFailure {
  code: ConnectionErrorCode;
  message: string;
  httpStatus?: number;
  /** The WebSocket close code and reason, when the server closed the socket during the connect. */
  closeCode?: number;
  closeReason?: string;
  stderr: string;
  exitCode: number | null;
  ms: number;
}

export type FrameWait = { kind: 'frame'; frame: Frame } | { kind: 'closed'; info: CloseInfo } | { kind: 'timeout' };

export interface CloseInfo {
  exitCode: number | null;
  signal: string | null;
  error?: ConnectionFailure;
  /** True when the harness asked for the close. */
  byClient: boolean;
  /** The close code and reason of the WebSocket close, as wscat's socket saw them (1006: no close frame). */
  code?: number;
  reason?: string;
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
  onEvent?(event: ConnectionEvent, at: number): void;
}

/** Loaded into each wscat with `node --require`: reports open, close code and reason, HTTP refusals. */
export const OBSERVER = path.join(PACKAGE_ROOT, 'lib', 'wscat', 'observer.cjs');

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
  delete env[WSCAT_TOKEN_ENV];
  const token = serverTokenFor(opts.url);
  if (token !== undefined) env[WSCAT_TOKEN_ENV] = `${originKey(opts.url)} ${token}`;
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
  const line =
    stderr
      .split('\n')
      .find((l) => l.startsWith('error: '))
      ?.slice(7) ?? stderr.trim();
  const base = { stderr, exitCode, ms };
  const status = /Unexpected server response: (\d+)/.exec(line);
  if (status)
    return {
      ...base,
      code: 'HTTP_STATUS',
      httpStatus: Number(status[1]),
      message: `upgrade refused with HTTP ${status[1]}`,
    };
  // RFC 6455 4.2.2: a server that speaks none of the offered subprotocols answers 101 without the header;
  // the client must then fail the connection. That is the server saying no, not a broken handshake.
  if (/Server sent no subprotocol/.test(line))
    return {
      ...base,
      code: 'SUBPROTOCOL_DECLINED',
      message: 'the server declined every offered subprotocol (101 without Sec-WebSocket-Protocol)',
    };
  if (/ECONNREFUSED/.test(line)) return { ...base, code: 'REFUSED', message: `connection refused (${line})` };
  if (/ENOTFOUND|EAI_AGAIN/.test(line)) return { ...base, code: 'DNS', message: `host name not found (${line})` };
  if (/certificate|self[- ]signed|SSL|TLS|CERT_|EPROTO/i.test(line))
    return { ...base, code: 'TLS', message: `TLS failure: ${line}` };
  if (/ETIMEDOUT|timed out/i.test(line)) return { ...base, code: 'TIMEOUT', message: `connection timed out (${line})` };
  if (/ECONNRESET|socket hang up/i.test(line)) return { ...base, code: 'RESET', message: `connection reset (${line})` };
  if (line) return { ...base, code: 'OTHER', message: line };
  // wscat exits 0 without an error line only from its socket 'close' handler (handshake failures
  // go through 'error' and exit non-zero), so the handshake did complete: the old text "before the
  // socket opened" sent people looking for a handshake problem when the server had hung up on them.
  if (exitCode === 0)
    return {
      ...base,
      code: 'CLOSED',
      message:
        'the server closed the connection right after the WebSocket handshake, before it answered the ping probe',
    };
  return { ...base, code: 'CLOSED', message: `wscat exited with code ${exitCode} before the socket opened` };
}

// Kept importable from here: the close and connect steps read closes next to the connection they hold.
export { describeCloseCode };

const RECENT = 12;
/** Unconsumed frames kept per connection; past this the oldest quarter is dropped (and counted). */
export const INBOX_MAX = 20_000;
/** Socket times kept per connection for sends and for messages (a step asks for its own, just met). */
const SOCKET_TIMES = 4096;

/** The socket times of the latest SOCKET_TIMES numbered events (sends or messages, 1-based), in a ring. */
class SocketTimes {
  private readonly times = new Float64Array(SOCKET_TIMES);
  private latest = 0;

  set(n: number, t: number): void {
    this.times[n % SOCKET_TIMES] = t;
    if (n > this.latest) this.latest = n;
  }

  get(n: number): number | undefined {
    return n >= 1 && n <= this.latest && n > this.latest - SOCKET_TIMES ? this.times[n % SOCKET_TIMES] : undefined;
  }
}

type ObserverEvent = { e: string } & Record<string, unknown>;

/**
 * A connection's lifecycle, one value at a time:
 * - spawning: wscat is starting; its observer has not yet seen the handshake begin.
 * - dialing: wscat sent the upgrade request (the open deadline counts from here).
 * - handshaking: the server answered the upgrade; the socket is being set up.
 * - probing: the socket is open; the `/ping` probe's pong has not come back yet.
 * - open: the probe was answered, so the server reads what is sent.
 * - closing: wsgate asked wscat to end (close, dispose, an open that failed).
 * - closed: wscat exited; `closed` says how.
 * Data that belongs to a state (the open's subprotocol and headers, the close's code) is kept beside it.
 */
export type ConnectionState = 'spawning' | 'dialing' | 'handshaking' | 'probing' | 'open' | 'closing' | 'closed';
const BEFORE_OPEN: ReadonlySet<ConnectionState> = new Set(['spawning', 'dialing', 'handshaking']);

export class WscatConnection {
  name: string;
  private child!: ChildProcess;
  private parser: WscatStreamParser;
  /** Frames received and not yet consumed by any step, in arrival order. */
  private pending: Frame[] = [];
  private listeners = new Set<() => void>();
  private seq = 0;
  private stderrText = '';
  private lifecycle: ConnectionState = 'spawning';
  /** How wscat ended, once `closed`. */
  private closeInfo: CloseInfo | null = null;
  /** Why wsgate ended or could not use this wscat (observer not attached, a flood), when it did. */
  private failure: ConnectionFailure | undefined;
  private exited: Promise<void>;
  private markExited!: () => void;
  private openInfo: OpenInfo | null = null;
  private openedAt = 0;
  /** performance.now() when wscat began the handshake (its observer's 'dial'). */
  private dialedAt: number | undefined;
  private upgradeHeaders: Record<string, string> = {};
  private wsClose: { code: number; reason: string } | null = null;
  private readonly probe = `wsgate-probe-${Math.random().toString(36).slice(2, 10)}`;
  /** wscat's own clock (epoch ms) for send n and message n (both 1-based), the latest SOCKET_TIMES of each. */
  private readonly sentAt = new SocketTimes();
  private readonly receivedAt = new SocketTimes();
  private timeWaiters = 0;
  /** What this connection holds of the run's budget: its inbox and a frame still arriving (characters). */
  private readonly holder: Holder = { held: 0, cut: () => this.cutForFlood() };
  private pendingChars = 0;
  /** Frames dropped from a full inbox (INBOX_MAX) without any step reading them. */
  dropped = 0;
  readonly recent: Frame[] = [];
  framesIn = 0;
  framesOut = 0;
  openedMs = 0;

  private constructor(
    name: string,
    private hooks: ConnectionHooks,
    private readonly budget: HeldBudget,
  ) {
    this.name = name;
    this.parser = new WscatStreamParser((item) => this.onItem(item));
    this.exited = new Promise((r) => (this.markExited = r));
  }

  /** Spawn wscat and wait until the socket is open and answers a ping, or return why it could not open. */
  static async open(
    name: string,
    opts: ConnectOptions,
    hooks: ConnectionHooks = {},
    control: OpenControl = {},
  ): Promise<{ ok: true; conn: WscatConnection } | { ok: false; error: ConnectionFailure }> {
    const started = performance.now();
    const bin = wscatBinPath();
    if (!bin)
      return {
        ok: false,
        error: {
          code: 'WSCAT_MISSING',
          message: 'wscat is not installed (run npm ci)',
          stderr: '',
          exitCode: null,
          ms: 0,
        },
      };
    const conn = new WscatConnection(name, hooks, opts.budget ?? RUN_BUDGET);
    conn.child = spawnChild(process.execPath, ['--require', OBSERVER, bin, ...wscatArgs(opts)], {
      env: wscatEnv(opts),
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    conn.wire();
    const stopped = () => conn.lifecycle === 'closed' || conn.failure !== undefined || control.signal?.aborted === true;
    const onAbort = () => conn.notify();
    control.signal?.addEventListener('abort', onAbort);
    // wscat's own start-up (node loading it: ~0.1 s of CPU, seconds on a starved machine) is not the
    // server's time: the open deadline counts from the moment wscat starts the handshake.
    await conn.until(() => conn.lifecycle !== 'spawning' || stopped(), started + WSCAT_START_MAX_MS);
    // An open seen without a dial (a ws that reaches the network another way) counts from the spawn, as before.
    if (conn.openInfo !== null) conn.dialedAt ??= started;
    const dialedAt = conn.dialedAt;
    if (dialedAt !== undefined) {
      control.onDial?.(dialedAt);
      const planned = Math.min(dialedAt + opts.openTimeoutMs, (control.deadline ?? Infinity) + (dialedAt - started));
      // The handshake and the probe are CPU work too: the deadline counts only time wsgate could run.
      const meter = stallMeter([process.pid, conn.child.pid]);
      const deadline = () => stretchedDeadline(planned, dialedAt, meter);
      await conn.untilStretched(() => !BEFORE_OPEN.has(conn.lifecycle) || stopped(), deadline);
      // Lines written before the socket opened would be dropped: the probe goes out only after the open,
      // and its pong proves that the server reads what is sent (a server that closes at once is caught here).
      if (conn.lifecycle === 'probing' && !stopped()) {
        conn.writeLine(`/ping ${conn.probe}`);
        await conn.untilStretched(() => conn.lifecycle !== 'probing' || stopped(), deadline);
      }
      meter.stop();
    }
    control.signal?.removeEventListener('abort', onAbort);
    const ms = Math.round(performance.now() - started);
    if (conn.lifecycle === 'open' && !stopped()) {
      conn.openedMs = ms;
      return { ok: true, conn };
    }
    const error = conn.whyNotOpen(opts, control, ms);
    await conn.abandon();
    return { ok: false, error };
  }

  /** Why the socket is not open at the end of `open` (checked in this order: each explains the next). */
  private whyNotOpen(opts: ConnectOptions, control: OpenControl, ms: number): ConnectionFailure {
    const stderr = this.stderrText;
    if (this.failure) return { ...this.failure, stderr, ms };
    if (this.lifecycle === 'closed') return this.connectFailure(ms);
    if (this.dialedAt === undefined && !control.signal?.aborted) {
      return {
        code: 'WSCAT_START',
        message: `wscat did not start within ${WSCAT_START_MAX_MS / 1000} s, so the server was not contacted: the machine running wsgate is overloaded`,
        stderr,
        exitCode: null,
        ms,
      };
    }
    if (control.signal?.aborted)
      return { code: 'CANCELLED', message: 'cancelled before the socket opened', stderr, exitCode: null, ms };
    if (this.openInfo)
      return {
        ...openTimeout(opts.openTimeoutMs, ms, stderr),
        message: `the socket did not open within ${opts.openTimeoutMs} ms: the handshake completed, but the server did not answer the WebSocket ping probe`,
      };
    return {
      ...openTimeout(opts.openTimeoutMs, ms, stderr),
      message: `the socket did not open within ${opts.openTimeoutMs} ms: the WebSocket handshake did not complete`,
    };
  }

  /**
   * The one teardown of a wscat nobody will use: asked to end, then stopped (a wscat still waiting for
   * its handshake does not end at stdin EOF). Nothing to do once it has exited.
   */
  private async abandon(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closing';
    await stopTree(this.child, 300);
  }

  /** Why a wscat that exited during the connect did not give an open socket. */
  private connectFailure(ms: number): ConnectionFailure {
    const base = classifyError(this.stderrText, this.closeInfo!.exitCode, ms);
    if (!this.wsClose) return base;
    const { code, reason } = this.wsClose;
    const when = this.openInfo ? 'right after the WebSocket handshake' : 'during the WebSocket handshake';
    return {
      ...base,
      code: 'CLOSED',
      closeCode: code,
      closeReason: reason,
      message: `the server closed the connection ${when}: ${describeCloseCode(code, reason)}`,
    };
  }

  private wire(): void {
    const child = this.child;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      if (this.failure) return;
      this.parser.push(s);
      this.account();
      // Over budget, the connection holding the most is cut (this one or another): see budget.ts.
      if (this.budget.over) this.budget.cutLargest();
      if (this.failure) return;
      // The transcript's disk writes are behind: stop reading until they drain (see budget.ts).
      if (this.budget.stalled) {
        child.stdout!.pause();
        this.budget.whenFree(() => child.stdout!.resume());
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderrText = (this.stderrText + s).slice(-64 * 1024);
      this.hooks.onStderr?.(s);
    });
    const events = child.stdio[3] as Readable;
    events.setEncoding('utf8');
    let partial = '';
    events.on('data', (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          this.onObserved(JSON.parse(line) as ObserverEvent);
        } catch {
          // only the observer writes here, one JSON object a line
        }
      }
    });
    child.stdin!.on('error', () => undefined); // wscat may exit while we write
    child.once('close', (exitCode, signal) => {
      this.parser.end();
      const asked = this.lifecycle === 'closing';
      const err: ConnectionFailure | undefined = this.failure
        ? { ...this.failure, stderr: this.stderrText, exitCode }
        : exitCode !== 0 && !asked
          ? classifyError(this.stderrText, exitCode, 0)
          : undefined;
      this.lifecycle = 'closed';
      this.closeInfo = {
        exitCode,
        signal,
        byClient: asked,
        ...(this.wsClose ? { code: this.wsClose.code, reason: this.wsClose.reason } : {}),
        ...(err ? { error: err } : {}),
      };
      if (this.openInfo)
        this.hooks.onEvent?.(
          { event: 'close', byClient: asked, ...(this.wsClose ?? {}), ...(err ? { error: err.message } : {}) },
          Date.now(),
        );
      this.notify();
      this.markExited();
    });
  }

  private onObserved(ev: ObserverEvent): void {
    switch (ev.e) {
      case 'upgrade':
        this.upgradeHeaders = (ev.headers as Record<string, string>) ?? {};
        if (this.lifecycle === 'spawning' || this.lifecycle === 'dialing') this.lifecycle = 'handshaking';
        break;
      case 'open':
        if (BEFORE_OPEN.has(this.lifecycle)) this.lifecycle = 'probing';
        this.openInfo = {
          protocol: String(ev.protocol ?? ''),
          extensions: String(ev.extensions ?? ''),
          headers: this.upgradeHeaders,
        };
        this.openedAt = Date.now();
        this.hooks.onEvent?.({ event: 'open', ...this.openInfo }, this.openedAt);
        break;
      case 'close':
        this.wsClose = { code: Number(ev.code), reason: String(ev.reason ?? '') };
        break;
      case 'dial':
        // wscat's clock is this machine's: its epoch time placed on this process's performance clock.
        this.dialedAt ??= Math.min(performance.now(), Number(ev.t) - performance.timeOrigin);
        if (this.lifecycle === 'spawning') this.lifecycle = 'dialing';
        break;
      case 'unattached':
        this.failure ??= {
          code: 'OBSERVER',
          message: `wsgate's observer could not attach to wscat's socket (${String(ev.why ?? 'unknown reason')}); is wscat's ws dependency installed?`,
          stderr: '',
          exitCode: null,
          ms: 0,
        };
        break;
      case 's':
        this.sentAt.set(Number(ev.n), Number(ev.t));
        if (this.timeWaiters === 0) return;
        break;
      case 'm': {
        // A batch: the receive times of messages n, n+1, ...
        const first = Number(ev.n);
        const times = Array.isArray(ev.t) ? (ev.t as unknown[]) : [ev.t];
        for (let i = 0; i < times.length; i++) this.receivedAt.set(first + i, Number(times[i]));
        if (this.timeWaiters === 0) return;
        break;
      }
      default:
        return;
    }
    this.notify();
  }

  private onItem(item: StreamItem): void {
    if (item.kind === 'pong') {
      if (item.data === this.probe) {
        // Nothing was written before the open, and the probe's prompt is behind us: from now on each
        // line written is answered by exactly one prompt (before the pong, a frame starting with "> "
        // could not be told from the probe's prompt still to come).
        if (this.lifecycle === 'probing') {
          this.parser.removePromptCredits(0);
          this.lifecycle = 'open';
        }
        this.notify();
      }
      return;
    }
    if (item.kind === 'ping') return;
    const frame: Frame = { seq: this.seq++, at: Date.now(), text: item.text, json: item.json, isJson: item.isJson };
    this.framesIn++;
    this.recent.push(frame);
    if (this.recent.length > RECENT) this.recent.shift();
    this.hooks.onFrameIn?.(frame);
    this.pending.push(frame);
    this.pendingChars += heldChars(frame);
    // A full inbox sheds its oldest quarter at once: shifting one frame per arrival moved all 20,000
    // others each time, and a stream nobody consumes spent most of its CPU doing that.
    if (this.pending.length > INBOX_MAX) {
      const drop = this.pending.length - INBOX_MAX + (INBOX_MAX >> 2);
      for (const f of this.pending.splice(0, drop)) this.pendingChars -= heldChars(f);
      this.dropped += drop;
    }
    this.notify();
  }

  /** Brings the run's budget up to date with what this connection holds now. */
  private account(): void {
    const now = this.pendingChars + this.parser.bufferedChars;
    this.budget.add(now - this.holder.held, this.holder);
  }

  /**
   * Cut when this connection holds the most of an exhausted budget: its frames are dropped (the
   * transcript has them) and it is stopped, so the run's memory stays bounded whichever connection,
   * or how many, the flood comes through.
   */
  private cutForFlood(): void {
    if (this.failure) return;
    this.failure = {
      code: 'FLOOD',
      message: `the servers sent more than ${Math.round(this.budget.max / 1048576)} MB of frames that no step has read yet (one budget for the whole run, every connection together); wsgate stopped reading this connection, the one holding the most`,
      stderr: '',
      exitCode: null,
      ms: 0,
    };
    this.dropped += this.pending.length;
    this.pending = [];
    this.pendingChars = 0;
    this.account();
    void stopTree(this.child, 300);
  }

  private notify(): void {
    if (this.listeners.size === 0) return;
    const ls = [...this.listeners];
    this.listeners.clear();
    for (const l of ls) l();
  }

  /** Resolves true once `pred` holds (re-checked at every change), false at the deadline. */
  private async until(pred: () => boolean, deadline: number): Promise<boolean> {
    while (!pred()) {
      if ((await this.changed(deadline)) === 'timeout') return pred();
    }
    return true;
  }

  /** `until`, against a deadline that may move later while it is waited for (see stretchedDeadline). */
  private async untilStretched(pred: () => boolean, deadline: () => number): Promise<boolean> {
    for (;;) {
      if (await this.until(pred, deadline())) return true;
      if (performance.now() >= deadline()) return pred();
    }
  }

  /**
   * Resolves at the next change (a frame arrives, the socket opens or closes, wscat exits), or with
   * 'timeout' at the deadline (performance.now() time). Callers look at the state first, then wait.
   */
  changed(deadline: number): Promise<'changed' | 'timeout'> {
    const left = deadline - performance.now();
    if (left <= 0) return Promise.resolve('timeout');
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve('changed');
      };
      // Timers run before the event loop polls for I/O: after a stall the deadline can fire while the frame
      // that meets it already waits in the pipe. One poll turn (setImmediate runs after it) lets it in first.
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (!this.listeners.delete(wake)) return;
          resolve('timeout');
        });
      }, left);
      this.listeners.add(wake);
    });
  }

  private writeLine(line: string): void {
    if (this.lifecycle === 'closed' || !this.child.stdin!.writable) return;
    this.parser.addPromptCredits(1);
    this.child.stdin!.write(line + '\n');
  }

  get isOpen(): boolean {
    return this.lifecycle !== 'closed';
  }

  /** Where the connection is in its lifecycle (see ConnectionState). */
  get state(): ConnectionState {
    return this.lifecycle;
  }

  get closed(): CloseInfo | null {
    return this.closeInfo;
  }

  /** The subprotocol, extensions and upgrade headers the handshake settled. */
  get opened(): OpenInfo | null {
    return this.openInfo;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The sequence number the next received frame will get: a send's answers have seq >= this. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Frames received that no step has consumed yet, oldest first. */
  get inbox(): readonly Frame[] {
    return this.pending;
  }

  /** Take a frame out of the inbox: a step's expectation matched it. */
  consume(frame: Frame): void {
    const i = this.pending.indexOf(frame);
    if (i < 0) return;
    this.pending.splice(i, 1);
    this.pendingChars -= heldChars(frame);
    this.account();
  }

  /** Send one text frame. Returns false when the connection is already closed. */
  send(text: string, meta: SendMeta = {}): boolean {
    if (this.lifecycle === 'closed') return false;
    const at = Date.now();
    this.writeLine(text);
    this.framesOut++;
    this.hooks.onFrameOut?.(text, at, meta);
    return true;
  }

  /**
   * The round trip as wscat timed it at its socket: from writing send n (1-based, counting this
   * connection's sends) to receiving frame `seq`. Undefined when the observer did not report both
   * before the deadline (performance.now() time) or they are too old to be kept.
   */
  async socketMs(sendN: number, seq: number, deadline: number): Promise<number | undefined> {
    const known = () => this.sentAt.get(sendN) !== undefined && this.receivedAt.get(seq + 1) !== undefined;
    this.timeWaiters++;
    try {
      await this.until(() => known() || this.lifecycle === 'closed', deadline);
    } finally {
      this.timeWaiters--;
    }
    return known() ? this.receivedAt.get(seq + 1)! - this.sentAt.get(sendN)! : undefined;
  }

  /** Consume the oldest unconsumed frame, or report the close, or nothing before the deadline (performance.now() time). */
  async next(deadline: number): Promise<FrameWait> {
    for (;;) {
      const frame = this.pending.shift();
      if (frame) {
        this.pendingChars -= heldChars(frame);
        this.account();
        return { kind: 'frame', frame };
      }
      if (this.closeInfo) return { kind: 'closed', info: this.closeInfo };
      if ((await this.changed(deadline)) === 'timeout') return { kind: 'timeout' };
    }
  }

  /**
   * Hand a pre-opened connection to its user: new hooks from now on, and what it already saw (the open,
   * frames still unconsumed) replayed to them so the transcript misses nothing.
   */
  adopt(hooks: ConnectionHooks, stderrSoFar = true): void {
    this.hooks = hooks;
    if (this.openInfo) hooks.onEvent?.({ event: 'open', ...this.openInfo }, this.openedAt);
    for (const f of this.pending) hooks.onFrameIn?.(f);
    if (stderrSoFar && this.stderrText) hooks.onStderr?.(this.stderrText);
  }

  rename(name: string): void {
    this.name = name;
  }

  /** Ask wscat to close the socket (`/close CODE REASON`) and wait for it to exit. */
  async close(code = 1000, reason = '', timeoutMs = 2000): Promise<CloseInfo> {
    if (this.closeInfo) return this.closeInfo;
    this.lifecycle = 'closing';
    this.writeLine(`/close ${code}${reason ? ' ' + reason : ''}`);
    const timer = setTimeout(() => void stopTree(this.child, 500), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return this.closeInfo!;
  }

  /** Wait for the server to close the socket. */
  async waitClosed(deadline: number): Promise<CloseInfo | null> {
    await this.until(() => this.closeInfo !== null, deadline);
    return this.closeInfo;
  }

  /** End the process whatever its state; safe to call twice. */
  async dispose(): Promise<void> {
    if (!this.closeInfo) {
      this.lifecycle = 'closing';
      this.child.stdin!.end(); // wscat exits at stdin EOF, after sending the lines still in the pipe
      // A healthy wscat exits within milliseconds, so the grace costs nothing; it is long because a
      // wscat starved of CPU must still get to send a gate's last fire-and-forget frames.
      const timer = setTimeout(() => void stopTree(this.child, 300), 2000);
      await this.exited;
      clearTimeout(timer);
    }
    await stopTree(this.child, 300);
    // Nothing reads an ended connection's inbox any more: what it held goes back to the run.
    this.pending = [];
    this.pendingChars = 0;
    this.account();
  }
}

/** What a frame costs the run's budget: its text, and as much again for the parsed value of a JSON frame. */
function heldChars(f: Frame): number {
  return f.isJson ? 2 * f.text.length : f.text.length;
}
