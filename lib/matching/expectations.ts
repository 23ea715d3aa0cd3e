// Awaiting a step's expected messages on one connection. Received frames wait in the connection's
// inbox; an expectation consumes only the frame it selects (a `collect` only the pieces it gathers),
// so a frame no expectation wanted stays there for later steps: a subscription streaming beside a
// query is not eaten by the query's step. A `send`'s expectations look only at frames after the send.
// The rules themselves are the pure matcher's (lib/matching/matcher.ts); this drives it on a real
// connection: it feeds each new frame, sleeps until the matcher's next deadline or the next frame,
// and stretches deadlines by the time wsgate's own processes waited for a CPU.
import type { WscatConnection, Frame } from '../wscat/connection.ts';
import { sinceReading, stallMeter, stretchedDeadline } from '../os/stall.ts';
import { ExpectationMatcher, type MatchOptions, type MatchOutcome } from './matcher.ts';
import { claimLate, owe } from './late.ts';
import { oneLine } from './labels.ts';
import type { CheckResult } from '../evidence/results.ts';

export { closeWords, expectationLabel, selectorLabel } from './labels.ts';

export interface AwaitOptions extends Omit<MatchOptions, 'lateGraceMs' | 'stretch'> {
  /** Frames with a lower seq arrived before the step's send and are not its answers. */
  horizon: number;
  /** The step, for naming the frames of its exchange that come after its wait ended ("write-file#3"). */
  stepId?: string;
}

export type AwaitOutcome = MatchOutcome;

/** Index of the first frame with seq >= `seq` in a seq-ordered list. */
function firstAtOrAfter(frames: readonly Frame[], seq: number): number {
  let lo = 0;
  let hi = frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How far frames that keep arriving may stretch a wait: `within` × this. A silent server is judged at
 * `within`; one that keeps streaming without ever sending what is awaited, at the cap.
 */
export const LIVE_CAP_FACTOR = 20;

/** How long messages listed before an ordered list's last one may still arrive after it (× --timeout-scale). */
export const LATE_GRACE_MS = 250;

export async function awaitExpectations(
  conn: WscatConnection,
  o: AwaitOptions & { lateGraceMs?: number },
): Promise<AwaitOutcome> {
  const started = performance.now();
  const meter = stallMeter([process.pid, conn.pid]);
  /** The meter's reading when the late grace began: that grace counts only the waiting since. */
  let lateBase: number | undefined;
  const m = new ExpectationMatcher(
    {
      ...o,
      // A step without a send begins now: frames already in the inbox were there before it.
      firstNewSeq: o.firstNewSeq ?? conn.nextSeq,
      lateGraceMs: o.lateGraceMs ?? LATE_GRACE_MS,
      stretch: (planned, since, phase) =>
        stretchedDeadline(planned, since, phase === 'late' ? sinceReading(meter, lateBase ?? 0) : meter),
    },
    started,
  );
  const late = new Late(o.connLabel, o.locOf([]));
  // A frame an earlier step still owed may have come before this step's send.
  for (const f of [...conn.inbox]) if (f.seq < o.horizon && late.claim(conn, f)) conn.consume(f);
  let scanned = o.horizon;
  for (;;) {
    const inbox = conn.inbox;
    let i = firstAtOrAfter(inbox, scanned);
    while (i < inbox.length) {
      const f = inbox[i]!;
      scanned = f.seq + 1;
      const now = performance.now();
      if (late.claim(conn, f)) {
        m.heard(now);
        conn.consume(f);
      } else if (m.feed(f, now)) conn.consume(f);
      else i++;
      if (m.phase.phase === 'ended') break;
    }
    const phase = m.advance(performance.now(), conn.closed ?? undefined);
    if (phase.phase === 'ended') break;
    if (phase.phase === 'late' && lateBase === undefined) lateBase = meter.read().waitedMs;
    await conn.changed(phase.until);
  }
  meter.stop();
  const out = m.finish(performance.now());
  // A step that handed a frame back and then missed one of that kind owes none: the one handed back
  // may have been its own (a server that dropped an earlier reply shifts them all by one otherwise).
  owe(
    conn,
    o.stepId ?? 'an earlier step',
    scanned,
    m.owed().filter((d) => !late.handedBack.has(d.label)),
  );
  out.checks.push(...late.checks());
  return out;
}

/** The frames of earlier exchanges this wait handed back to them, as warnings of the step that saw them. */
class Late {
  private readonly named: CheckResult[] = [];
  private readonly pieces = new Map<string, number>();
  /** The labels of the frames handed back ("message_complete"). */
  readonly handedBack = new Set<string>();
  constructor(
    private readonly who: string,
    private readonly loc: CheckResult['loc'],
  ) {}

  claim(conn: object, f: Frame): boolean {
    const c = claimLate(conn, f);
    if (!c) return false;
    const key = `${c.label} from step ${c.stepId}`;
    this.handedBack.add(c.label);
    if (c.pieces) this.pieces.set(key, (this.pieces.get(key) ?? 0) + 1);
    else
      this.named.push({
        name: `${this.who}: late ${key}`,
        expected: `no frame of step ${c.stepId} after its wait ended`,
        actual: oneLine(f.text),
        passed: true,
        warning: true,
        loc: this.loc,
      });
    return true;
  }

  checks(): CheckResult[] {
    const pieces = [...this.pieces].map(
      ([key, n]): CheckResult => ({
        name: `${this.who}: late ${key}`,
        expected: 'none',
        actual: `${n} frames`,
        passed: true,
        warning: true,
        loc: this.loc,
      }),
    );
    return [...pieces, ...this.named];
  }
}
