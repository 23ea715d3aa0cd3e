// Shared by `send` and `expect`: optionally send a frame on every connection of a group, then await the
// expectations on each (lib/matching/expectations.ts), apply captures, and time the exchange against its budget.
import type { DistinctEntryInput, Expectation, FrameBudget, Selector } from '../gates/common-schema.ts';
import type { Member, StepContext } from '../runner/context.ts';
import { LATE_GRACE_MS, LIVE_CAP_FACTOR, awaitExpectations, closeWords, type AwaitOutcome } from './expectations.ts';
import type { CheckResult, FrameSummary, StepResult, Timing } from '../evidence/results.ts';
import type { SendMeta } from '../wscat/connection.ts';
import { stallMeter, type StallReading } from '../os/stall.ts';
import { selectorLabel } from './labels.ts';
import { distinctAcross } from './distinct.ts';

export interface ExchangeParams {
  on?: string;
  within?: number | string;
  budget?: FrameBudget;
  forbid?: Selector[];
  distinct?: DistinctEntryInput[];
  unordered?: boolean;
  expect?: Expectation[];
}

export function membersOf(ctx: StepContext, on: string | undefined): Member[] | undefined {
  return ctx.connections.get(on ?? 'main');
}

export function lastMessages(members: Member[], n = 8): FrameSummary[] {
  return members.flatMap((m) =>
    m.conn.recent.slice(-n).map((f) => ({
      conn: m.label,
      seq: f.seq,
      at: f.at,
      text: f.text.length > 2000 ? f.text.slice(0, 2000) + '…' : f.text,
    })),
  );
}

export function noConnection(ctx: StepContext, on: string | undefined): StepResult {
  const name = on ?? 'main';
  return ctx.result([
    ctx.check({
      name: `connection ${name} exists`,
      expected: `an open connection named ${name}`,
      actual: 'none: add a connect step before this one',
      passed: false,
      loc: ctx.locOf(['on']),
      failure: { kind: 'input', what: `no connection named ${name}` },
    }),
  ]);
}

/** What a send carries: the text, and the parsed message when it is JSON (for reply correlation). */
export interface Outgoing {
  text: string;
  json?: unknown;
  meta: SendMeta;
}

export async function exchange(
  ctx: StepContext,
  p: ExchangeParams,
  payload?: (m: Member) => Outgoing,
): Promise<StepResult> {
  const members = membersOf(ctx, p.on);
  if (!members) return noConnection(ctx, p.on);
  const checks: CheckResult[] = [];
  const withinMs = ctx.timeoutMs(p.within);
  const started = performance.now();
  const deadline = started + withinMs;
  const kinds = ctx.settings.kinds;
  // Only a budgeted step is timed. At the harness, its own waiting counts; timed at wscat's socket, the
  // harness is not on the path, so only wscat's counts (and the embedded server's, which the harness
  // started on this machine).
  const stalls =
    p.budget === undefined
      ? undefined
      : {
          harness: stallMeter([process.pid, ...members.map((m) => m.conn.pid)]),
          socket: stallMeter([
            ...(ctx.settings.serverPid !== undefined ? [ctx.settings.serverPid] : []),
            ...members.map((m) => m.conn.pid),
          ]),
        };
  const span =
    typeof p.budget === 'object' && (p.budget.from !== undefined || p.budget.to !== undefined)
      ? {
          ...(p.budget.from !== undefined ? { from: p.budget.from } : {}),
          ...(p.budget.to !== undefined ? { to: p.budget.to } : {}),
        }
      : undefined;
  /** When the send went out (epoch ms, the clock frames are stamped with), for a span that starts there. */
  const sentAt = Date.now();
  const horizon = new Map<Member, number>();
  const sendN = new Map<Member, number>();
  const requestIds = new Map<Member, unknown>();
  if (payload) {
    for (const m of members) {
      const out = payload(m);
      // What answers this send arrives after it: earlier frames stay in the inbox for other steps.
      horizon.set(m, m.conn.nextSeq);
      requestIds.set(m, out.json !== undefined ? kinds.requestId(out.json) : undefined);
      if (!m.conn.send(out.text, out.meta)) {
        m.closeReported = true;
        const words = closeWords(m.conn.closed!);
        checks.push(
          ctx.check({
            name: `${m.label}: send`,
            expected: 'an open connection',
            actual: `${words} before this step`,
            passed: false,
            failure: { kind: 'closed', conn: m.label, close: words },
          }),
        );
      }
      sendN.set(m, m.conn.framesOut);
    }
    if (checks.length) return ctx.result(checks, { lastMessages: lastMessages(members) });
  }
  const timings: Timing[] = [];
  if (p.expect?.length) {
    const outcomes = await Promise.all(
      members.map((m) =>
        awaitExpectations(m.conn, {
          expectations: m.vars.resolve(p.expect!),
          forbid: m.vars.resolve(p.forbid ?? []),
          deadline,
          withinMs,
          kinds,
          nonJson: ctx.settings.nonJson,
          locOf: (path) => (path.length ? ctx.locOf(['expect', ...path]) : ctx.loc),
          locOfForbid: (i) => ctx.locOf(['forbid', i]),
          connLabel: m.label,
          horizon: horizon.get(m) ?? 0,
          stepId: ctx.stepId,
          ...(span ? { span: m.vars.resolve(span) } : {}),
          capMs: withinMs * LIVE_CAP_FACTOR,
          ...(horizon.has(m) ? { firstNewSeq: horizon.get(m)! } : {}),
          unordered: p.unordered === true,
          lateGraceMs: LATE_GRACE_MS * ctx.settings.timeoutScale,
          ...(requestIds.get(m) !== undefined ? { requestId: requestIds.get(m) } : {}),
        }),
      ),
    );
    members.forEach((m) => {
      if (m.conn.closed) m.closeReported = true;
    });
    const grouped = members.length > 1;
    outcomes.forEach((o, i) => {
      checks.push(...o.checks);
      for (const [k, v] of o.captures) {
        members[i]!.vars.set(k, v);
        if (!grouped) ctx.vars.set(k, v);
      }
    });
    if (grouped) {
      for (const name of new Set(outcomes.flatMap((o) => [...o.captures.keys()])))
        ctx.vars.set(
          name,
          outcomes.map((o) => o.captures.get(name)),
        );
    }
    for (const name of p.distinct ?? []) {
      if (typeof name !== 'string') {
        checks.push(distinctAcross(ctx, name));
        continue;
      }
      const values = outcomes.map((o) => o.captures.get(name));
      const unique = new Set(values.map((v) => JSON.stringify(v)));
      checks.push(
        ctx.check({
          name: `${name} differs on each of ${members.length} connections`,
          expected: `${members.length} distinct values`,
          actual: `${unique.size} distinct`,
          passed: unique.size === members.length && !values.includes(undefined),
          loc: ctx.locOf(['distinct']),
          failure: { kind: 'distinct', variable: name },
        }),
      );
    }
    if (outcomes.every((o) => o.completed) && span) {
      const t = spanTiming(ctx, outcomes, p.budget!, span, sentAt, stalls?.harness.stop());
      if (t.timing) timings.push(t.timing);
      checks.push(t.check);
    } else if (outcomes.every((o) => o.completed)) {
      const atHarness = Math.max(
        ...outcomes.map((o) => Math.max(0, ...o.metAfterMs.filter((x): x is number => x !== undefined))),
      );
      const measured = p.budget !== undefined ? await socketLatency(members, outcomes, sendN) : undefined;
      // The socket's round trip lies inside the harness's (wscat writes after the harness and reads before
      // it): one outside it paired the wrong times, and the harness's own measure stands.
      const atSocket = measured !== undefined && measured >= 0 && measured <= atHarness + 1 ? measured : undefined;
      const slowest = atSocket ?? atHarness;
      const waited = stalls && (atSocket !== undefined ? stalls.socket.stop() : stalls.harness.stop());
      const t = ctx.timing(ctx.stepId, slowest, p.budget, ctx.locOf(['budget']), waited);
      timings.push(t.timing);
      if (t.check) checks.push(t.check);
    }
  }
  // A meter that gave no reading is stopped too (without /proc it holds an event-loop monitor).
  stalls?.harness.stop();
  stalls?.socket.stop();
  const failed = checks.some((c) => !c.passed);
  return ctx.result(checks, {
    timings,
    ...(failed ? { lastMessages: lastMessages(members) } : {}),
    ms: Math.round(performance.now() - started),
  });
}

