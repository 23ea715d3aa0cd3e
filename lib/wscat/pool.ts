// Pre-opened wscat connections. Starting wscat costs ~0.1 s of CPU (node start-up), which dominates a
// gate's wall time; keeping connections per distinct option set opened ahead of need lets that cost
// overlap with the previous gates. Two per option set: one wscat starting while the main process runs
// a gate keeps one core busy, two keep both busy when gates are shorter than a wscat start. With a plan
// (the connects the gates file will make, per option set), a spare is opened only for a connection a
// later connect step will use, never more than remain: a server never sees a client no gate asked for
// (two idle connections to the bare URL were phantom clients in a server's log). Without a plan, spares
// are kept only for option sets asked for before (or prewarmed). The server sees those connections a little
// earlier than the steps that use them; --no-pool turns this off when that matters (e.g. to time
// connection set-up itself, or to count connections exactly).
import {
  WSCAT_START_MAX_MS,
  WscatConnection,
  openTimeout,
  wscatArgs,
  type ConnectOptions,
  type ConnectionFailure,
  type ConnectionHooks,
} from './connection.ts';

type Opened = { ok: true; conn: WscatConnection } | { ok: false; error: ConnectionFailure };

interface Spare {
  opened: Promise<Opened>;
  cancel: AbortController;
  /** performance.now() when the socket opened (undefined while opening). */
  openAt?: number;
  /** performance.now() when its wscat began the handshake (undefined while wscat starts). */
  dialAt?: number;
  /** Called when dialAt is set. */
  onDial?: () => void;
}

/**
 * A spare older than this is not handed out: servers close idle sockets (graphql-ws closes a connection
 * that has not sent connection_init within 3 s with 4408), and a spare taken just before such a close
 * would fail a correct server.
 */
export const SPARE_MAX_IDLE_MS = 1000;

/** Less time than this left is not worth a fresh wscat: it cannot start and open a socket in it. */
const MIN_FRESH_MS = 100;

export class WscatPool {
  /** Spares per option set, oldest first. */
  private spares = new Map<string, Spare[]>();
  /** Option sets worth keeping spares for: prewarmed, or asked for more than once. */
  private wanted = new Set<string>();
  private asked = new Set<string>();
  /** With a plan: connections each option set will still be asked for (a set not in it gets no spare). */
  private remaining: Map<string, number> | undefined;
  private closed = false;

  constructor(
    private readonly enabled: boolean,
    private readonly depth = 2,
  ) {}

  private key(opts: ConnectOptions): string {
    return JSON.stringify(wscatArgs(opts));
  }

  private topUp(k: string, opts: ConnectOptions): void {
    if (!this.enabled || this.closed) return;
    if (this.remaining === undefined && !this.wanted.has(k)) return;
    const want = this.remaining === undefined ? this.depth : Math.min(this.depth, this.remaining.get(k) ?? 0);
    const list = this.spares.get(k) ?? [];
    this.spares.set(k, list);
    while (list.length < want) {
      const cancel = new AbortController();
      const spare = { cancel } as Spare;
      const onDial = (at: number) => {
        spare.dialAt = at;
        spare.onDial?.();
      };
      spare.opened = WscatConnection.open('spare', opts, {}, { signal: cancel.signal, onDial });
      void spare.opened.then((r) => {
        if (r.ok) spare.openAt = performance.now();
      });
      list.push(spare);
    }
  }

  /**
   * The connections the run will ask for, in order: spares are opened from now on only for these, and
   * the first one's are opened now (while the run is set up). A connect whose options are known only
   * when it runs (a captured header) is not in the plan and gets a fresh wscat.
   */
  plan(uses: { opts: ConnectOptions; count: number }[]): void {
    this.remaining = new Map();
    for (const u of uses) {
      const k = this.key(u.opts);
      this.remaining.set(k, (this.remaining.get(k) ?? 0) + u.count);
    }
    const first = uses[0];
    if (first) this.topUp(this.key(first.opts), first.opts);
  }

  /** Keep spares for these options from now on (e.g. for the first gate, while the run is set up). */
  prewarm(opts: ConnectOptions): void {
    const k = this.key(opts);
    this.wanted.add(k);
    this.topUp(k, opts);
  }

  /**
   * A connection for `label` within `opts.openTimeoutMs` from now, whatever the spares do: a spare
   * when one opens in time, else a fresh attempt with the time that is left. A spare that failed
   * says nothing about now (it may have started before the server was ready), and a spare still
   * opening at the deadline is this step's timeout.
   */
  async acquire(label: string, opts: ConnectOptions, hooks: ConnectionHooks): Promise<Opened> {
    const started = performance.now();
    const deadline = started + opts.openTimeoutMs;
    const k = this.key(opts);
    if (this.asked.has(k)) this.wanted.add(k);
    this.asked.add(k);
    const left = this.remaining?.get(k);
    if (left !== undefined) this.remaining!.set(k, Math.max(0, left - 1));
    let spare = this.spares.get(k)?.shift();
    // A spare idle too long goes (the server may be about to close it), and a fresh one is opened.
    while (spare?.openAt !== undefined && performance.now() - spare.openAt > SPARE_MAX_IDLE_MS) {
      const stale = spare;
      void stale.opened.then((r) => (r.ok ? r.conn.dispose() : undefined));
      spare = this.spares.get(k)?.shift();
    }
    this.topUp(k, opts);
    if (!spare) return WscatConnection.open(label, opts, hooks, { deadline });
    const taken = spare;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    // As for a fresh wscat, a spare's start-up is not the server's time: its deadline counts from its
    // handshake when that began after this step did.
    const late = new Promise<'late'>((r) => {
      const arm = () => {
        clearTimeout(timer);
        if (settled) return;
        const due =
          taken.dialAt === undefined
            ? started + WSCAT_START_MAX_MS
            : Math.max(deadline, taken.dialAt + opts.openTimeoutMs);
        timer = setTimeout(() => r('late'), Math.max(0, due - performance.now()));
      };
      taken.onDial = arm;
      arm();
    });
    const got = await Promise.race([spare.opened, late]);
    settled = true;
    clearTimeout(timer);
    const timeout = (): Opened => ({
      ok: false,
      error: openTimeout(opts.openTimeoutMs, Math.round(performance.now() - started)),
    });
    if (got === 'late') {
      spare.cancel.abort();
      void spare.opened.then((r) => (r.ok ? r.conn.dispose() : undefined));
      return timeout();
    }
    if (got.ok && got.conn.isOpen) {
      got.conn.rename(label);
      got.conn.adopt(hooks);
      return got;
    }
    if (got.ok) await got.conn.dispose();
    if (deadline - performance.now() < MIN_FRESH_MS) return got.ok || got.error.code === 'TIMEOUT' ? timeout() : got;
    return WscatConnection.open(label, opts, hooks, { deadline });
  }

  /** Ends every spare, cancelling the ones still opening (a server that never answers must not hold the run's end). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    for (const s of all) s.cancel.abort();
    await Promise.all(
      all.map(async (s) => {
        const r = await s.opened;
        if (r.ok) await r.conn.dispose();
      }),
    );
  }
}
