// The matching of one step's expectations on one connection, as a pure state machine: it is fed the
// frames after the step's send (`feed(frame, now)`) and asked where the wait stands (`advance(now)`),
// and it never reads a clock, a socket or the inbox itself. Each expectation has one state, the wait
// one phase; the checks are produced from them when the wait ends. lib/matching/expectations.ts drives
// it on a real connection; its unit tests drive it with synthetic frames and a fake clock.
import type {
  CollectExpectation,
  Expectation,
  NonJson,
  NoneExpectation,
  Selector,
  SelectorObject,
} from '../gates/common-schema.ts';
import { describe, getPath, matchValue } from './match.ts';
import { captureFields, fieldChecks } from './field-checks.ts';
import type { Kinds } from './kinds.ts';
import type { CheckResult, Failure } from '../evidence/results.ts';
import type { Loc } from '../loc.ts';
import type { CloseInfo, Frame } from '../wscat/connection.ts';
import { parseDuration } from '../gates/duration.ts';
import { closeWords, expectationLabel, isCollect, isNone, oneLine, selectorLabel, selectorObject } from './labels.ts';

export interface MatchOptions {
  expectations: Expectation[];
  forbid: Selector[];
  /**
   * Time (on the caller's clock, the one `now` is given in) by which every expectation must be met,
   * unless the connection stays live: each frame that arrives moves the deadline to `withinMs` after
   * it, up to `capMs` after the start (a model's turn: seconds of silence, then a stream).
   */
  deadline: number;
  withinMs: number;
  /** The longest the wait may last while frames keep arriving (default: no more than `deadline`). */
  capMs?: number;
  kinds: Kinds;
  nonJson: NonJson;
  /** Location of expectation i (or a nested key of it); [] is the step itself. */
  locOf(path: (string | number)[]): Loc;
  locOfForbid(i: number): Loc;
  connLabel: string;
  unordered: boolean;
  /** The request id the step's send carried, when the protocol ties replies to requests. */
  requestId?: unknown;
  /** A budget timed between two frames: the first frame each selects (`to` only after `from`). */
  span?: { from?: Selector; to?: Selector };
  /** Frames with a lower seq arrived before the step began: a `none` does not count them. */
  firstNewSeq?: number;
  /** How long messages listed before an ordered list's last one may still arrive after it. */
  lateGraceMs: number;
  /**
   * A deadline `planned` (counted from `since`) as the caller's clock should honour it; the driver
   * adds the time wsgate's own processes waited for a CPU. Default: unchanged.
   */
  stretch?(planned: number, since: number, phase: 'waiting' | 'late'): number;
}

type Selectable = Exclude<Expectation, CollectExpectation | NoneExpectation>;
const isSelectable = (e: Expectation): e is Selectable => !isCollect(e) && !isNone(e);

/** Where one expectation stands. */
export type ExpectationState =
  /** A message or raw frame not seen yet. */
  | { state: 'waiting' }
  | { state: 'met'; frame: Frame; afterMs: number }
  /** Optional, and a later expectation arrived first. */
  | { state: 'passedOver' }
  | { state: 'collecting'; pieces: unknown[] }
  | { state: 'collected'; pieces: unknown[]; afterMs: number }
  /** A `none` whose window has not begun: an expectation listed before it is still awaited. */
  | { state: 'pending' }
  /** A `none` whose window runs (or ran) from `since` to `until`, nothing matching so far. */
  | { state: 'watching'; since: number; until: number }
  | { state: 'violated'; frame: Frame; until: number };

export type WaitEnd =
  | { kind: 'done' }
  /** Nothing more came for `within` (after the last frame at +lastFrameMs, if any), or the cap was reached. */
  | { kind: 'timeout'; lastFrameMs?: number; capped?: boolean }
  | { kind: 'late'; waitedMs: number }
  | { kind: 'closed'; info: CloseInfo }
  | { kind: 'forbidden' };

/** Where the wait stands, and until when the caller may sleep before asking again. */
export type WaitPhase =
  /** Expectations are open until the deadline. */
  | { phase: 'waiting'; until: number }
  /** The ordered list's last message arrived while earlier ones are missing: a short grace for them. */
  | { phase: 'late'; since: number; until: number }
  /** Everything is met; a `none` window still runs. */
  | { phase: 'quiet'; until: number }
  | { phase: 'ended'; why: WaitEnd };