/**
 * A budget between two frames of the exchange (`from`/`to`), timed where the harness read them: both
 * sides were read by the same wscat and the same harness, so the path to the harness is in neither.
 * The slowest member counts; a member where a frame of the span never came fails the budget, naming it.
 */
function spanTiming(
  ctx: StepContext,
  outcomes: AwaitOutcome[],
  budget: FrameBudget,
  span: { from?: Selector; to?: Selector },
  sentAt: number,
  stall: StallReading | undefined,
): { timing?: Timing; check: CheckResult } {
  const words = `from ${span.from !== undefined ? selectorLabel(span.from) : 'the send'} to ${span.to !== undefined ? selectorLabel(span.to) : 'the last expected message'}`;
  const each: number[] = [];
  for (const o of outcomes) {
    const from = span.from !== undefined ? o.spanFrom?.at : sentAt;
    const to = span.to !== undefined ? o.spanTo?.at : o.lastMetAt;
    if (from === undefined || to === undefined) {
      const missing = from === undefined ? selectorLabel(span.from!) : selectorLabel(span.to!);
      return {
        check: ctx.check({
          name: `latency ${words}`,
          expected: `a ${missing} to time`,
          actual: `no ${missing} arrived`,
          passed: false,
          loc: ctx.locOf(['budget']),
          failure: { kind: 'missing', what: missing, ended: 'timeout', toTime: true },
        }),
      };
    }
    each.push(Math.max(0, to - from));
  }
  const t = ctx.timing(ctx.stepId, Math.max(...each), budget, ctx.locOf(['budget']), stall);
  return { timing: t.timing, check: { ...t.check!, actual: `${String(t.check!.actual)} ${words}` } };
}

/** How long a step waits for the observer's socket times once the frame itself was read. */
const SOCKET_TIMES_WAIT_MS = 1000;

/**
 * The step's round trip as each wscat timed it at its socket (the slowest of the members), or undefined
 * when any member's times are missing (a send-less step, an observer that did not report them).
 */
async function socketLatency(
  members: Member[],
  outcomes: AwaitOutcome[],
  sendN: Map<Member, number>,
): Promise<number | undefined> {
  const deadline = performance.now() + SOCKET_TIMES_WAIT_MS;
  const each = await Promise.all(
    members.map((m, i) => {
      const n = sendN.get(m);
      const seq = outcomes[i]!.lastMetSeq;
      return n === undefined || seq === undefined ? undefined : m.conn.socketMs(n, seq, deadline);
    }),
  );
  return each.every((x): x is number => x !== undefined) ? Math.round(Math.max(...each)) : undefined;
}

export function describeClose(m: Member): string {
  const c = m.conn.closed;
  return c ? closeWords(c) : 'open';
}
