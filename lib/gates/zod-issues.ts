// zod's validation issues turned into gates-file errors: the union branch the author meant, the key
// at fault with its FILE:LINE:COL, and "did you mean" among the keys allowed there.
import type { z } from 'zod';
import { didYouMean, quoted, type HarnessError } from '../errors.ts';
import { describeType, type PathSeg, type Positions } from './positions.ts';

type Issue = z.core.$ZodIssue;

/** Pick the union branch that got furthest, so the message talks about what the author meant. */
function bestBranch(branches: Issue[][]): Issue[] {
  let best = branches[0] ?? [];
  let bestScore = -Infinity;
  for (const b of branches) {
    const typeAtRoot = b.every((i) => i.code === 'invalid_type' && i.path.length === 0);
    const score = (typeAtRoot ? -1000 : 0) + Math.max(0, ...b.map((i) => i.path.length)) * 10 - b.length;
    if (score > bestScore) {
      bestScore = score;
      best = b;
    }
  }
  return best;
}

function flatten(
  issues: readonly Issue[],
  prefix: PathSeg[] = [],
): { issue: Issue; path: PathSeg[]; alternatives?: string }[] {
  const out: { issue: Issue; path: PathSeg[]; alternatives?: string }[] = [];
  for (const i of issues) {
    const p = [...prefix, ...(i.path as PathSeg[])];
    if (i.code === 'invalid_union' && 'errors' in i && i.errors.length) {
      const roots = i.errors.filter((b) => b.every((x) => x.code === 'invalid_type' && x.path.length === 0));
      if (roots.length === i.errors.length) {
        const expected = [...new Set(roots.flatMap((b) => b.map((x) => (x as { expected?: string }).expected ?? '?')))];
        out.push({ issue: i, path: p, alternatives: expected.join(' or ') });
      } else out.push(...flatten(bestBranch(i.errors), p));
    } else out.push({ issue: i, path: p });
  }
  return out;
}