/** A frame an ended wait still owes: when it comes, it is that exchange's, late, not a later step's. */
export interface OwedFrame {
  /** "message_complete", "content_delta pieces". */
  label: string;
  claims(f: Frame): boolean;
  /** A collect's pieces: taken while a message listed after it is still owed, never named one by one. */
  pieces: boolean;
}

export interface MatchOutcome {
  checks: CheckResult[];
  captures: Map<string, unknown>;
  /** ms from the start of the wait until each expectation was met (undefined if never). */
  metAfterMs: (number | undefined)[];
  /** The frame whose arrival met the last expectation met (for timing it at the socket). */
  lastMetSeq?: number;
  /** When (epoch ms, as the harness read them) the frames met, and the span's `from` and `to` frames, arrived. */
  lastMetAt?: number;
  spanFrom?: Frame;
  spanTo?: Frame;
  completed: boolean;
}

/**
 * A matched field's label: `tool_result.error`; a path that already starts with the kind's name is
 * not prefixed again (`result.type` of a `result`, not `result.result.type`).
 */
export function fieldLabel(kind: string | undefined, path: string): string {
  const k = kind ?? 'message';
  return path === k || path.startsWith(`${k}.`) || path.startsWith(`${k}[`) ? path : `${k}.${path}`;
}

export class ExpectationMatcher {
  readonly states: ExpectationState[];
  private wait: WaitPhase;
  private readonly checks: CheckResult[] = [];
  private readonly captures = new Map<string, unknown>();
  private lastMetSeq: number | undefined;
  private lastMetAt: number | undefined;
  private spanFrom: Frame | undefined;
  private spanTo: Frame | undefined;
  /** The last frame fed: a collect still open when the wait ends closes with it. */
  private lastFedSeq: number | undefined;
  /** Expectation i was met while an earlier required one (j) still waited. */
  private readonly early: { i: number; j: number }[] = [];
  /** Frames this wait looked at, for the words of a failure (kinds seen, near misses). */
  private readonly seen: Frame[] = [];
  /** The seqs of the frames its expectations took: a near miss is looked for among the others. */
  private readonly taken = new Set<number>();
  private nonJsonCheck: CheckResult | undefined;
  private readonly exps: Expectation[];
  private readonly who: string;
  /** The late grace's planned end (stretched from it, never from an already stretched one). */
  private lateDeadline = 0;
  /** A deadline moved on by the caller's stretch (wsgate's processes waited for a CPU). */
  private stretchedTo = 0;
  /** When the last frame after the step's send arrived: the connection was live then. */
  private lastFrameAt: number | undefined;

  constructor(
    private readonly o: MatchOptions,
    private readonly startedAt: number,
  ) {
    this.exps = o.expectations;
    this.who = o.connLabel;
    this.states = this.exps.map(
      (e): ExpectationState =>
        isCollect(e) ? { state: 'collecting', pieces: [] } : isNone(e) ? { state: 'pending' } : { state: 'waiting' },
    );
    this.openWindows(startedAt);
    this.wait = { phase: 'waiting', until: this.plannedDeadline() };
  }

  get phase(): WaitPhase {
    return this.wait;
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
    return (
      f.isJson &&
      this.kindOf(f) === exp.collect &&
      this.selects({ type: exp.collect, ...(exp.where ? { where: exp.where } : {}) }, f)
    );
  }

  /**
   * A `none` watches from the moment every message listed before it has arrived (in an unordered list,
   * from the start), for its `for`: a `none` after the last expected frame is about what follows that
   * frame, and never takes a frame an expectation before it is waiting for.
   */
  private openWindows(now: number): void {
    this.exps.forEach((e, i) => {
      if (!isNone(e) || this.states[i]!.state !== 'pending') return;
      const before = this.o.unordered ? [] : this.exps.slice(0, i);
      if (before.some((b, j) => isSelectable(b) && !this.done(j))) return;
      this.states[i] = { state: 'watching', since: now, until: now + parseDuration(e.for) };
    });
  }

  /** The deadline while waiting: `within` after the start or after the last frame, up to the cap. */
  private plannedDeadline(): number {
    const live =
      this.lastFrameAt === undefined ? this.o.deadline : Math.max(this.o.deadline, this.lastFrameAt + this.o.withinMs);
    return Math.max(Math.min(live, this.capAt), this.o.deadline, this.quietUntil);
  }

