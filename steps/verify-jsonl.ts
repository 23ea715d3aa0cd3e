// `verify: {file, jsonl: {...}}`: a JSON Lines file judged line by line as JSON values, optionally only
// the lines appended since the gate began (the gate's start snapshot says how many bytes were there).
import { createHash } from 'node:crypto';
import type { JsonLinesInput } from './schemas/verify.ts';
import type { CheckResult } from '../lib/evidence/results.ts';
import type { StepContext } from '../lib/runner/context.ts';
import { describe, matchValue } from '../lib/matching/match.ts';
import {
  jsonLines,
  lineMisses,
  missText,
  nearestLine,
  newLinesStart,
  type JsonLine,
} from '../lib/matching/json-lines.ts';

/** The checks of one `jsonl:` on a file's bytes; `key` is the file as the gates file names it (the snapshot's key). */
export function jsonlChecks(
  spec: JsonLinesInput,
  file: string,
  bytes: Buffer,
  ctx: StepContext,
): { checks: CheckResult[]; judged: number } {
  const at = (...p: string[]) => ctx.locOf(['verify', 'jsonl', ...p]);
  const checks: CheckResult[] = [];
  let from = 0;
  if (spec.new) {
    const before = ctx.snapshot.files.get(file);
    const appended = appendedSince(before, bytes);
    if (!appended.ok) {
      checks.push(
        ctx.check({
          name: `${file}: lines appended since the gate began`,
          expected: "the file's bytes at the gate's start kept, new lines after them",
          actual: appended.why,
          passed: false,
          loc: at('new'),
          failure: { kind: 'file', path: file, want: 'changed' },
        }),
      );
      return { checks, judged: 0 };
    }
    from = newLinesStart(bytes, appended.size);
  }
  const lines = jsonLines(bytes, from);
  const which = spec.new ? 'new lines' : 'lines';
  const bad = lines.filter((l) => l.error !== undefined);
  if (bad.length) {
    const first = bad[0]!;
    const more =
      bad.length > 1
        ? ` (and ${bad.length - 1} more line${bad.length > 2 ? 's' : ''} that are not JSON: ${bad
            .slice(1, 6)
            .map((l) => l.line)
            .join(', ')}${bad.length > 6 ? ', …' : ''})`
        : '';
    checks.push(
      ctx.check({
        name: `${file}: every one of its ${which} is JSON`,
        expected: 'one JSON value per line',
        actual: `line ${first.line} is not JSON (${first.error}): ${describe(first.text)}${more}`,
        passed: false,
        loc: ctx.locOf(['verify', 'jsonl']),
        failure: { kind: 'file', path: file, want: 'json' },
      }),
    );
  }
  const values = lines.filter((l): l is JsonLine & { value: unknown } => l.error === undefined);
  const count = spec.count ?? (spec.new ? { gte: 1 } : undefined);
  if (count !== undefined) {
    const r = matchValue(count, lines.length);
    checks.push(
      ctx.check({
        name: `${file}: number of ${which}`,
        expected: count,
        actual: lines.length,
        passed: r.passed,
        loc: at(spec.count !== undefined ? 'count' : 'new'),
        ...(r.reason ? { reason: r.reason } : {}),
        failure: { kind: 'content', subject: `the number of ${which} of ${file}` },
      }),
    );
  }
  if (spec.some !== undefined) {
    const hit = values.find((l) => lineMisses(spec.some!, l.value).length === 0);
    const near = hit ? undefined : nearestLine(spec.some, values);
    const actual = hit
      ? `line ${hit.line}: ${hit.text}`
      : near
        ? `no line matches; nearest ${missText(near.line, near.misses)}`
        : `no ${which} to match`;
    checks.push(
      ctx.check({
        name: `${file}: one of its ${which} matches`,
        expected: spec.some,
        actual,
        passed: hit !== undefined,
        loc: at('some'),
        failure: { kind: 'content', subject: `the ${which} of ${file}` },
      }),
    );
  }
  if (spec.every !== undefined) {
    let miss: string | undefined;
    for (const l of values) {
      const misses = lineMisses(spec.every, l.value);
      if (misses.length) {
        miss = missText(l.line, misses);
        break;
      }
    }
    checks.push(
      ctx.check({
        name: `${file}: every one of its ${which} matches`,
        expected: spec.every,
        actual: miss ?? `${values.length} line${values.length === 1 ? '' : 's'}, all matching`,
        passed: miss === undefined,
        loc: at('every'),
        failure: { kind: 'content', subject: `the ${which} of ${file}` },
      }),
    );
  }
  if (spec.last !== undefined) {
    const last = lines[lines.length - 1];
    const misses = last?.error === undefined && last ? lineMisses(spec.last, last.value) : [];
    const passed = last !== undefined && last.error === undefined && misses.length === 0;
    const actual = !last
      ? `no ${which}`
      : last.error !== undefined
        ? `line ${last.line} is not JSON`
        : passed
          ? `line ${last.line}: ${last.text}`
          : missText(last.line, misses);
    checks.push(
      ctx.check({
        name: `${file}: the last of its ${which} matches`,
        expected: spec.last,
        actual,
        passed,
        loc: at('last'),
        failure: { kind: 'content', subject: `the last of the ${which} of ${file}` },
      }),
    );
  }
  return { checks, judged: lines.length };
}

/**
 * How many bytes the file had at the gate's start, when what is there now only adds to them. A file
 * rewritten (its earlier bytes changed) or truncated has no "new lines": that is the failure.
 */
function appendedSince(
  before: { exists: boolean; size?: number; sha256?: string } | undefined,
  bytes: Buffer,
): { ok: true; size: number } | { ok: false; why: string } {
  if (!before)
    return {
      ok: false,
      why: "the file's state at the gate's start is not known (its path holds a value set during the gate)",
    };
  if (!before.exists) return { ok: true, size: 0 };
  if (before.size === undefined || before.sha256 === undefined)
    return { ok: false, why: 'it was not a regular file when the gate began' };
  if (bytes.length < before.size)
    return {
      ok: false,
      why: `it is shorter than at the gate's start (${before.size} → ${bytes.length} bytes): rewritten or truncated, not appended to`,
    };
  const prefix = createHash('sha256').update(bytes.subarray(0, before.size)).digest('hex');
  if (prefix !== before.sha256)
    return {
      ok: false,
      why: `its first ${before.size} bytes (all it held when the gate began) changed: rewritten, not appended to`,
    };
  return { ok: true, size: before.size };
}
