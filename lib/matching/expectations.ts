// Awaiting a step's expected messages on one connection. Received frames wait in the connection's
// inbox; an expectation consumes only the frame it selects (a `collect` only the pieces it gathers),
// so a frame no expectation wanted stays there for later steps: a subscription streaming beside a
// query is not eaten by the query's step. A `send`'s expectations look only at frames after the send.
// The list is ordered unless `unordered`: a message that arrives before one listed above it is still
// taken (its checks run, its captures are made) and the order is recorded as a failed check naming
// the real arrival order, while the step keeps waiting for the rest. A forbidden frame, a close or the
// deadline ends the wait.
import type { CollectExpectation, Expectation, NoneExpectation, Selector, SelectorObject } from '../gates/common-schema.ts';
import { describe, getPath, matchValue } from './match.ts';
import { captureFields, fieldChecks } from './field-checks.ts';
import type { Kinds } from './kinds.ts';
import type { CheckResult } from '../evidence/results.ts';
import type { Loc } from '../loc.ts';
import { describeCloseCode, type CloseInfo, type Frame, type WscatConnection } from '../wscat/connection.ts';
import { parseDuration } from '../gates/duration.ts';
import { sinceReading, stallMeter, stretchedDeadline } from '../os/stall.ts';

export interface AwaitOptions {
  expectations: Expectation[];
  forbid: Selector[];
  /** performance.now() time by which every expectation must be met. */
  deadline: number;
  withinMs: number;
  kinds: Kinds;
  nonJson: 'fail' | 'ignore';
  /** Location of expectation i (or a nested key of it); [] is the step itself. */
  locOf(path: (string | number)[]): Loc;
  locOfForbid(i: number): Loc;
  connLabel: string;
  /** Frames with a lower seq arrived before the step's send and are not its answers. */
  horizon: number;
  unordered: boolean;
  /** The request id the step's send carried, when the protocol ties replies to requests. */
  requestId?: unknown;
}

export interface AwaitOutcome {
  checks: CheckResult[];
  captures: Map<string, unknown>;
  /** ms from the start of the wait until each expectation was met (undefined if never). */
  metAfterMs: (number | undefined)[];
  /** The frame whose arrival met the last expectation met (for timing it at the socket). */
  lastMetSeq?: number;
  completed: boolean;
}

type Selectable = Exclude<Expectation, CollectExpectation | NoneExpectation>;

const isCollect = (e: Expectation): e is CollectExpectation => 'collect' in e;
const isNone = (e: Expectation): e is NoneExpectation => 'none' in e;
const isSelectable = (e: Expectation): e is Selectable => !isCollect(e) && !isNone(e);

function selectorObject(s: Selector): SelectorObject {
  return typeof s === 'string' ? { type: s } : s;
}

export function selectorLabel(s: Selector): string {
  const o = selectorObject(s);
  const where = o.where ? ` where ${Object.entries(o.where).map(([k, v]) => `${k}=${describe(v)}`).join(', ')}` : '';
  return `${o.type ?? 'message'}${where}`;
}

export function expectationLabel(exp: Expectation): string {
  if (isCollect(exp)) return `${exp.collect} pieces`;
  if (isNone(exp)) return `no ${selectorLabel(exp.none)}`;
  if ('raw' in exp) return `non-JSON frame ${describe(exp.raw)}`;
  return selectorLabel(exp);
}

function oneLine(text: string, max = 300): string {
  const t = text.replace(/\s*\n\s*/g, ' ');
  return t.length > max ? t.slice(0, max) + '…' : t;
}

/** How a close reads in a check: "the server closed the connection (1008 "Too many connections")". */
export function closeWords(info: CloseInfo): string {
  if (info.byClient) return 'closed by the harness';
  if (info.error) return `connection lost: ${info.error.message}`;
  return `the server closed the connection (${describeCloseCode(info.code, info.reason)})`;
}

type WaitEnd = { kind: 'done' } | { kind: 'timeout' } | { kind: 'late'; waitedMs: number } | { kind: 'closed'; info: CloseInfo } | { kind: 'forbidden' };

