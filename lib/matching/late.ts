// Frames that come after their exchange's wait ended. A step that ran out of time leaves, on its
// connection, what it still owed (lib/matching/matcher.ts `owed()`); a later step on that connection
// hands each such frame back to it, names it as late, and waits for its own: the late
// message_complete of one exchange never stands in for the next one's.
import type { Frame } from '../wscat/connection.ts';
import type { OwedFrame } from './matcher.ts';

interface Debt extends OwedFrame {
  /** The step that owes it, e.g. "write-file#3". */
  stepId: string;
  /** Frames before this seq arrived while that step still waited: they were judged there. */
  fromSeq: number;
}

const debts = new WeakMap<object, Debt[]>();

/** Records what a step that ran out of time on `conn` still owes, from frame `fromSeq` on. */
export function owe(conn: object, stepId: string, fromSeq: number, owed: OwedFrame[]): void {
  if (!owed.length) return;
  debts.set(conn, [...(debts.get(conn) ?? []), ...owed.map((o) => ({ ...o, stepId, fromSeq }))]);
}

/**
 * The owing step's claim on `f`, if any: a message it owed is then paid (a second one is not its);
 * a collect's pieces are its own while a message listed after them is still owed by that step.
 */
export function claimLate(conn: object, f: Frame): { stepId: string; label: string; pieces: boolean } | undefined {
  const list = debts.get(conn);
  if (!list) return undefined;
  const i = list.findIndex((d) => f.seq >= d.fromSeq && d.claims(f));
  if (i < 0) return undefined;
  const d = list[i]!;
  if (!d.pieces) {
    list.splice(i, 1);
    // Once the step owes no message any more, its stream is over: its pieces are no longer its.
    if (!list.some((x) => x.stepId === d.stepId && !x.pieces))
      debts.set(
        conn,
        list.filter((x) => x.stepId !== d.stepId),
      );
  }
  return { stepId: d.stepId, label: d.label, pieces: d.pieces };
}
