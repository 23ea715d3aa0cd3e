// Which recorded values would differ on the next run, and what a gate writes in their place. A gate
// that hard-codes a session id or a timestamp fails on its first replay, so every value goes through
// here: known values become variables, volatile ones matchers, and only stable ones stay literal.
// The rules (documented in docs/record.md):
//   strings  the project folder → ${PROJECT}; a captured id → ${name}; the run id → ${RUN_ID};
//            a UUID → {format: uuid}; an ISO date → {format: iso-date}; a field named like an id
//            (id, sessionId, request_id…) that the client did not send → {type: string}; a git
//            hash → a hex regex; those inside longer text → the text with ${…} or a regex;
//            longer than 4 KB → {type: string}; anything else literally.
//   numbers  vary when the same field of the same message kind took several values in the
//            session, is not an integer, looks like epoch time (>= 1e9), or is named like a time,
//            duration, size, counter or id (createdAt, tookMs, tokensUsed, messageCount, sessions);
//            those become {type: number}, the rest stay literal (exitCode: 0, code: 4000).
import type { Matcher } from '../gates/common-schema.ts';
import { matchValue } from '../matching/match.ts';

/** A captured value: written as ${name} from step `from` on (captures are usable from the next step). */
export interface VarBinding {
  name: string;
  value: string;
  from: number;
}

export interface ValueContext {
  project?: string;
  projectAliases?: string[];
  runId?: string;
  vars: VarBinding[];
  /** Index of the step being written. */
  step: number;
  /** Strings the client sent as they were (its own values, stable by definition). */
  clientValues: Set<string>;
  /** Numbers the client sent (ids of its calls): echoed back, they stay literal. */
  clientNumbers?: Set<number>;
  stats: Map<string, number>;
}

export const MAX_LITERAL = 4096;

export function count(ctx: ValueContext, rule: string, n = 1): void {
  ctx.stats.set(rule, (ctx.stats.get(rule) ?? 0) + n);
}

// The gate format's own definitions, so an inferred format always passes on the recorded value.
const isUuid = (v: string) => matchValue({ format: 'uuid' }, v).passed;
const isIsoDate = (v: string) => /^\d{4}-\d{2}-\d{2}/.test(v) && matchValue({ format: 'iso-date' }, v).passed;
const SHA = /^[0-9a-f]{7,40}$/;
const isSha = (v: string) => SHA.test(v) && /\d/.test(v) && /[a-f]/.test(v);
/** A value whose shape says a machine made it for this run: a UUID or a git hash. */
export const looksGenerated = (v: string) => isUuid(v) || isSha(v);
/** A value that changes with every run by its shape (generated, or a timestamp). */
export const looksVolatile = (v: string) => looksGenerated(v) || isIsoDate(v);

/** camelCase, snake_case and kebab-case words of a key, lower-cased. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

const ID_WORDS = new Set(['id', 'uuid', 'guid', 'token', 'nonce']);
export function idLikeKey(key: string): boolean {
  const w = words(key);
  return w.length > 0 && ID_WORDS.has(w[w.length - 1]!);
}

const VOLATILE_NUMBER_WORDS = new Set([
  ...ID_WORDS,
  'time',
  'timestamp',
  'date',
  'at',
  'ms',
  'millis',
  'seconds',
  'secs',
  'duration',
  'elapsed',
  'uptime',
  'latency',
  'took',
  'count',
  'total',
  'tokens',
  'seq',
  'sequence',
  'size',
  'bytes',
  'length',
  'pid',
  'port',
  'index',
  'offset',
  'memory',
  'rss',
  'heap',
  'usage',
  'version',
  'rev',
  'revision',
]);

function volatileNumberKey(key: string): boolean {
  const w = words(key);
  if (w.some((x) => VOLATILE_NUMBER_WORDS.has(x))) return true;
  // A number under a plural noun counts things (sessions: 11, connections: 1, retries: 3).
  const last = w[w.length - 1] ?? '';
  return /[^su]s$/.test(last) && !/(ss|us|is)$/.test(last) && last.length > 3;
}

export function numberMatcher(n: number, key: string, varies: boolean, ctx: ValueContext): Matcher {
  // The client's own numbers (its call ids) echoed back are the session's: literal even when they differ per call.
  if (ctx.clientNumbers?.has(n)) return n;
  if (varies || !Number.isInteger(n) || Math.abs(n) >= 1e9 || volatileNumberKey(key)) {
    count(ctx, 'number');
    return { type: 'number' };
  }
  return n;
}

interface Token {
  start: number;
  end: number;
  /** A variable name (written ${name}) or a regex source for a volatile value. */
  ref?: string;
  pattern?: string;
  rule: string;
}