class Matching {
  readonly checks: CheckResult[] = [];
  readonly captures = new Map<string, unknown>();
  readonly met: (Frame | undefined)[];
  readonly metAfterMs: (number | undefined)[];
  lastMetSeq: number | undefined;
  private handling: Frame | undefined;
  private readonly skipped: boolean[];
  private readonly collected = new Map<number, { pieces: unknown[]; closed: boolean }>();
  /** Expectation i was met while an earlier required one (j) still waited. */
  private readonly early: { i: number; j: number }[] = [];
  private readonly noneHit = new Set<number>();
  /** Frames this wait looked at, for the words of a failure (kinds seen, near misses). */
  readonly seen: Frame[] = [];
  private nonJsonCheck: CheckResult | undefined;
  forbidden = false;
  private readonly started = performance.now();
  private readonly who: string;
  private readonly exps: Expectation[];

  constructor(private readonly o: AwaitOptions) {
    this.exps = o.expectations;
    this.who = o.connLabel;
    this.met = this.exps.map(() => undefined);
    this.metAfterMs = this.exps.map(() => undefined);
    this.skipped = this.exps.map(() => false);
    this.exps.forEach((e, i) => {
      if (isCollect(e)) this.collected.set(i, { pieces: [], closed: false });
    });
  }

  private kindOf(f: Frame): string | undefined {
    return f.isJson ? this.o.kinds.kindOf(f.json) : undefined;
  }

  /** A reply to another request is not this step's, whatever else it matches. */
  private correlated(f: Frame, type: string | undefined): boolean {
    const { requestId, kinds } = this.o;
    if (requestId === undefined || !kinds.reply) return true;
    if (type !== undefined && !kinds.isReplyKind(type)) return true;
    if (!kinds.isReplyKind(this.kindOf(f))) return type === undefined;
    return JSON.stringify(getPath(f.json, kinds.reply.field)) === JSON.stringify(requestId);
  }

  private selects(sel: Selectable | SelectorObject, f: Frame): boolean {
    if ('raw' in sel) return !f.isJson && matchValue(sel.raw, f.text).passed;
    if (!f.isJson) return false;
    if (sel.type !== undefined && this.kindOf(f) !== sel.type) return false;
    for (const [p, m] of Object.entries(sel.where ?? {})) if (!matchValue(m, getPath(f.json, p)).passed) return false;
    return this.correlated(f, sel.type);
  }

  private pieceOf(exp: CollectExpectation, f: Frame): boolean {
    return f.isJson && this.kindOf(f) === exp.collect && this.selects({ type: exp.collect, ...(exp.where ? { where: exp.where } : {}) }, f);
  }

  private done(i: number): boolean {
    const e = this.exps[i]!;
    if (isCollect(e)) return this.collected.get(i)!.closed;
    if (isNone(e)) return true;
    return this.met[i] !== undefined || this.skipped[i]!;
  }

  /** Every expectation that selects messages is met (or, optional, passed over). */
  get allMet(): boolean {
    return this.exps.every((_, i) => this.done(i));
  }

  private since(): number {
    return Math.round(performance.now() - this.started);
  }

  /** A frame the step forbids fails it (and is consumed): true when `f` is one. */
  forbids(f: Frame): boolean {
    const forbid = this.o.forbid.findIndex((s) => this.selects(selectorObject(s), f));
    if (forbid < 0) return false;
    const what = selectorLabel(this.o.forbid[forbid]!);
    this.checks.push({ name: `${this.who}: no ${what} while the step ran`, expected: `no ${what}`, actual: oneLine(f.text, 500), passed: false, loc: this.o.locOfForbid(forbid), cause: `${what} arrived` });
    this.forbidden = true;
    return true;
  }

