// Predicates over values. Presence is tested with `'key' in matcher`, never truthiness,
// so `equals: 0`, `equals: ""` and `equals: null` mean what they say.
import { isDeepStrictEqual } from 'node:util';
import type { Matcher, MatcherObject } from '../gates/common-schema.ts';

export interface MatchOutcome {
  passed: boolean;
  /** Why it failed, in words. */
  reason?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/**
 * RFC 3339 date-time (ISO 8601 with seconds and an offset): `2024-05-01T10:20:30.5+02:00`. Every part has
 * a fixed width but the fraction, one run of digits: linear in the length, no backtracking.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

export function getPath(value: unknown, path: string): unknown {
  if (path === '' || path === '.' || path === '$') return value;
  // `content|response`: the first of those fields that is present (two names for one thing).
  if (path.includes('|')) {
    for (const alt of path.split('|')) {
      const v = getPath(value, alt.trim());
      if (v !== undefined) return v;
    }
    return undefined;
  }
  let cur: unknown = value;
  for (const part of splitPath(path)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (!Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function splitPath(path: string): string[] {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((p) => p !== '');
}

export function describe(v: unknown): string {
  if (v === undefined) return '(absent)';
  const s = JSON.stringify(v);
  return s.length > 200 ? s.slice(0, 197) + '...' : s;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Date.parse rolls 2024-02-30 over to March 1st: the day must exist in its month. */
function realCalendarDay(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * `local@domain.tld`: one `@`, no white space, a `.` inside the domain with text on both sides. Linear
 * in the length on purpose: the regular expression it replaces (/^[^\s@]+@[^\s@]+\.[^\s@]+$/)
 * backtracked quadratically, 11 s for a 100 KB value, holding the event loop past any deadline.
 */
function isEmail(v: string): boolean {
  const at = v.indexOf('@');
  if (at <= 0 || v.includes('@', at + 1) || /\s/.test(v)) return false;
  return v.slice(at + 2, -1).includes('.');
}

/** Ranges a shape cannot say: hour 23 at most, second 60 (a leap second), an offset under 24 hours. */
function isDateTime(v: string): boolean {
  const m = DATE_TIME.exec(v);
  if (!m) return false;
  const [hh, mm, ss, oh, om] = [m[4], m[5], m[6], m[7] ?? '00', m[8] ?? '00'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return hh <= 23 && mm <= 59 && ss <= 60 && oh <= 23 && om <= 59 && realCalendarDay(v);
}

function checkFormat(format: string, v: unknown): boolean {
  switch (format) {
    case 'uuid':
      return typeof v === 'string' && UUID.test(v);
    case 'iso-date':
      return typeof v === 'string' && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v)) && realCalendarDay(v);
    case 'date-time':
      return typeof v === 'string' && isDateTime(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'email':
      return typeof v === 'string' && isEmail(v);
    case 'url':
      try {
        return typeof v === 'string' && Boolean(new URL(v));
      } catch {
        return false;
      }
    case 'json':
      try {
        return typeof v === 'string' && (JSON.parse(v), true);
      } catch {
        return false;
      }
    default:
      return false;
  }
}

function containsValue(actual: unknown, needle: unknown): boolean {
  if (typeof actual === 'string') return typeof needle === 'string' && actual.includes(needle);
  if (Array.isArray(actual))
    return actual.some((a) => isDeepStrictEqual(a, needle) || (isPlainObject(needle) && isSubset(a, needle)));
  if (isPlainObject(actual) && isPlainObject(needle)) return isSubset(actual, needle);
  return false;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isSubset(actual: unknown, part: Record<string, unknown>): boolean {
  if (!isPlainObject(actual)) return false;
  return Object.entries(part).every(
    ([k, v]) => k in actual && (isPlainObject(v) ? isSubset(actual[k], v) : isDeepStrictEqual(actual[k], v)),
  );
}

export function isMatcherObject(m: Matcher): m is MatcherObject {
  return m !== null && typeof m === 'object';
}

/**
 * Compile-once cache. No `m` flag: `^…$` means the whole value, so `^ok$` does not pass for a text
 * that merely has an `ok` line. A pattern built from a variable can still be invalid: null then.
 */
const regexCache = new Map<string, RegExp | null>();
function regex(src: string): RegExp | null {
  if (!regexCache.has(src)) {
    try {
      regexCache.set(src, new RegExp(src));
    } catch {
      regexCache.set(src, null);
    }
  }
  return regexCache.get(src)!;
}

/** Where two texts first differ, as words: a trailing newline is not invisible there. */
export function firstDifference(expected: string, actual: string): string {
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const at = (s: string) => (i < s.length ? JSON.stringify(s[i]) : 'the end');
  return `first difference at character ${i + 1}: expected ${at(expected)}, got ${at(actual)}`;
}

/** "expected X, got Y", and for two texts where they first differ. */
function notEqual(expected: unknown, actual: unknown): string {
  const words = `expected ${describe(expected)}, got ${describe(actual)}`;
  return typeof expected === 'string' && typeof actual === 'string'
    ? `${words} (${firstDifference(expected, actual)})`
    : words;
}

export function matchValue(matcher: Matcher, actual: unknown): MatchOutcome {
  if (!isMatcherObject(matcher)) {
    return isDeepStrictEqual(actual, matcher) ? { passed: true } : { passed: false, reason: notEqual(matcher, actual) };
  }
  const m = matcher;
  const fail = (reason: string): MatchOutcome => ({ passed: false, reason });
  if ('exists' in m && m.exists !== undefined) {
    if (m.exists && actual === undefined) return fail('expected the field to exist, it is absent');
    if (!m.exists && actual !== undefined) return fail(`expected the field to be absent, got ${describe(actual)}`);
  }
  if ('absent' in m && m.absent !== undefined) {
    if (m.absent && actual !== undefined) return fail(`expected the field to be absent, got ${describe(actual)}`);
    if (!m.absent && actual === undefined) return fail('expected the field to exist, it is absent');
  }
  if ('equals' in m && !isDeepStrictEqual(actual, m.equals)) return fail(notEqual(m.equals, actual));
  if ('type' in m && m.type !== undefined) {
    const types = Array.isArray(m.type) ? m.type : [m.type];
    if (!types.includes(typeName(actual) as (typeof types)[number]))
      return fail(`expected ${types.map((t) => `a ${t}`).join(' or ')}, got ${typeName(actual)} ${describe(actual)}`);
  }
  if ('format' in m && m.format !== undefined && !checkFormat(m.format, actual))
    return fail(`expected format ${m.format}, got ${describe(actual)}`);
  if ('regex' in m && m.regex !== undefined) {
    if (typeof actual !== 'string') return fail(`expected a string matching /${m.regex}/, got ${describe(actual)}`);
    const re = regex(m.regex);
    if (!re) return fail(`/${m.regex}/ is not a valid regular expression (after variables were substituted)`);
    if (!re.test(actual)) return fail(`expected to match /${m.regex}/, got ${describe(actual)}`);
  }
  if ('contains' in m && m.contains !== undefined && !containsValue(actual, m.contains))
    return fail(`expected to contain ${describe(m.contains)}, got ${describe(actual)}`);
  if (
    'startsWith' in m &&
    m.startsWith !== undefined &&
    !(typeof actual === 'string' && actual.startsWith(m.startsWith))
  )
    return fail(`expected to start with ${describe(m.startsWith)}, got ${describe(actual)}`);
  if ('oneOf' in m && m.oneOf !== undefined && !m.oneOf.some((o) => isDeepStrictEqual(o, actual)))
    return fail(`expected one of ${describe(m.oneOf)}, got ${describe(actual)}`);
  for (const [key, op] of [
    ['gt', (a: number, b: number) => a > b],
    ['gte', (a: number, b: number) => a >= b],
    ['lt', (a: number, b: number) => a < b],
    ['lte', (a: number, b: number) => a <= b],
  ] as const) {
    if (key in m && m[key] !== undefined) {
      if (typeof actual !== 'number' || !op(actual, m[key]!))
        return fail(`expected ${key} ${m[key]}, got ${describe(actual)}`);
    }
  }
  if ('length' in m && m.length !== undefined) {
    const len = typeof actual === 'string' || Array.isArray(actual) ? actual.length : undefined;
    if (len === undefined) return fail(`expected something with a length, got ${describe(actual)}`);
    const inner = matchValue(m.length as Matcher, len);
    if (!inner.passed) return fail(`length ${len}: ${inner.reason}`);
  }
  if ('not' in m && m.not !== undefined) {
    if (matchValue(m.not as Matcher, actual).passed)
      return fail(`expected not ${describe(m.not)}, got ${describe(actual)}`);
  }
  return { passed: true };
}

/** All regex sources in a matcher, for load-time validation. */
export function matcherRegexes(m: unknown): string[] {
  if (m === null || typeof m !== 'object') return [];
  const out: string[] = [];
  const o = m as Record<string, unknown>;
  if (typeof o.regex === 'string') out.push(o.regex);
  if (o.not) out.push(...matcherRegexes(o.not));
  if (o.length) out.push(...matcherRegexes(o.length));
  return out;
}
