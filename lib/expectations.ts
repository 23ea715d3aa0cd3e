// Awaiting an ordered list of expected messages on one connection: each expectation selects the
// first later message of its kind (type + `where`), then its `match` assertions become checks.
// Unrelated messages in between are skipped; a forbidden kind, a close or the deadline ends the wait.
import type { Expectation, Matcher } from './gates/common-schema.ts';
import { describe, getPath, matchValue } from './match.ts';
import type { CheckResult, Loc } from './results.ts';
import type { Frame, WscatConnection } from './wscat.ts';

export interface AwaitOptions {
  expectations: Expectation[];
  forbid: string[];
  deadline: number;
  withinMs: number;
  typeField: string;
  nonJson: 'fail' | 'ignore';
  /** Location of expectation i (or a nested key of it). */
  locOf(path: (string | number)[]): Loc;
  connLabel: string;
}

export interface AwaitOutcome {
  checks: CheckResult[];
  captures: Map<string, unknown>;
  /** ms from the start of the wait until each expectation was met (undefined if never). */
  metAfterMs: (number | undefined)[];
  completed: boolean;
}

type Selectable = Exclude<Expectation, { collect: string }>;

function kindOf(frame: Frame, typeField: string): unknown {
  if (!frame.isJson) return undefined;
  // A plain field name (`type`, `event`): read it directly. getPath re-parses the path with a regex
  // and a split for every frame, which was the CLI's largest cost after JSON itself on a long stream.
  const json = frame.json;
  if (typeField !== '' && typeField !== '$' && !typeField.includes('.') && !typeField.includes('[')) {
    return json !== null && typeof json === 'object' && Object.prototype.hasOwnProperty.call(json, typeField) ? (json as Record<string, unknown>)[typeField] : undefined;
  }
  return getPath(json, typeField);
}

function selects(exp: Selectable, frame: Frame, typeField: string): boolean {
  if ('raw' in exp) return !frame.isJson && matchValue(exp.raw as Matcher, frame.text).passed;
  if (!frame.isJson) return false;
  if (exp.type !== undefined && kindOf(frame, typeField) !== exp.type) return false;
  for (const [p, m] of Object.entries(exp.where ?? {})) if (!matchValue(m, getPath(frame.json, p)).passed) return false;
  return true;
}

export function expectationLabel(exp: Expectation): string {
  if ('collect' in exp) return `${exp.collect} pieces`;
  if ('raw' in exp) return `non-JSON frame ${describe(exp.raw)}`;
  const where = exp.where ? ` where ${Object.entries(exp.where).map(([k, v]) => `${k}=${describe(v)}`).join(', ')}` : '';
  return `${exp.type ?? 'message'}${where}`;
}

