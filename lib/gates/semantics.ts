// What a schema cannot see: variables used before anything sets them (and `vars:` that name unknown
// variables or each other in a circle), regexes that do not compile, raw lines wscat cannot send,
// connections used before a step opens them, and combinations of keys that mean nothing.
import { STEP_SCHEMAS, type StepKind } from '../../steps/schemas/index.ts';
import type { StepSchema } from './step-schema.ts';
import type { Loc } from '../loc.ts';
import { didYouMean, quoted, type HarnessError } from '../errors.ts';
import { refsIn } from '../util/vars.ts';
import { matcherRegexes } from '../matching/match.ts';
import type { PathSeg, Positions } from './positions.ts';
import type { LoadedGate } from './model.ts';

function capturesOf(kind: StepKind, p: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (kind === 'send' || kind === 'expect') {
    for (const e of (p.expect as Record<string, unknown>[] | undefined) ?? []) {
      if (e.capture) out.push(...Object.keys(e.capture as object));
      if (typeof e.into === 'string') out.push(e.into);
    }
  }
  if ((kind === 'http' || kind === 'run') && p.capture) out.push(...Object.keys(p.capture as object));
  return out;
}

function walkStrings(v: unknown, at: PathSeg[], fn: (s: string, at: PathSeg[]) => void): void {
  if (typeof v === 'string') fn(v, at);
  else if (Array.isArray(v)) v.forEach((x, i) => walkStrings(x, [...at, i], fn));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walkStrings(x, [...at, k], fn);
}

function walkMatchers(v: unknown, at: PathSeg[], fn: (m: unknown, at: PathSeg[]) => void): void {
  if (Array.isArray(v)) v.forEach((x, i) => walkMatchers(x, [...at, i], fn));
  else if (v && typeof v === 'object') {
    if ('regex' in v) fn(v, at);
    for (const [k, x] of Object.entries(v)) if (k !== 'regex') walkMatchers(x, [...at, k], fn);
  }
}