  private get capAt(): number {
    return this.startedAt + Math.max(this.o.capMs ?? 0, this.o.deadline - this.startedAt);
  }

  /** A `none` holds for its whole window: the wait lasts until the last window closes. */
  private get quietUntil(): number {
    return Math.max(
      this.startedAt,
      ...this.states.map((s) => (s.state === 'watching' || s.state === 'violated' ? s.until : 0)),
    );
  }

  /** Expectation i needs nothing more to arrive. */
  private done(i: number): boolean {
    const s = this.states[i]!.state;
    return s !== 'waiting' && s !== 'collecting' && s !== 'pending';
  }

  /** Every expectation that selects messages is met (or, optional, passed over). */
  private get allMet(): boolean {
    return this.exps.every((_, i) => this.done(i));
  }

  /**
   * In an ordered list the last expectation ends the exchange (message_complete ends a reply): once it
   * is met, messages listed before it that are still missing are late, not just slow.
   */
  private get lastMet(): boolean {
    if (this.o.unordered) return false;
    const last = this.exps.findLastIndex(isSelectable);
    return last >= 0 && this.states[last]!.state === 'met';
  }

  private since(now: number): number {
    return Math.round(now - this.startedAt);
  }

  /** A frame the step forbids fails it (and is consumed): true when `f` is one. */
  private forbidden(f: Frame): boolean {
    const forbid = this.o.forbid.findIndex((s) => this.selects(selectorObject(s), f));
    if (forbid < 0) return false;
    const what = selectorLabel(this.o.forbid[forbid]!);
    this.checks.push({
      name: `${this.who}: no ${what} while the step ran`,
      expected: `no ${what}`,
      actual: oneLine(f.text, 500),
      passed: false,
      loc: this.o.locOfForbid(forbid),
      failure: { kind: 'forbidden', what },
    });
    this.wait = { phase: 'ended', why: { kind: 'forbidden' } };
    return true;
  }

  /**
   * Looks at one frame that arrived after the step's send, at `now`; true when the frame is consumed
   * (an expectation took it, or it failed the step). A frame left is there for later steps.
   */
  feed(f: Frame, now: number): boolean {
    if (this.wait.phase === 'ended') return this.wait.why.kind === 'done' && this.forbidden(f);
    // Once everything is met (and no `none` window still runs), the frames already here are left for
    // later steps, except one this step forbids: it arrived while the step ran, and fails it.
    if (this.allMet && now >= this.quietUntil) return this.forbidden(f);
    this.lastFedSeq = f.seq;
    this.lastFrameAt = now;
    this.markSpan(f);
    if (this.seen.length < 500) this.seen.push(f);
    if (this.forbidden(f)) return true;
    const nonJson = f.isJson ? 'judge' : this.nonJsonVerdict(f);
    if (nonJson === 'skip') return true;
    if (nonJson === 'fault') {
      if (this.nonJsonCheck)
        this.nonJsonCheck.actual = `${this.nonJsonCheck.actual as string}; ${oneLine(f.text, 100)}`.slice(0, 600);
      else {
        const waiting = this.exps.findIndex((_, i) => !this.done(i));
        const rule = this.o.nonJson;
        const expected =
          typeof rule === 'object'
            ? `a JSON text frame, or a frame nonJson.allow names (${rule.allow.map((m) => describe(m)).join(', ')})`
            : 'a JSON text frame';
        this.nonJsonCheck = {
          name: `${this.who}: every frame is JSON`,
          expected,
          actual: oneLine(f.text),
          passed: false,
          loc: this.o.locOf(waiting >= 0 ? [waiting] : []),
          failure: { kind: 'nonJson' },
        };
        this.checks.push(this.nonJsonCheck);
      }
      return true;
    }
    for (let i = 0; i < this.exps.length; i++) {
      const e = this.exps[i]!;
      const s = this.states[i]!;
      // A frame that was already waiting when the step began is not one that arrived in the window.
      if (
        !isNone(e) ||
        s.state !== 'watching' ||
        now >= s.until ||
        f.seq < (this.o.firstNewSeq ?? 0) ||
        !this.selects(selectorObject(e.none), f)
      )
        continue;
      this.states[i] = { state: 'violated', frame: f, until: s.until };
      this.checks.push({
        name: `${this.who}: ${expectationLabel(e)} for ${parseDuration(e.for)} ms`,
        expected: `no ${selectorLabel(e.none)}`,
        actual: oneLine(f.text),
        passed: false,
        loc: this.o.locOf([i]),
        failure: { kind: 'forbidden', what: selectorLabel(e.none), forMs: parseDuration(e.for) },
      });
      return true;
    }
    for (let i = 0; i < this.exps.length; i++) {
      if (this.done(i)) continue;
      const e = this.exps[i]!;
      const s = this.states[i]!;
      if (isCollect(e)) {
        if (!this.pieceOf(e, f) || s.state !== 'collecting') continue;
        s.pieces.push(getPath(f.json, e.field ?? 'delta'));
        this.taken.add(f.seq);
        return true;
      }
      if (isNone(e) || !this.selects(e, f)) continue;
      this.accept(i, f, now);
      this.openWindows(now);
      return true;
    }
    return false;
  }

