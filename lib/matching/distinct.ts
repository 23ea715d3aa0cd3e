// `distinct: [{var, across: [names]}]`: a value captured on several named connections (two chargers, two
// users) must differ on each. Read from each connection's own captures, never from the gate's scope,
// where the last connection's capture would stand in for one that captured nothing.
import type { DistinctEntryInput } from '../gates/common-schema.ts';
import type { CheckResult } from '../evidence/results.ts';
import type { StepContext } from '../runner/context.ts';
import { describe } from './match.ts';

type Across = Exclude<DistinctEntryInput, string>;

export function distinctAcross(ctx: StepContext, d: Across): CheckResult {
  const name = `${d.var} differs across ${d.across.join(', ')}`;
  const loc = ctx.locOf(['distinct']);
  const held: { label: string; value: unknown }[] = [];
  const missing: string[] = [];
  for (const conn of d.across) {
    // A group's members are listed as they opened: by label, so the words do not change from run to run.
    const members = ctx.connections
      .get(conn)
      ?.slice()
      .sort((a, b) => a.label.localeCompare(b.label, undefined, { numeric: true }));
    if (!members?.length) missing.push(`${conn} (no such connection in this gate)`);
    for (const m of members ?? []) {
      const v = m.vars.own(d.var);
      if (v.found) held.push({ label: m.label, value: v.value });
      else missing.push(`${m.label} (captured no ${d.var})`);
    }
  }
  const expected = `a different ${d.var} on each connection`;
  if (missing.length)
    return ctx.check({
      name,
      expected,
      actual: `not captured on ${missing.join(', ')}`,
      passed: false,
      loc,
      failure: { kind: 'distinct', variable: d.var },
    });
  if (held.length < 2)
    return ctx.check({
      name,
      expected,
      actual: `only ${held.length} connection: nothing to compare`,
      passed: false,
      loc,
      failure: { kind: 'distinct', variable: d.var },
    });
  const seen = new Map<string, string>();
  const same: string[] = [];
  for (const h of held) {
    const key = JSON.stringify(h.value);
    const first = seen.get(key);
    if (first !== undefined) same.push(`${first} and ${h.label} both hold ${describe(h.value)}`);
    else seen.set(key, h.label);
  }
  const actual = same.length ? same.join('; ') : held.map((h) => `${h.label}: ${describe(h.value)}`).join(', ');
  return ctx.check({
    name,
    expected,
    actual,
    passed: same.length === 0,
    loc,
    failure: { kind: 'distinct', variable: d.var },
  });
}