export function zodIssues(
  schema: z.ZodType,
  value: unknown,
  at: PathSeg[],
  pos: Positions,
  errors: HarnessError[],
  withKeyHints = false,
  where?: string,
): void {
  const r = schema.safeParse(value);
  if (r.success) return;
  const seen = new Set<string>();
  for (const { issue, path: rel, alternatives } of flatten(r.error.issues)) {
    const p = [...at, ...rel];
    const keyName = rel.length
      ? rel.map(String).join('.')
      : at[at.length - 1] !== undefined
        ? String(at[at.length - 1])
        : 'value';
    const prefix = where ? `${where}: ` : '';
    let e: HarnessError;
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        const allowed = withKeyHints ? allowedKeysAt(schema, value, rel) : [];
        const guess = didYouMean(k, allowed);
        const err: HarnessError = {
          code: 'UNKNOWN_KEY',
          title: `${prefix}unknown key "${quoted(k)}"${rel.length ? ` in ${rel.join('.')}` : ''}`,
          loc: pos.keyLoc(p, k),
          ...(guess
            ? { hint: `did you mean "${guess}"?` }
            : allowed.length
              ? { hint: `allowed here: ${allowed.join(', ')}` }
              : {}),
        };
        const sig = `${err.loc!.line}:${err.loc!.col}:${err.title}`;
        if (!seen.has(sig)) {
          errors.push(err);
          seen.add(sig);
        }
      }
      continue;
    }
    if (issue.code === 'invalid_key' && rel.length) {
      // A record key the key schema refuses (`capture: {my-var: ...}`): at the key, with the rule it breaks.
      const key = String(rel[rel.length - 1]);
      const parent = rel.slice(0, -1);
      const inner = (issue as { issues?: Issue[] }).issues?.[0]?.message ?? issue.message;
      const fixed = key.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, '_');
      e = {
        code: 'SCHEMA',
        title: `${prefix}${parent.length ? `${parent.join('.')}: ` : ''}"${quoted(key)}": ${inner}`,
        loc: pos.keyLoc([...at, ...parent], key),
        ...(fixed !== key && /^[A-Za-z_][A-Za-z0-9_]*$/.test(fixed)
          ? { hint: `\${${key}} could never be substituted: write "${fixed}"` }
          : {}),
      };
      const sig = `${e.loc!.line}:${e.loc!.col}:${e.title}`;
      if (!seen.has(sig)) {
        errors.push(e);
        seen.add(sig);
      }
      continue;
    }
    const got = describeType(valueAt(value, rel));
    if (alternatives)
      e = { code: 'SCHEMA', title: `${prefix}${keyName}: expected ${alternatives}, got ${got}`, loc: pos.nodeLoc(p) };
    else if (issue.code === 'invalid_type') {
      const missing = valueAt(value, rel) === undefined;
      e = {
        code: 'SCHEMA',
        title: missing
          ? `${prefix}missing required ${keyName}`
          : `${prefix}${keyName}: expected ${(issue as { expected: string }).expected}, got ${got}`,
        loc: pos.nodeLoc(p),
      };
    } else if (issue.code === 'too_small' && (issue as { origin?: string }).origin === 'array')
      e = { code: 'SCHEMA', title: `${prefix}${keyName} must not be empty`, loc: pos.nodeLoc(p) };
    else if (issue.code === 'custom') {
      // A refinement (a rule across keys) words itself and may say what to write instead.
      const hint = (issue as { params?: { hint?: unknown } }).params?.hint;
      e = {
        code: 'SCHEMA',
        title: `${prefix}${keyName}: ${issue.message}`,
        loc: pos.nodeLoc(p),
        ...(typeof hint === 'string' ? { hint } : {}),
      };
    } else
      e = {
        code: 'SCHEMA',
        title: `${prefix}${keyName}: ${issue.message.replace(/^Invalid (input|option): /, '')}${['invalid_value', 'invalid_format', 'too_small', 'too_big'].includes(issue.code) ? `, got ${got}` : ''}`,
        loc: pos.nodeLoc(p),
      };
    const sig = `${e.loc!.line}:${e.loc!.col}:${e.title}`;
    if (!seen.has(sig)) {
      errors.push(e);
      seen.add(sig);
    }
  }
}

function valueAt(v: unknown, p: PathSeg[]): unknown {
  let cur = v;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** Keys a strict object accepts at a path of a schema (through unions, arrays and records), for hints. */
function allowedKeysAt(schema: z.ZodType, value: unknown, p: PathSeg[]): string[] {
  const keys = new Set<string>();
  const anyKeys = new Set<string>();
  const walk = (s: unknown, v: unknown, rest: PathSeg[]): void => {
    const def = (s as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    if (!def) return;
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'readonly':
        return walk(def.innerType, v, rest);
      case 'lazy':
        return walk((def.getter as () => unknown)(), v, rest);
      case 'union':
        for (const o of def.options as unknown[]) walk(o, v, rest);
        return;
      case 'array':
        if (rest.length && Array.isArray(v)) walk(def.element, v[rest[0] as number], rest.slice(1));
        return;
      case 'record':
        if (rest.length && v && typeof v === 'object')
          walk(def.valueType, (v as Record<string, unknown>)[rest[0] as string], rest.slice(1));
        return;
      case 'object': {
        const shape = def.shape as Record<string, unknown>;
        if (!rest.length) {
          // Only objects that share a key with the value are what the author meant.
          const vk = v && typeof v === 'object' ? Object.keys(v) : [];
          if (vk.length === 0 || vk.some((k) => k in shape)) for (const k of Object.keys(shape)) keys.add(k);
          for (const k of Object.keys(shape)) anyKeys.add(k);
          return;
        }
        walk(
          shape[rest[0] as string],
          v && typeof v === 'object' ? (v as Record<string, unknown>)[rest[0] as string] : undefined,
          rest.slice(1),
        );
        return;
      }
      default:
        return;
    }
  };
  walk(schema, value, p);
  // No object shares a key with the value (e.g. `{formt: uuid}`): every candidate is a guess.
  return [...(keys.size ? keys : anyKeys)];
}