  /** Looks at one frame; returns true when the frame was consumed. */
  handle(f: Frame): boolean {
    this.handling = f;
    if (this.seen.length < 500) this.seen.push(f);
    if (this.forbids(f)) return true;
    // While a `raw` expectation still waits, non-JSON frames are what the step is about, not a fault.
    if (!f.isJson && this.o.nonJson === 'fail' && !this.exps.some((e, i) => 'raw' in e && !this.done(i))) {
      if (this.nonJsonCheck) this.nonJsonCheck.actual = `${this.nonJsonCheck.actual as string}; ${oneLine(f.text, 100)}`.slice(0, 600);
      else {
        const waiting = this.exps.findIndex((_, i) => !this.done(i));
        this.nonJsonCheck = { name: `${this.who}: every frame is JSON`, expected: 'a JSON text frame', actual: oneLine(f.text), passed: false, loc: this.o.locOf(waiting >= 0 ? [waiting] : []), cause: 'a frame that is not JSON arrived' };
        this.checks.push(this.nonJsonCheck);
      }
      return true;
    }
    for (let i = 0; i < this.exps.length; i++) {
      const e = this.exps[i]!;
      if (!isNone(e) || this.noneHit.has(i) || !this.selects(selectorObject(e.none), f)) continue;
      this.noneHit.add(i);
      this.checks.push({ name: `${this.who}: ${expectationLabel(e)} for ${parseDuration(e.for)} ms`, expected: `no ${selectorLabel(e.none)}`, actual: oneLine(f.text), passed: false, loc: this.o.locOf([i]), cause: `${selectorLabel(e.none)} arrived` });
      return true;
    }
    for (let i = 0; i < this.exps.length; i++) {
      if (this.done(i)) continue;
      const e = this.exps[i]!;
      if (isCollect(e)) {
        if (!this.pieceOf(e, f)) continue;
        this.collected.get(i)!.pieces.push(getPath(f.json, e.field ?? 'delta'));
        return true;
      }
      if (isNone(e) || !this.selects(e, f)) continue;
      this.accept(i, f);
      return true;
    }
    return false;
  }

  private accept(i: number, f: Frame): void {
    const exp = this.exps[i] as Selectable;
    this.met[i] = f;
    this.metAfterMs[i] = this.since();
    this.lastMetSeq = f.seq;
    if (!this.o.unordered) {
      for (let j = 0; j < i; j++) {
        if (this.done(j)) continue;
        const before = this.exps[j]!;
        if (isCollect(before)) this.finishCollect(j);
        else if (isSelectable(before) && before.optional) this.skipped[j] = true;
        else if (isSelectable(before)) this.early.push({ i, j });
      }
    }
    const label = expectationLabel(exp);
    if ('raw' in exp) {
      this.checks.push({ name: `${this.who}: ${label}`, expected: exp.raw, actual: f.text, passed: true, loc: this.o.locOf([i]) });
      return;
    }
    this.checks.push({ name: `${this.who}: ${label} arrived`, expected: exp.type ?? exp.where, actual: describe(f.json), passed: true, loc: this.o.locOf([i]) });
    const kind = exp.type ?? 'message';
    for (const c of fieldChecks(f.json, exp.match ?? {}, { name: (p) => `${this.who}: ${kind}.${p}`, locOf: (p) => this.o.locOf([i, 'match', p]) })) {
      this.checks.push(c.passed ? c : { ...c, cause: `${kind}.${c.name.slice(c.name.lastIndexOf('.') + 1)}: ${c.reason?.replace(/, got .*$/, '') ?? 'does not hold'}` });
    }
    const cap = captureFields(f.json, exp.capture ?? {}, { name: (v, p) => `${this.who}: capture ${v} from ${p}`, locOf: (v) => this.o.locOf([i, 'capture', v]) });
    for (const [k, v] of cap.values) this.captures.set(k, v);
    this.checks.push(...cap.checks);
    // The collect before this expectation ends here: what it gathered is judged now.
    for (let k = i - 1; k >= 0 && !isSelectable(this.exps[k]!); k--) if (isCollect(this.exps[k]!) && !this.done(k)) this.finishCollect(k);
  }

  private finishCollect(i: number): void {
    const exp = this.exps[i] as CollectExpectation;
    const c = this.collected.get(i)!;
    c.closed = true;
    this.metAfterMs[i] = this.since();
    this.lastMetSeq = this.handling?.seq;
    const min = exp.min ?? 1;
    // Version 1 of the gates format joins pieces with nothing unless `join:` says otherwise, text or not.
    const join = exp.join ?? '';
    const text = c.pieces.map((p) => (typeof p === 'string' ? p : p === undefined ? '' : JSON.stringify(p))).join(join);
    this.checks.push({ name: `${this.who}: at least ${min} ${exp.collect}`, expected: `>= ${min}`, actual: c.pieces.length, passed: c.pieces.length >= min, loc: this.o.locOf([i]), ...(c.pieces.length < min ? { cause: `fewer than ${min} ${exp.collect}` } : {}) });
    if (exp.text !== undefined) {
      const r = matchValue(exp.text, text);
      // A failed text says how it was joined: the join is the usual surprise when pieces are numbers.
      const how = `${c.pieces.length} piece${c.pieces.length === 1 ? '' : 's'} joined with ${JSON.stringify(join)}${exp.join === undefined ? ' (the default; `join:` sets the text between pieces)' : ' (join:)'}`;
      this.checks.push({ name: `${this.who}: ${exp.collect} text`, expected: exp.text, actual: text, passed: r.passed, loc: this.o.locOf([i, 'text']), ...(r.reason ? { reason: `${r.reason}; ${how}`, cause: `${exp.collect} text does not hold` } : {}) });
    }
    if (exp.into) this.captures.set(exp.into, text);
  }