  private markSpan(f: Frame): void {
    const span = this.o.span;
    if (!span) return;
    if (span.from && !this.spanFrom && this.selects(selectorObject(span.from), f)) this.spanFrom = f;
    else if (span.to && !this.spanTo && (this.spanFrom || !span.from) && this.selects(selectorObject(span.to), f))
      this.spanTo = f;
  }

  /**
   * Whether a non-JSON frame fails the step; one the allow-list names is skipped (consumed) instead,
   * unless a `raw` expectation takes it. While a `raw` expectation still waits, non-JSON frames are
   * what the step is about: they go to it, never fail it.
   */
  private nonJsonVerdict(f: Frame): 'fault' | 'skip' | 'judge' {
    const rule = this.o.nonJson;
    if (rule === 'ignore' || this.exps.some((e, i) => 'raw' in e && !this.done(i))) return 'judge';
    if (typeof rule === 'object' && rule.allow.some((m) => matchValue(m, f.text).passed)) return 'skip';
    return 'fault';
  }

  private accept(i: number, f: Frame, now: number): void {
    const exp = this.exps[i] as Selectable;
    this.states[i] = { state: 'met', frame: f, afterMs: this.since(now) };
    this.taken.add(f.seq);
    this.lastMetSeq = f.seq;
    this.lastMetAt = f.at;
    if (!this.o.unordered) {
      for (let j = 0; j < i; j++) {
        if (this.done(j)) continue;
        const before = this.exps[j]!;
        if (isCollect(before)) this.finishCollect(j, now, f.seq);
        else if (isSelectable(before) && before.optional) this.states[j] = { state: 'passedOver' };
        else if (isSelectable(before)) this.early.push({ i, j });
      }
    }
    const label = expectationLabel(exp);
    if ('raw' in exp) {
      this.checks.push({
        name: `${this.who}: ${label}`,
        expected: exp.raw,
        actual: f.text,
        passed: true,
        loc: this.o.locOf([i]),
      });
      return;
    }
    this.checks.push({
      name: `${this.who}: ${label} arrived`,
      expected: exp.type ?? exp.where,
      actual: describe(f.json),
      passed: true,
      loc: this.o.locOf([i]),
    });
    this.checks.push(
      ...fieldChecks(f.json, exp.match ?? {}, {
        name: (p) => `${this.who}: ${fieldLabel(exp.type, p)}`,
        field: (p) => fieldLabel(exp.type, p),
        locOf: (p) => this.o.locOf([i, 'match', p]),
      }),
    );
    const cap = captureFields(f.json, exp.capture ?? {}, {
      name: (v, p) => `${this.who}: capture ${v} from ${p}`,
      locOf: (v) => this.o.locOf([i, 'capture', v]),
    });
    for (const [k, v] of cap.values) this.captures.set(k, v);
    this.checks.push(...cap.checks);
    // The collect before this expectation ends here: what it gathered is judged now.
    for (let k = i - 1; k >= 0 && !isSelectable(this.exps[k]!); k--)
      if (isCollect(this.exps[k]!) && !this.done(k)) this.finishCollect(k, now, f.seq);
  }