const REF_LIKE = /\$\{[A-Za-z_]/;
const TOKEN_PATTERNS: { re: RegExp; pattern: string; rule: string; accept?: (s: string) => boolean }[] = [
  {
    re: /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g,
    pattern: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
    rule: 'uuid',
  },
  {
    re: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g,
    pattern: '\\d{4}-\\d{2}-\\d{2}T[0-9:.]+(?:Z|[+-]\\d{2}:?\\d{2})?',
    rule: 'iso-date',
  },
  // Inside text, a short hash may happen to be all digits (about 4% of commits); a run of 7+ digits
  // there is loosened too: the pattern still matches the value it came from, so nothing can break.
  {
    re: /\b[0-9a-f]{7,40}\b/g,
    pattern: '[0-9a-f]{7,40}',
    rule: 'hash',
    accept: (v: string) => isSha(v) || /^\d{7,40}$/.test(v),
  },
];

function knownValues(ctx: ValueContext): { name: string; value: string; rule: string }[] {
  const out: { name: string; value: string; rule: string }[] = [];
  for (const p of [ctx.project, ...(ctx.projectAliases ?? [])])
    if (p) out.push({ name: 'PROJECT', value: p, rule: 'project' });
  if (ctx.runId) out.push({ name: 'RUN_ID', value: ctx.runId, rule: 'run id' });
  for (const v of ctx.vars) if (v.from <= ctx.step) out.push({ name: v.name, value: v.value, rule: 'capture' });
  return out.sort((a, b) => b.value.length - a.value.length);
}

/** Inside longer text only values long enough not to turn up there by chance. */
export const MIN_INSIDE = 6;

/** Known values and volatile tokens inside a text, left to right, without overlaps (variables win). */
function tokensIn(s: string, ctx: ValueContext, withPatterns: boolean): Token[] {
  const found: Token[] = [];
  for (const k of knownValues(ctx)) {
    if (k.value.length < MIN_INSIDE && k.value !== s) continue;
    for (let i = s.indexOf(k.value); i >= 0; i = s.indexOf(k.value, i + k.value.length))
      found.push({ start: i, end: i + k.value.length, ref: k.name, rule: k.rule });
  }
  if (withPatterns) {
    for (const p of TOKEN_PATTERNS) {
      for (const m of s.matchAll(p.re))
        if (!p.accept || p.accept(m[0]))
          found.push({ start: m.index, end: m.index + m[0].length, pattern: p.pattern, rule: p.rule });
    }
  }
  found.sort((a, b) => a.start - b.start || (a.ref ? -1 : 0) - (b.ref ? -1 : 0) || b.end - a.end);
  const kept: Token[] = [];
  for (const t of found) if (!kept.length || t.start >= kept[kept.length - 1]!.end) kept.push(t);
  return kept;
}

/** Known values inside a text the client sent (or a file's content) replaced by ${NAME}. */
export function withVariables(s: string, ctx: ValueContext): string {
  const tokens = tokensIn(s, ctx, false);
  if (!tokens.length) return s;
  let out = '';
  let at = 0;
  for (const t of tokens) {
    out += s.slice(at, t.start) + '${' + t.ref + '}';
    count(ctx, t.rule);
    at = t.end;
  }
  return out + s.slice(at);
}

/**
 * Why a server's text carries detail of the machine that made it, if it does: a stack trace (file
 * paths and line numbers change with every build) or an absolute path outside the project (another
 * machine has another). Such text is not pinned; the reason is written above the step.
 */
export function machineDetail(s: string, ctx: ValueContext): string | undefined {
  if (/\n\s+at \S/.test(s) || /\(\/?[^()\s]+:\d+:\d+\)/.test(s))
    return 'a stack trace (files and line numbers change with the build)';
  const known = withVariables(s, { ...ctx, stats: new Map() });
  if (/(?:^|[\s"'(=:,[])\/(?:[\w.@+-]+\/)+[\w.@+-]*/.test(known)) return 'an absolute path of the recording machine';
  return undefined;
}

/** `${` of the session's own text written so a gate reads it literally (`\${`), not as a variable. */
export function escapeRefs(s: string): string {
  return s.replace(/\$\{/g, '\\${');
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A value substituted into a regex is not escaped: only paths of plain characters may go in as ${NAME}. */
const regexSafe = (s: string) => /^[A-Za-z0-9_/ :~,-]*$/.test(s);

/**
 * A text with volatile parts: known values become ${NAME}, volatile tokens patterns. Without any,
 * the text itself. A text that holds `${` of its own must be a regex (or it would read as a variable).
 */
export function textMatcher(s: string, ctx: ValueContext): Matcher {
  const tokens = tokensIn(s, ctx, true);
  const needsRegex = tokens.some((t) => t.pattern) || REF_LIKE.test(s);
  if (!needsRegex) return withVariables(s, ctx);
  let src = '^';
  let at = 0;
  for (const t of tokens) {
    src += escapeRegex(s.slice(at, t.start));
    const known = t.ref ? knownValues(ctx).find((k) => k.name === t.ref)!.value : '';
    src += t.pattern ?? (regexSafe(known) ? '${' + t.ref + '}' : '.+');
    count(ctx, t.rule);
    at = t.end;
  }
  count(ctx, 'regex');
  return { regex: src + escapeRegex(s.slice(at)) + '$' };
}

export function stringMatcher(s: string, key: string, ctx: ValueContext): Matcher {
  const known = knownValues(ctx).find((k) => k.value === s);
  if (known) {
    count(ctx, known.rule);
    return '${' + known.name + '}';
  }
  if (ctx.clientValues.has(s)) return textMatcher(s, ctx);
  for (const [test, rule, m] of [
    [isUuid, 'uuid', { format: 'uuid' }],
    [isIsoDate, 'iso-date', { format: 'iso-date' }],
    [() => idLikeKey(key), 'id', { type: 'string' }],
    [isSha, 'hash', { regex: SHA.source }],
    [() => s.length > MAX_LITERAL, 'long text', { type: 'string' }],
  ] as const) {
    if (test(s)) {
      count(ctx, rule);
      return m as Matcher;
    }
  }
  return textMatcher(s, ctx);
}

const isScalarMatcher = (m: Matcher) => m === null || typeof m !== 'object';

/** Any JSON value at `key`: scalars by the rules above, arrays whole (equal when every element is stable). */
export function leafMatcher(v: unknown, key: string, varies: boolean, ctx: ValueContext): Matcher {
  if (typeof v === 'string') return stringMatcher(v, key, ctx);
  if (typeof v === 'number') return numberMatcher(v, key, varies, ctx);
  if (typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x) => x === null || typeof x !== 'object')) {
      const scratch: ValueContext = { ...ctx, stats: new Map() };
      const elems = v.map((x) => leafMatcher(x, key, false, scratch));
      if (elems.every(isScalarMatcher)) {
        for (const [k, n] of scratch.stats) count(ctx, k, n);
        return { equals: elems };
      }
    }
    return { type: 'array' };
  }
  return { type: 'object' };
}

/** The fields of a JSON object as gate paths (a.b.c) down to scalars and arrays. */
export function leaves(
  value: unknown,
  prefix = '',
  out: [string, string, unknown][] = [],
): [string, string, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    out.push([prefix, prefix.split('.').pop() ?? '', value]);
    return out;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  // A key a path cannot spell (a dot, a bracket) keeps its parent whole.
  if (prefix && (entries.length === 0 || entries.some(([k]) => !/^[A-Za-z0-9_$-]+$/.test(k)))) {
    out.push([prefix, prefix.split('.').pop() ?? '', value]);
    return out;
  }
  for (const [k, v] of entries) {
    if (!/^[A-Za-z0-9_$-]+$/.test(k)) continue;
    leaves(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}