  /** The wait is over (all met, deadline, close, forbidden frame): judge what is still open. */
  finish(why: WaitEnd): void {
    for (const { i, j } of this.early) {
      const fi = this.met[i]!;
      const fj = this.met[j];
      if (!fj) continue; // j never came: its own failure below says so
      const li = expectationLabel(this.exps[i]!);
      const lj = expectationLabel(this.exps[j]!);
      this.checks.push({
        name: `${this.who}: ${lj} before ${li}`,
        expected: `${lj}, then ${li}`,
        actual: `arrived in this order: #${fi.seq} ${li} (+${this.metAfterMs[i]} ms), #${fj.seq} ${lj} (+${this.metAfterMs[j]} ms)`,
        passed: false,
        loc: this.o.locOf([j]),
        cause: `${li} arrived before ${lj}`,
      });
    }
    for (let i = 0; i < this.exps.length; i++) {
      const e = this.exps[i]!;
      if (this.done(i) && !isCollect(e)) {
        if (this.skipped[i]) this.checks.push({ name: `${this.who}: optional ${expectationLabel(e)} did not arrive`, expected: expectationLabel(e), actual: 'a later expected message arrived first', passed: true, warning: true, loc: this.o.locOf([i]) });
        continue;
      }
      if (isCollect(e)) {
        if (!this.collected.get(i)!.closed && why.kind !== 'forbidden') this.finishCollect(i);
        continue;
      }
      if (why.kind === 'forbidden' || isNone(e)) continue;
      if (isSelectable(e) && e.optional) {
        this.checks.push({ name: `${this.who}: optional ${expectationLabel(e)} did not arrive`, expected: expectationLabel(e), actual: this.missingWords(why), passed: true, warning: true, loc: this.o.locOf([i]) });
        continue;
      }
      const label = expectationLabel(e);
      const laterMet = why.kind === 'late' ? [] : this.early.filter((x) => x.j === i).map((x) => `${expectationLabel(this.exps[x.i]!)} (#${this.met[x.i]!.seq})`);
      const hint = this.hint(e as Selectable);
      const actual = [this.missingWords(why), laterMet.length ? `${laterMet.join(', ')} arrived, but not this` : '', hint].filter(Boolean).join('; ');
      this.checks.push({ name: `${this.who}: ${label}`, expected: label, actual, passed: false, loc: this.o.locOf([i]), cause: this.causeOfMissing(why, label) });
    }
  }

  private causeOfMissing(why: WaitEnd, label: string): string {
    if (why.kind === 'closed') return `${closeWords(why.info)} before ${label}`;
    if (why.kind === 'late') return `${expectationLabel(this.exps[this.exps.findLastIndex(isSelectable)]!)} ended the exchange without ${label}`;
    return `no ${label}`;
  }

  private missingWords(why: WaitEnd): string {
    if (why.kind === 'timeout') return `nothing matching within ${this.o.withinMs} ms`;
    if (why.kind === 'late') {
      const last = this.exps.findLastIndex(isSelectable);
      return `${expectationLabel(this.exps[last]!)} (#${this.met[last]!.seq}) ended the exchange, and this had not arrived ${why.waitedMs} ms later`;
    }
    if (why.kind === 'closed') return `${closeWords(why.info)} before it arrived`;
    return 'not reached';
  }