  private finishCollect(i: number, now: number, seq: number | undefined): void {
    const exp = this.exps[i] as CollectExpectation;
    const s = this.states[i]!;
    const pieces = s.state === 'collecting' ? s.pieces : [];
    this.states[i] = { state: 'collected', pieces, afterMs: this.since(now) };
    this.lastMetSeq = seq;
    const min = exp.min ?? 1;
    // Version 1 of the gates format joins pieces with nothing unless `join:` says otherwise, text or not.
    const join = exp.join ?? '';
    const text = pieces.map((p) => (typeof p === 'string' ? p : p === undefined ? '' : JSON.stringify(p))).join(join);
    this.checks.push({
      name: `${this.who}: at least ${min} ${exp.collect}`,
      expected: `>= ${min}`,
      actual: pieces.length,
      passed: pieces.length >= min,
      loc: this.o.locOf([i]),
      ...(pieces.length < min ? { failure: { kind: 'count', what: exp.collect, min } } : {}),
    });
    if (exp.text !== undefined) {
      const r = matchValue(exp.text, text);
      // A failed text says how it was joined: the join is the usual surprise when pieces are numbers.
      const how = `${pieces.length} piece${pieces.length === 1 ? '' : 's'} joined with ${JSON.stringify(join)}${exp.join === undefined ? ' (the default; `join:` sets the text between pieces)' : ' (join:)'}`;
      this.checks.push({
        name: `${this.who}: ${exp.collect} text`,
        expected: exp.text,
        actual: text,
        passed: r.passed,
        loc: this.o.locOf([i, 'text']),
        ...(r.reason ? { reason: `${r.reason}; ${how}` } : {}),
        ...(r.passed ? {} : { failure: { kind: 'content', subject: `${exp.collect} text` } }),
      });
    }
    if (exp.into) this.captures.set(exp.into, text);
  }

  /** A frame arrived that another step took (a late one of an earlier exchange): the connection is live. */
  heard(now: number): void {
    this.lastFrameAt = now;
  }

  private enter(phase: WaitPhase): WaitPhase {
    this.wait = phase;
    return phase;
  }

  /** Where the wait stands at `now`, after the frames fed so far; `closed` when the connection is closed. */
  advance(now: number, closed?: CloseInfo): WaitPhase {
    if (this.wait.phase === 'ended') return this.wait;
    const stretch = this.o.stretch ?? ((planned: number) => planned);
    if (this.allMet && now >= this.quietUntil) return this.enter({ phase: 'ended', why: { kind: 'done' } });
    if (closed)
      return this.enter({ phase: 'ended', why: this.allMet ? { kind: 'done' } : { kind: 'closed', info: closed } });
    if (this.allMet) return this.enter({ phase: 'quiet', until: this.quietUntil });
    if (this.wait.phase === 'waiting' && this.lastMet) {
      this.lateDeadline = Math.min(
        Math.max(this.plannedDeadline(), this.stretchedTo),
        Math.max(now + this.o.lateGraceMs, this.quietUntil),
      );
      this.stretchedTo = 0;
      this.wait = { phase: 'late', since: now, until: this.lateDeadline };
    }
    const w = this.wait;
    const planned = w.phase === 'late' ? this.lateDeadline : this.plannedDeadline();
    if (now >= Math.max(planned, this.stretchedTo)) {
      // The wait counts only time wsgate could run: the caller's stretch moves the deadline by what
      // its processes waited for a CPU.
      const stretched =
        w.phase === 'late' ? stretch(planned, w.since, 'late') : stretch(planned, this.startedAt, 'waiting');
      if (stretched > now + 1) this.stretchedTo = stretched;
      else if (w.phase === 'late')
        return this.enter({ phase: 'ended', why: { kind: 'late', waitedMs: Math.round(now - w.since) } });
      else {
        const lastFrameMs = this.lastFrameAt === undefined ? undefined : this.since(this.lastFrameAt);
        return this.enter({
          phase: 'ended',
          why: {
            kind: 'timeout',
            ...(lastFrameMs !== undefined ? { lastFrameMs } : {}),
            ...(planned >= this.capAt &&
            this.lastFrameAt !== undefined &&
            this.lastFrameAt + this.o.withinMs > this.capAt
              ? { capped: true }
              : {}),
          },
        });
      }
    }
    const until = Math.max(planned, this.stretchedTo);
    this.wait = w.phase === 'late' ? { ...w, until } : { phase: 'waiting', until };
    return this.wait;
  }