export function semanticChecks(
  kind: StepKind,
  params: Record<string, unknown>,
  at: PathSeg[],
  where: string,
  pos: Positions,
  errors: HarnessError[],
  known: Set<string>,
  connections: Set<string>,
  env: NodeJS.ProcessEnv,
): void {
  walkStrings(params, at, (s, p) => {
    for (const name of refsIn(s)) {
      if (name.startsWith('env.')) {
        if (env[name.slice(4)] === undefined)
          errors.push({
            code: 'UNKNOWN_VARIABLE',
            title: `${where}: environment variable ${name.slice(4)} is not set (\${${name}})`,
            loc: pos.nodeLoc(p),
            hint: `export ${name.slice(4)}=... before running`,
          });
      } else if (!known.has(name)) {
        const guess = didYouMean(name, [...known]);
        errors.push({
          code: 'UNKNOWN_VARIABLE',
          title: `${where}: unknown variable \${${name}}`,
          loc: pos.nodeLoc(p),
          hint: guess
            ? `did you mean \${${guess}}?`
            : `known here: ${[...known].join(', ')} (captures are usable from the next step on)`,
        });
      }
    }
  });
  walkMatchers(params, at, (m, p) => {
    for (const src of matcherRegexes(m)) {
      try {
        new RegExp(src);
      } catch (e) {
        errors.push({
          code: 'BAD_REGEX',
          title: `${where}: invalid regex /${quoted(src)}/: ${regexProblem(e)}`,
          loc: pos.nodeLoc([...p, 'regex']),
        });
      }
    }
  });
  if (kind === 'start' && (params.ready as { log?: string })?.log) {
    try {
      new RegExp((params.ready as { log: string }).log);
    } catch (e) {
      errors.push({
        code: 'BAD_REGEX',
        title: `${where}: invalid regex /${quoted((params.ready as { log: string }).log)}/ in ready.log: ${regexProblem(e)}`,
        loc: pos.nodeLoc([...at, 'ready', 'log']),
      });
    }
  }
  // Checks a step kind makes of its own parameters (e.g. a shell line with an unquotable \${X}).
  for (const p of (STEP_SCHEMAS[kind] as unknown as StepSchema).loadProblems?.(params) ?? []) {
    const loc =
      p.atKey && p.path.length
        ? pos.keyLoc([...at, ...p.path.slice(0, -1)], String(p.path[p.path.length - 1]))
        : pos.nodeLoc([...at, ...p.path]);
    errors.push({ code: 'SCHEMA', title: `${where}: ${p.title}`, loc, ...(p.hint ? { hint: p.hint } : {}) });
  }
  if (kind === 'send' && typeof params.send === 'string') {
    const raw = params.send;
    if (/[\r\n]/.test(raw))
      errors.push({
        code: 'SCHEMA',
        title: `${where}: a raw line cannot contain a newline (wscat sends one frame per line)`,
        loc: pos.nodeLoc([...at, 'send']),
        hint: 'send a JSON object instead, or split it into several sends',
      });
    if (raw.startsWith('/'))
      errors.push({
        code: 'SCHEMA',
        title: `${where}: a raw line cannot start with "/" (wscat would read it as a slash command)`,
        loc: pos.nodeLoc([...at, 'send']),
        hint: 'send it inside JSON, e.g. {type: slash_command, command: "/help"}',
      });
  }
  const exps = (params.expect as Record<string, unknown>[] | undefined) ?? [];
  exps.forEach((e, i) => {
    // A collect gathers pieces until the next expectation that selects a message is met.
    if ('collect' in e && !exps.slice(i + 1).some((x) => !('collect' in x) && !('none' in x))) {
      errors.push({
        code: 'SCHEMA',
        title: `${where}: a collect expectation needs a later expectation that ends it (e.g. type: message_complete)`,
        loc: pos.nodeLoc([...at, 'expect', i]),
      });
    }
    if ('collect' in e && params.unordered === true) {
      errors.push({
        code: 'SCHEMA',
        title: `${where}: collect needs an ordered list (it gathers pieces until the next expectation), but this step is unordered`,
        loc: pos.nodeLoc([...at, 'expect', i]),
        hint: 'remove `unordered: true`, or split the collect into a step of its own',
      });
    }
  });
  if (params.unordered === true && !exps.length) {
    errors.push({
      code: 'SCHEMA',
      title: `${where}: unordered has no expectations to order`,
      loc: pos.keyLoc(at, 'unordered'),
    });
  }
  if (kind === 'soak') {
    const sk = params.soak as { for?: unknown; rounds?: unknown; steps?: Record<string, unknown>[] };
    if ((sk.for === undefined) === (sk.rounds === undefined))
      errors.push({
        code: 'SCHEMA',
        title: `${where}: a soak needs exactly one of for (a duration) and rounds (a count)`,
        loc: pos.nodeLoc([...at, 'soak']),
      });
    (sk.steps ?? []).forEach((inner, k) => {
      if (inner.on !== undefined)
        errors.push({
          code: 'SCHEMA',
          title: `${where}: a soak step runs on its own soak connection; on: is not allowed here`,
          loc: pos.nodeLoc([...at, 'soak', 'steps', k, 'on']),
        });
    });
  }
  if (kind === 'close' && typeof params.close === 'object' && params.close !== null) {
    const c = params.close as { by?: string; reason?: unknown };
    if (c.by !== 'server' && c.reason !== undefined && typeof c.reason !== 'string') {
      errors.push({
        code: 'SCHEMA',
        title: `${where}: the reason the harness sends is a text, not a matcher`,
        loc: pos.nodeLoc([...at, 'close', 'reason']),
        hint: 'with `by: server` the reason is a matcher of what the server sends',
      });
    }
  }
  // Connection names: a step may only use a connection a previous step opened.
  if (kind === 'connect') {
    const c = params.connect;
    connections.add(typeof c === 'string' ? c : ((c as { name?: string }).name ?? 'main'));
  } else if (kind === 'send' || kind === 'expect' || kind === 'close') {
    const on =
      kind === 'close'
        ? typeof params.close === 'string'
          ? params.close
          : (params.close as { on?: string }).on
        : (params.on as string | undefined);
    const name = on ?? 'main';
    if (!connections.has(name)) {
      errors.push({
        code: 'SCHEMA',
        title: `${where}: no connection named "${quoted(name)}" is open at this point`,
        loc: pos.nodeLoc(on !== undefined ? [...at, kind === 'close' ? 'close' : 'on'] : at),
        hint: connections.size ? `open here: ${[...connections].join(', ')}` : 'add a `connect` step before it',
      });
    }
  }
  // `distinct: [{var, across: [names]}]` compares what those connections captured: each must be open by then.
  if (kind === 'send' || kind === 'expect') {
    ((params.distinct as unknown[] | undefined) ?? []).forEach((d, i) => {
      if (typeof d !== 'object' || d === null) return;
      ((d as { across: string[] }).across ?? []).forEach((name, k) => {
        if (!connections.has(name))
          errors.push({
            code: 'SCHEMA',
            title: `${where}: distinct across: no connection named "${quoted(name)}" is open at this point`,
            loc: pos.nodeLoc([...at, 'distinct', i, 'across', k]),
            hint: connections.size ? `open here: ${[...connections].join(', ')}` : 'add a `connect` step before it',
          });
      });
    });
  }
  for (const c of capturesOf(kind, params)) known.add(c);
}