export async function awaitExpectations(conn: WscatConnection, o: AwaitOptions): Promise<AwaitOutcome> {
  const started = performance.now();
  const checks: CheckResult[] = [];
  const captures = new Map<string, unknown>();
  const metAfterMs: (number | undefined)[] = o.expectations.map(() => undefined);
  const exps = o.expectations;
  let idx = 0;
  let pieces: string[] = [];
  const who = o.connLabel;

  const finishCollect = (i: number) => {
    const exp = exps[i] as Extract<Expectation, { collect: string }>;
    const min = exp.min ?? 1;
    const text = pieces.join('');
    checks.push({ name: `${who}: at least ${min} ${exp.collect}`, expected: `>= ${min}`, actual: pieces.length, passed: pieces.length >= min, loc: o.locOf([i]) });
    if (exp.text !== undefined) {
      const r = matchValue(exp.text, text);
      checks.push({ name: `${who}: ${exp.collect} text`, expected: exp.text, actual: r.passed ? text : `${text}  (${r.reason})`, passed: r.passed, loc: o.locOf([i, 'text']) });
    }
    if (exp.into) captures.set(exp.into, text);
    metAfterMs[i] = Math.round(performance.now() - started);
    pieces = [];
  };

  const accept = (i: number, frame: Frame) => {
    const exp = exps[i] as Selectable;
    metAfterMs[i] = Math.round(performance.now() - started);
    if ('raw' in exp) {
      checks.push({ name: `${who}: ${expectationLabel(exp)}`, expected: exp.raw, actual: frame.text, passed: true, loc: o.locOf([i]) });
      return;
    }
    checks.push({ name: `${who}: ${expectationLabel(exp)} arrived`, expected: exp.type ?? exp.where, actual: describe(frame.json), passed: true, loc: o.locOf([i]) });
    for (const [p, m] of Object.entries(exp.match ?? {})) {
      const actual = getPath(frame.json, p);
      const r = matchValue(m, actual);
      checks.push({ name: `${who}: ${exp.type ?? 'message'}.${p}`, expected: m, actual: r.passed ? actual : `${describe(actual)} (${r.reason})`, passed: r.passed, loc: o.locOf([i, 'match', p]) });
    }
    for (const [name, p] of Object.entries(exp.capture ?? {})) {
      const v = getPath(frame.json, p);
      if (v === undefined) checks.push({ name: `${who}: capture ${name} from ${p}`, expected: 'a value', actual: '(absent)', passed: false, loc: o.locOf([i, 'capture', name]) });
      else captures.set(name, v);
    }
  };

  const failMissing = (why: string, upTo = exps.length) => {
    for (let i = idx; i < upTo; i++) {
      const exp = exps[i]!;
      if ('collect' in exp && i === idx) {
        const next = exps[i + 1];
        const min = exp.min ?? 1;
        if (pieces.length >= min && next === undefined) {
          finishCollect(i);
          continue;
        }
      }
      if (!('collect' in exp) && exp.optional) {
        checks.push({ name: `${who}: optional ${expectationLabel(exp)} did not arrive`, expected: expectationLabel(exp), actual: why, passed: true, warning: true, loc: o.locOf([i]) });
        continue;
      }
      checks.push({ name: `${who}: ${expectationLabel(exp)}`, expected: expectationLabel(exp), actual: why, passed: false, loc: o.locOf([i]) });
      return; // later expectations were never reached: one failure names the first missing message
    }
  };

  const laterMatch = (from: number, frame: Frame): number | undefined => {
    for (let j = from; j < exps.length; j++) {
      const e = exps[j]!;
      if (!('collect' in e) && selects(e, frame, o.typeField)) return j;
    }
    return undefined;
  };

  /**
   * The list is ordered: the message of a later expectation arrived while `idx` still waits. Skipping
   * only optional expectations is fine (they become warnings, inside a collect too); skipping a required
   * one fails it. Returns false when the wait must end.
   */
  const jumpTo = (later: number, frame: Frame): boolean => {
    if (exps.slice(idx, later).every((e) => !('collect' in e) && e.optional)) {
      failMissing(`${expectationLabel(exps[later]!)} arrived first`, later);
      idx = later;
      accept(idx, frame);
      idx++;
      return true;
    }
    failMissing(`${expectationLabel(exps[later]!)} arrived first: ${frame.text.replace(/\s*\n\s*/g, ' ').slice(0, 300)}`);
    return false;
  };

  while (idx < exps.length) {
    const w = await conn.next(o.deadline);
    if (w.kind === 'timeout') {
      failMissing(`nothing matching within ${o.withinMs} ms`);
      break;
    }
    if (w.kind === 'closed') {
      const how = w.info.byClient ? 'closed by the harness' : w.info.error ? `connection lost: ${w.info.error.message}` : 'the server closed the connection';
      failMissing(`${how} before it arrived`);
      break;
    }
    const frame = w.frame;
    if (!frame.isJson && o.nonJson === 'fail' && !exps.slice(idx).some((e) => 'raw' in e)) {
      checks.push({ name: `${who}: every frame is JSON`, expected: 'a JSON text frame', actual: frame.text.slice(0, 300), passed: false, loc: o.locOf([idx]) });
      break;
    }
    const kind = kindOf(frame, o.typeField);
    if (typeof kind === 'string' && o.forbid.includes(kind)) {
      checks.push({ name: `${who}: no ${kind} before the expected messages`, expected: `no ${kind}`, actual: frame.text.slice(0, 500), passed: false, loc: o.locOf([idx]) });
      break;
    }
    const exp = exps[idx]!;
    if ('collect' in exp) {
      const next = exps[idx + 1];
      if (next && !('collect' in next) && selects(next, frame, o.typeField)) {
        finishCollect(idx);
        idx++;
        accept(idx, frame);
        idx++;
      } else if (kind === exp.collect) {
        const piece = getPath(frame.json, exp.field ?? 'delta');
        pieces.push(typeof piece === 'string' ? piece : piece === undefined ? '' : JSON.stringify(piece));
      } else {
        const later = laterMatch(idx + 2, frame);
        if (later !== undefined) {
          finishCollect(idx);
          idx++;
          if (!jumpTo(later, frame)) break;
        }
      }
      continue;
    }
    if (selects(exp, frame, o.typeField)) {
      accept(idx, frame);
      idx++;
      continue;
    }
    const later = laterMatch(idx + 1, frame);
    if (later !== undefined && !jumpTo(later, frame)) break;
  }
  return { checks, captures, metAfterMs, completed: idx >= exps.length && checks.every((c) => c.passed) };
}