  /** The wait is over: what is still open is judged, and the checks are final. */
  finish(now: number): MatchOutcome {
    if (this.wait.phase !== 'ended') this.wait = { phase: 'ended', why: { kind: 'timeout' } };
    const why = this.wait.why;
    for (const { i, j } of this.early) {
      const si = this.states[i]!;
      const sj = this.states[j]!;
      if (si.state !== 'met' || sj.state !== 'met') continue; // j never came: its own failure below says so
      const li = expectationLabel(this.exps[i]!);
      const lj = expectationLabel(this.exps[j]!);
      this.checks.push({
        name: `${this.who}: ${lj} before ${li}`,
        expected: `${lj}, then ${li}`,
        actual: `arrived in this order: #${si.frame.seq} ${li} (+${si.afterMs} ms), #${sj.frame.seq} ${lj} (+${sj.afterMs} ms)`,
        passed: false,
        loc: this.o.locOf([j]),
        failure: { kind: 'order', first: lj, then: li },
      });
    }
    for (let i = 0; i < this.exps.length; i++) {
      const e = this.exps[i]!;
      const s = this.states[i]!;
      if (s.state === 'passedOver') {
        this.checks.push({
          name: `${this.who}: optional ${expectationLabel(e)} did not arrive`,
          expected: expectationLabel(e),
          actual: 'a later expected message arrived first',
          passed: true,
          warning: true,
          loc: this.o.locOf([i]),
        });
        continue;
      }
      if (s.state === 'collecting') {
        if (why.kind !== 'forbidden') this.finishCollect(i, now, this.lastFedSeq);
        continue;
      }
      if (s.state !== 'waiting' || why.kind === 'forbidden' || !isSelectable(e)) continue;
      if (e.optional) {
        this.checks.push({
          name: `${this.who}: optional ${expectationLabel(e)} did not arrive`,
          expected: expectationLabel(e),
          actual: this.missingWords(why),
          passed: true,
          warning: true,
          loc: this.o.locOf([i]),
        });
        continue;
      }
      const label = expectationLabel(e);
      const laterMet =
        why.kind === 'late'
          ? []
          : this.early
              .filter((x) => x.j === i)
              .map(
                (x) => `${expectationLabel(this.exps[x.i]!)} (#${(this.states[x.i] as { frame: Frame }).frame.seq})`,
              );
      const hint = this.hint(e);
      const actual = [
        this.missingWords(why),
        laterMet.length ? `${laterMet.join(', ')} arrived, but not this` : '',
        hint || this.instead(why),
      ]
        .filter(Boolean)
        .join('; ');
      this.checks.push({
        name: `${this.who}: ${label}`,
        expected: label,
        actual,
        passed: false,
        loc: this.o.locOf([i]),
        failure: this.missing(why, label),
      });
    }
    const metAfterMs = this.states.map((s) => (s.state === 'met' || s.state === 'collected' ? s.afterMs : undefined));
    return {
      checks: this.checks,
      captures: this.captures,
      metAfterMs,
      ...(this.lastMetSeq !== undefined ? { lastMetSeq: this.lastMetSeq } : {}),
      ...(this.lastMetAt !== undefined ? { lastMetAt: this.lastMetAt } : {}),
      ...(this.spanFrom ? { spanFrom: this.spanFrom } : {}),
      ...(this.spanTo ? { spanTo: this.spanTo } : {}),
      completed: why.kind === 'done' && this.checks.every((c) => c.passed),
    };
  }

  /**
   * What this exchange still owed when its wait ran out of time (a deadline, or the late grace after
   * its last message): those frames may yet come, and then they are its own, late. A wait that ended
   * on a close, a forbidden frame or success owes nothing; nor does an optional expectation.
   */
  owed(): OwedFrame[] {
    if (this.wait.phase !== 'ended' || (this.wait.why.kind !== 'timeout' && this.wait.why.kind !== 'late')) return [];
    const out: OwedFrame[] = [];
    this.exps.forEach((e, i) => {
      const s = this.states[i]!;
      if (isSelectable(e) && s.state === 'waiting' && !e.optional)
        out.push({ label: expectationLabel(e), claims: (f) => this.selects(e, f), pieces: false });
      if (
        isCollect(e) &&
        this.exps
          .slice(i + 1)
          .some((x, j) => isSelectable(x) && this.states[i + 1 + j]!.state === 'waiting' && !x.optional)
      ) {
        out.push({ label: expectationLabel(e), claims: (f) => this.pieceOf(e, f), pieces: true });
      }
    });
    return out;
  }

