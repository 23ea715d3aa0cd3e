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

export { closeWords, expectationLabel, selectorLabel } from './labels.ts';

export interface AwaitOptions extends Omit<MatchOptions, 'lateGraceMs' | 'stretch'> {
  /** Frames with a lower seq arrived before the step's send and are not its answers. */
  horizon: number;
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

/** How long messages listed before an ordered list's last one may still arrive after it (× --timeout-scale). */
export const LATE_GRACE_MS = 250;

export async function awaitExpectations(conn: WscatConnection, o: AwaitOptions & { lateGraceMs?: number }): Promise<AwaitOutcome> {
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
      stretch: (planned, since, phase) => stretchedDeadline(planned, since, phase === 'late' ? sinceReading(meter, lateBase ?? 0) : meter),
    },
    started,
  );
  let scanned = o.horizon;
  for (;;) {
    const inbox = conn.inbox;
    let i = firstAtOrAfter(inbox, scanned);
    while (i < inbox.length) {
      const f = inbox[i]!;
      scanned = f.seq + 1;
      if (m.feed(f, performance.now())) conn.consume(f);
      else i++;
      if (m.phase.phase === 'ended') break;
    }
    const phase = m.advance(performance.now(), conn.closed ?? undefined);
    if (phase.phase === 'ended') break;
    if (phase.phase === 'late' && lateBase === undefined) lateBase = meter.read().waitedMs;
    await conn.changed(phase.until);
  }
  meter.stop();
  return m.finish(performance.now());
}
