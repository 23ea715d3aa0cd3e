// Shared by `send` and `expect`: optionally send a frame on every connection of a group,
// then await the expectations on each, apply captures, and time the exchange against its budget.
import type { Budget, Expectation } from './gates/common-schema.ts';
import type { Member, StepContext } from './context.ts';
import { awaitExpectations } from './expectations.ts';
import type { CheckResult, FrameSummary, StepResult, Timing } from './results.ts';
import type { SendMeta } from './wscat.ts';

export interface ExchangeParams {
  on?: string;
  within?: number | string;
  budget?: Budget;
  forbid?: string[];
  distinct?: string[];
  expect?: Expectation[];
}

export function membersOf(ctx: StepContext, on: string | undefined): Member[] | undefined {
  return ctx.connections.get(on ?? 'main');
}

export function lastMessages(members: Member[], n = 8): FrameSummary[] {
  return members.flatMap((m) => m.conn.recent.slice(-n).map((f) => ({ conn: m.label, seq: f.seq, at: f.at, text: f.text.length > 2000 ? f.text.slice(0, 2000) + '…' : f.text })));
}

export function noConnection(ctx: StepContext, on: string | undefined): StepResult {
  const name = on ?? 'main';
  return ctx.result([ctx.check(`connection ${name} exists`, `an open connection named ${name}`, 'none: add a connect step before this one', false, ctx.locOf(['on']))]);
}

export async function exchange(ctx: StepContext, p: ExchangeParams, payload?: (m: Member) => { text: string; meta: SendMeta }): Promise<StepResult> {
  const members = membersOf(ctx, p.on);
  if (!members) return noConnection(ctx, p.on);
  const checks: CheckResult[] = [];
  const withinMs = ctx.timeoutMs(p.within);
  const started = performance.now();
  const deadline = started + withinMs;
  if (payload) {
    for (const m of members) {
      const { text, meta } = payload(m);
      if (p.expect?.length) m.conn.discardUnread();
      if (!m.conn.send(text, meta)) {
        checks.push(ctx.check(`${m.label}: send`, 'an open connection', describeClose(m), false));
      }
    }
    if (checks.length) return ctx.result(checks, { lastMessages: lastMessages(members) });
  }
  const timings: Timing[] = [];
  if (p.expect?.length) {
    const outcomes = await Promise.all(
      members.map((m) =>
        awaitExpectations(m.conn, {
          expectations: m.vars.resolve(p.expect!),
          forbid: p.forbid ?? [],
          deadline,
          withinMs,
          typeField: ctx.settings.typeField,
          nonJson: ctx.settings.nonJson,
          locOf: (path) => ctx.locOf(['expect', ...path]),
          connLabel: m.label,
        }),
      ),
    );
    const grouped = members.length > 1;
    outcomes.forEach((o, i) => {
      checks.push(...o.checks);
      for (const [k, v] of o.captures) {
        members[i]!.vars.set(k, v);
        if (!grouped) ctx.vars.set(k, v);
      }
    });
    if (grouped) {
      for (const name of new Set(outcomes.flatMap((o) => [...o.captures.keys()]))) ctx.vars.set(name, outcomes.map((o) => o.captures.get(name)));
    }
    for (const name of p.distinct ?? []) {
      const values = outcomes.map((o) => o.captures.get(name));
      const unique = new Set(values.map((v) => JSON.stringify(v)));
      checks.push(ctx.check(`${name} differs on each of ${members.length} connections`, `${members.length} distinct values`, `${unique.size} distinct`, unique.size === members.length && !values.includes(undefined), ctx.locOf(['distinct'])));
    }
    if (outcomes.every((o) => o.completed)) {
      const slowest = Math.max(...outcomes.map((o) => o.metAfterMs[o.metAfterMs.length - 1] ?? 0));
      const t = ctx.timing(ctx.stepId, slowest, p.budget, ctx.locOf(['budget']));
      timings.push(t.timing);
      if (t.check) checks.push(t.check);
    }
  }
  const failed = checks.some((c) => !c.passed);
  return ctx.result(checks, { timings, ...(failed ? { lastMessages: lastMessages(members) } : {}), ms: Math.round(performance.now() - started) });
}

export function describeClose(m: Member): string {
  const c = m.conn.closed;
  if (!c) return 'open';
  if (c.error) return `closed: ${c.error.message}`;
  return c.byClient ? 'closed by the harness' : 'closed by the server';
}