/** "Unterminated group" out of "Invalid regular expression: /(a/: Unterminated group". */
function regexProblem(e: unknown): string {
  return (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

/**
 * `vars:` values may use other variables: each name must be known (a built-in, another var, a --var
 * or an environment variable that is set), and no var may lead back to itself.
 */
export function checkFileVars(
  vars: Record<string, unknown>,
  builtins: readonly string[],
  cliVars: Record<string, string>,
  env: NodeJS.ProcessEnv,
  locOf: (name: string) => Loc,
): HarnessError[] {
  const errors: HarnessError[] = [];
  const names = Object.keys(vars);
  const known = new Set([...builtins, ...names, ...Object.keys(cliVars)]);
  const edges = new Map<string, string[]>();
  for (const name of names) {
    const refs = refsIn(vars[name]);
    edges.set(
      name,
      refs.filter((r) => names.includes(r) && !Object.hasOwn(cliVars, r)),
    );
    for (const r of refs) {
      if (r.startsWith('env.')) {
        if (env[r.slice(4)] === undefined)
          errors.push({
            code: 'UNKNOWN_VARIABLE',
            title: `vars.${name}: environment variable ${r.slice(4)} is not set (\${${r}})`,
            loc: locOf(name),
            hint: `export ${r.slice(4)}=... before running`,
          });
      } else if (!known.has(r)) {
        const guess = didYouMean(r, [...known]);
        errors.push({
          code: 'UNKNOWN_VARIABLE',
          title: `vars.${name}: unknown variable \${${r}}`,
          loc: locOf(name),
          hint: guess ? `did you mean \${${guess}}?` : `known here: ${[...known].join(', ')}`,
        });
      }
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      errors.push({
        code: 'UNKNOWN_VARIABLE',
        title: `vars: ${cycle.map((n) => `\${${n}}`).join(' → ')} is a circle: no value can be found`,
        loc: locOf(name),
        hint: 'give one of them a value that does not use the others',
      });
      return;
    }
    state.set(name, 'visiting');
    for (const next of edges.get(name) ?? []) visit(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of names) visit(name, []);
  return errors;
}

/**
 * `needs:` names earlier gates: gates run in file order, so a needed gate must come first; a circle
 * of needs (which always includes a later gate) is named as such.
 */
export function checkNeeds(gates: LoadedGate[], pos: Positions): HarnessError[] {
  const errors: HarnessError[] = [];
  const index = new Map(gates.map((g, i) => [g.id, i]));
  const byId = new Map(gates.map((g) => [g.id, g]));
  const circle = (from: string): string[] | undefined => {
    const walk = (id: string, trail: string[]): string[] | undefined => {
      if (trail.includes(id)) return id === from ? [...trail, id] : undefined;
      for (const n of byId.get(id)?.needs ?? []) {
        const c = walk(n, [...trail, id]);
        if (c) return c;
      }
      return undefined;
    };
    return walk(from, []);
  };
  gates.forEach((g, gi) => {
    g.needs.forEach((n, ni) => {
      const loc = pos.nodeLoc(['gates', gi, 'needs', ni]);
      const at = index.get(n);
      if (at === undefined) {
        const guess = didYouMean(n, [...index.keys()]);
        errors.push({
          code: 'SCHEMA',
          title: `gate "${quoted(g.id)}" needs "${quoted(n)}", but no gate has that id`,
          loc,
          hint: guess ? `did you mean "${guess}"?` : `gate ids: ${[...index.keys()].slice(0, 12).join(', ')}`,
        });
      } else if (n === g.id) errors.push({ code: 'SCHEMA', title: `gate "${quoted(g.id)}" needs itself`, loc });
      else if (at > gi) {
        const c = circle(g.id);
        errors.push({
          code: 'SCHEMA',
          title: c
            ? `needs go round in a circle: ${c.join(' → ')}`
            : `gate "${quoted(g.id)}" needs "${quoted(n)}", which comes later in the file`,
          loc,
          hint: c
            ? 'no gate of a circle could ever run: remove one of these needs'
            : `gates run in file order: move "${n}" above "${g.id}"`,
        });
      }
    });
  });
  return errors;
}