  /** What came instead, when the wait ran out: the frames this step left, counted by kind. */
  private instead(why: WaitEnd): string {
    if (why.kind !== 'timeout') return '';
    const byKind = new Map<string, Frame[]>();
    for (const f of this.seen) {
      if (this.taken.has(f.seq) || !f.isJson) continue;
      const k = this.kindOf(f) ?? 'frame with no kind';
      byKind.set(k, [...(byKind.get(k) ?? []), f]);
    }
    if (!byKind.size) return '';
    const words = [...byKind]
      .slice(0, 4)
      .map(([k, fs]) => (fs.length === 1 ? `${k} (#${fs[0]!.seq})` : `${fs.length} ${k}`));
    return `arrived instead: ${words.join(', ')}${byKind.size > 4 ? ', …' : ''}`;
  }

  private missing(why: WaitEnd, what: string): Failure {
    if (why.kind === 'closed') return { kind: 'missing', what, ended: 'closed', close: closeWords(why.info) };
    if (why.kind === 'late')
      return { kind: 'late', what, last: expectationLabel(this.exps[this.exps.findLastIndex(isSelectable)]!) };
    return { kind: 'missing', what, ended: 'timeout' };
  }

  private missingWords(why: WaitEnd): string {
    if (why.kind === 'timeout') {
      if (why.capped)
        return `nothing matching within ${Math.round(this.capAt - this.startedAt)} ms (the cap of a wait that frames kept alive; the last came at +${why.lastFrameMs} ms)`;
      if (why.lastFrameMs === undefined) return `nothing matching within ${this.o.withinMs} ms`;
      return `nothing matching within ${this.o.withinMs} ms of the last frame (+${why.lastFrameMs} ms)`;
    }
    if (why.kind === 'late') {
      const last = this.exps.findLastIndex(isSelectable);
      const s = this.states[last]!;
      return `${expectationLabel(this.exps[last]!)} (#${s.state === 'met' ? s.frame.seq : '?'}) ended the exchange, and this had not arrived ${why.waitedMs} ms later`;
    }
    if (why.kind === 'closed') return `${closeWords(why.info)} before it arrived`;
    return 'not reached';
  }

  /**
   * Near misses among the frames seen and not taken by this step: the right kind with other fields, a
   * reply to another request, or the kind under another field. Counts are of those frames only.
   */
  private hint(e: Selectable): string {
    if ('raw' in e || e.type === undefined) return '';
    const sameKind = this.seen.filter((f) => this.kindOf(f) === e.type);
    const left = sameKind.filter((f) => !this.taken.has(f.seq));
    const whereHolds = (f: Frame) =>
      Object.entries(e.where ?? {}).every(([p, m]) => matchValue(m, getPath(f.json, p)).passed);
    const otherRequest = left.filter((f) => whereHolds(f) && !this.correlated(f, e.type));
    if (otherRequest.length && this.o.kinds.reply) {
      const field = this.o.kinds.reply.field;
      return `${otherRequest.length} ${e.type} for other requests arrived (first: ${field}=${describe(getPath(otherRequest[0]!.json, field))}), none for this one (${field}=${describe(this.o.requestId)})`;
    }
    if (left.length) {
      const f = left[0]!;
      const failed = Object.entries(e.where ?? {}).find(([p, m]) => !matchValue(m, getPath(f.json, p)).passed);
      if (failed)
        return `${left.length} other ${e.type} arrived, none where ${failed[0]}=${describe(failed[1])} (first: ${failed[0]}=${describe(getPath(f.json, failed[0]))})`;
    }
    if (sameKind.length && !left.length)
      return `the ${sameKind.length} ${e.type} that arrived were each taken by an expectation listed before this one`;
    for (const f of this.seen) {
      if (!f.isJson || f.json === null || typeof f.json !== 'object') continue;
      const field = Object.entries(f.json as Record<string, unknown>).find(
        ([k, v]) => v === e.type && !this.o.kinds.fields.includes(k),
      )?.[0];
      if (field)
        return `a frame has ${field}: ${JSON.stringify(e.type)}, but kinds are read from ${this.o.kinds.describe()}: set \`defaults.typeField: ${field}\`?`;
    }
    return '';
  }
}
