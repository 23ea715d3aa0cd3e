// Pre-opened wscat connections. Starting wscat costs ~0.1-0.2 s of CPU (node start-up), which dominates
// a gate's wall time; keeping connections per distinct option set opened ahead of need lets that cost
// overlap with the previous gates. Two per option set: one wscat starting while the main process runs
// a gate keeps one core busy, two keep both busy when gates are shorter than a wscat start. The server
// sees those connections a little earlier than the steps that use them; --no-pool turns this off when
// that matters (e.g. to time connection set-up itself, or to count connections exactly).
import { WscatConnection, wscatArgs, type ConnectOptions, type ConnectionFailure, type ConnectionHooks } from './wscat.ts';

type Opened = { ok: true; conn: WscatConnection } | { ok: false; error: ConnectionFailure };
interface Spare {
  opened: Promise<Opened>;
  /** Whether it had settled before a step asked for it. */
  settled: boolean;
  openTimeoutMs: number;
}

export class WscatPool {
  /** Spares per option set, oldest first. */
  private spares = new Map<string, Spare[]>();
  private closed = false;

  constructor(
    private readonly enabled: boolean,
    private readonly depth = 2,
  ) {}

  private key(opts: ConnectOptions): string {
    return JSON.stringify(wscatArgs(opts));
  }

  /** Top up the spares for these options now (e.g. for the first gate, while the run is set up). */
  prewarm(opts: ConnectOptions): void {
    if (!this.enabled || this.closed) return;
    const k = this.key(opts);
    const list = this.spares.get(k) ?? [];
    this.spares.set(k, list);
    while (list.length < this.depth) {
      const spare: Spare = { opened: WscatConnection.open('spare', opts), settled: false, openTimeoutMs: opts.openTimeoutMs };
      void spare.opened.then(() => (spare.settled = true));
      list.push(spare);
    }
  }

  /**
   * A connection for `label`: a spare when one is ready (or on its way), else a fresh one; either way
   * a new spare is started for the next request with the same options.
   */
  async acquire(label: string, opts: ConnectOptions, hooks: ConnectionHooks): Promise<Opened> {
    const spare = this.spares.get(this.key(opts))?.shift();
    this.prewarm(opts);
    if (!spare) return WscatConnection.open(label, opts, hooks);
    const wasSettled = spare.settled;
    const got = await spare.opened;
    // A spare still opening when the step began, that then waited at least the step's own deadline in
    // vain, is this step's answer: a fresh attempt would make `within: 1s` take up to two seconds.
    if (!got.ok && !wasSettled && got.error.code === 'TIMEOUT' && spare.openTimeoutMs >= opts.openTimeoutMs) return got;
    // A spare that failed or was closed while it waited says nothing about now: open a fresh one.
    if (!got.ok || !got.conn.isOpen) {
      if (got.ok) await got.conn.dispose();
      return WscatConnection.open(label, opts, hooks);
    }
    got.conn.rename(label);
    got.conn.adopt(hooks);
    return got;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    await Promise.all(all.map(async (p) => {
      const r = await p.opened;
      if (r.ok) await r.conn.dispose();
    }));
  }
}
