// Pre-opened wscat connections. Starting wscat costs ~0.2 s of CPU (node start-up), which dominates a
// gate's wall time; keeping one connection per distinct option set opened ahead of need lets that cost
// overlap with the previous gate. The server sees the connection a little earlier than the step that
// uses it; --no-pool turns this off when that matters (e.g. to time connection set-up itself).
import { WscatConnection, wscatArgs, type ConnectOptions, type ConnectionFailure, type ConnectionHooks } from './wscat.ts';

type Opened = { ok: true; conn: WscatConnection } | { ok: false; error: ConnectionFailure };
interface Spare {
  opened: Promise<Opened>;
  /** Whether it had settled before a step asked for it. */
  settled: boolean;
  openTimeoutMs: number;
}

export class WscatPool {
  private spares = new Map<string, Spare>();
  private closed = false;

  constructor(private readonly enabled: boolean) {}

  private key(opts: ConnectOptions): string {
    return JSON.stringify(wscatArgs(opts));
  }

  /** Start one spare for these options now (e.g. for the first gate, while the run is set up). */
  prewarm(opts: ConnectOptions): void {
    if (!this.enabled || this.closed) return;
    const k = this.key(opts);
    if (this.spares.has(k)) return;
    const spare: Spare = { opened: WscatConnection.open('spare', opts), settled: false, openTimeoutMs: opts.openTimeoutMs };
    void spare.opened.then(() => (spare.settled = true));
    this.spares.set(k, spare);
  }

  /**
   * A connection for `label`: a spare when one is ready (or on its way), else a fresh one; either way
   * a new spare is started for the next request with the same options.
   */
  async acquire(label: string, opts: ConnectOptions, hooks: ConnectionHooks, useSpare = true): Promise<Opened> {
    const k = this.key(opts);
    const spare = useSpare ? this.spares.get(k) : undefined;
    if (spare) this.spares.delete(k);
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
    const all = [...this.spares.values()];
    this.spares.clear();
    await Promise.all(all.map(async (p) => {
      const r = await p.opened;
      if (r.ok) await r.conn.dispose();
    }));
  }
}