  /** Near misses among the frames seen: the right kind with other fields, or the kind under another field. */
  private hint(e: Selectable): string {
    if ('raw' in e || e.type === undefined) return '';
    const sameKind = this.seen.filter((f) => this.kindOf(f) === e.type);
    if (sameKind.length) {
      const f = sameKind[0]!;
      const failed = Object.entries(e.where ?? {}).find(([p, m]) => !matchValue(m, getPath(f.json, p)).passed);
      if (failed) return `${sameKind.length} ${e.type} arrived, none where ${failed[0]}=${describe(failed[1])} (first: ${failed[0]}=${describe(getPath(f.json, failed[0]))})`;
      if (this.o.requestId !== undefined && this.o.kinds.reply) return `${sameKind.length} ${e.type} arrived, none for this request (${this.o.kinds.reply.field}=${describe(this.o.requestId)})`;
      return `${sameKind.length} ${e.type} arrived before this wait and were taken by earlier expectations`;
    }
    for (const f of this.seen) {
      if (!f.isJson || f.json === null || typeof f.json !== 'object') continue;
      const field = Object.entries(f.json as Record<string, unknown>).find(([k, v]) => v === e.type && !this.o.kinds.fields.includes(k))?.[0];
      if (field) return `a frame has ${field}: ${JSON.stringify(e.type)}, but kinds are read from ${this.o.kinds.describe()}: set \`defaults.typeField: ${field}\`?`;
    }
    return '';
  }

  /**
   * In an ordered list the last expectation ends the exchange (message_complete ends a reply): once it
   * is met, messages listed before it that are still missing are late, not just slow.
   */
  get lastMet(): boolean {
    if (this.o.unordered) return false;
    const last = this.exps.findLastIndex(isSelectable);
    return last >= 0 && this.met[last] !== undefined;
  }

  get noneWindowMs(): number {
    return Math.max(0, ...this.exps.filter(isNone).map((e) => parseDuration(e.for)));
  }
}

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
  const m = new Matching(o);
  const started = performance.now();
  // A `none` holds for its whole window: the step lasts at least that long.
  const quietUntil = started + m.noneWindowMs;
  let deadline = Math.max(o.deadline, quietUntil);
  const meter = stallMeter([process.pid, conn.pid]);
  let lateSince: number | undefined;
  /** The late grace's own planned end (stretched from it, never from an already stretched one). */
  let lateDeadline = 0;
  let lateWaitedBase = 0;
  let scanned = o.horizon;
  let why: WaitEnd | undefined;
  for (;;) {
    const inbox = conn.inbox;
    let i = firstAtOrAfter(inbox, scanned);
    while (i < inbox.length) {
      const f = inbox[i]!;
      scanned = f.seq + 1;
      // Once everything is met (and no `none` window still runs), the frames already here are left for
      // later steps, except one this step forbids: it arrived while the step ran, and fails it.
      const judged = m.allMet && performance.now() >= quietUntil ? m.forbids(f) : m.handle(f);
      if (judged) conn.consume(f);
      else i++;
      if (m.forbidden) break;
    }
    if (m.forbidden) {
      why = { kind: 'forbidden' };
      break;
    }
    const now = performance.now();
    if (m.allMet && now >= quietUntil) {
      why = { kind: 'done' };
      break;
    }
    if (conn.closed) {
      why = m.allMet ? { kind: 'done' } : { kind: 'closed', info: conn.closed };
      break;
    }
    if (lateSince === undefined && m.lastMet && !m.allMet) {
      lateSince = now;
      lateWaitedBase = meter.read().waitedMs;
      deadline = lateDeadline = Math.min(deadline, Math.max(now + (o.lateGraceMs ?? LATE_GRACE_MS), quietUntil));
    }
    const until = m.allMet ? quietUntil : deadline;
    if ((await conn.changed(until)) === 'timeout' && !m.allMet && performance.now() >= deadline) {
      // The wait counts only time wsgate could run: what its processes waited for a CPU moves it on.
      const stretched =
        lateSince === undefined
          ? stretchedDeadline(o.deadline, started, meter)
          : stretchedDeadline(lateDeadline, lateSince, sinceReading(meter, lateWaitedBase));
      if (stretched > performance.now() + 1) {
        deadline = stretched;
        continue;
      }
      why = lateSince !== undefined ? { kind: 'late', waitedMs: Math.round(performance.now() - lateSince) } : { kind: 'timeout' };
      break;
    }
  }
  meter.stop();
  m.finish(why);
  return { checks: m.checks, captures: m.captures, metAfterMs: m.metAfterMs, ...(m.lastMetSeq !== undefined ? { lastMetSeq: m.lastMetSeq } : {}), completed: why.kind === 'done' && m.checks.every((c) => c.passed) };
}
