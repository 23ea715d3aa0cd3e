// The one loop for "these fields of this JSON must hold" (a message's `match`, an HTTP response's
// `json`, a JSON file's `json`) and for "take these fields into variables" (`capture`): a path picks
// the value, the matcher judges it, and the matcher's reason stays beside the value as data.
import type { Matcher } from '../gates/common-schema.ts';
import { getPath, matchValue } from './match.ts';
import type { CheckResult } from '../evidence/results.ts';
import type { Loc } from '../loc.ts';

export interface FieldCheckOptions {
  /** The check's name for a path: "main: session_initialized.sessionId", "response status". */
  name(path: string): string;
  /** Where the matcher for a path is written. */
  locOf(path: string): Loc;
  /** The whole field a failure names: "tool_result.error" (default: the path). */
  field?(path: string): string;
}

export function fieldChecks(json: unknown, matchers: Record<string, Matcher>, o: FieldCheckOptions): CheckResult[] {
  return Object.entries(matchers).map(([p, m]) => {
    const actual = getPath(json, p);
    const r = matchValue(m, actual);
    return {
      name: o.name(p),
      expected: m,
      actual,
      passed: r.passed,
      loc: o.locOf(p),
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.passed ? {} : { failure: { kind: 'field', field: o.field?.(p) ?? p, expected: m } as const }),
    };
  });
}

/**
 * Captured values, and a failed check for each path that is absent. A path ending in `?` is optional,
 * as in an `http` step: taken only when the field is there, and its absence is no failure.
 */
export function captureFields(
  json: unknown,
  captures: Record<string, string>,
  o: { name(variable: string, path: string): string; locOf(variable: string): Loc },
): { values: Map<string, unknown>; checks: CheckResult[] } {
  const values = new Map<string, unknown>();
  const checks: CheckResult[] = [];
  for (const [variable, given] of Object.entries(captures)) {
    const optional = given.endsWith('?');
    const p = optional ? given.slice(0, -1) : given;
    const v = getPath(json, p);
    if (v === undefined && optional) continue;
    if (v === undefined)
      checks.push({
        name: o.name(variable, p),
        expected: 'a value',
        actual: undefined,
        reason: `no field ${p}`,
        passed: false,
        loc: o.locOf(variable),
        failure: { kind: 'capture', variable, path: p },
      });
    else values.set(variable, v);
  }
  return { values, checks };
}
