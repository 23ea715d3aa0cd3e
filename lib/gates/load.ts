// Reading gates.yaml: YAML with positions → structure checks with "did you mean" → zod schema per
// step kind → semantic checks (variables, regexes, connection names). Every problem found is
// reported at once, each as `FILE:LINE:COL: message`, before anything runs.
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { STEP_SCHEMAS, STEP_KINDS, type StepKind } from '../../steps/schemas/index.ts';
import { didYouMean, quoted, type HarnessError } from '../errors.ts';
import type { Loc } from '../loc.ts';
import { parseDuration } from './duration.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { DEFAULT_KEYS, GATE_KEYS, GatesFile, TOP_KEYS } from './schema.ts';
import type { LoadedGate, LoadedGates, LoadedStep } from './model.ts';
import type { ModelSectionInput } from './model-section.ts';
import { Positions, describeType, type PathSeg } from './positions.ts';
import { incomingKindsOf, unmatchableSelectors } from '../protocol/selectors.ts';
import { readGatesText } from './read.ts';
import { yamlErrors } from './yaml-errors.ts';
import { zodIssues } from './zod-issues.ts';
import { checkFileVars, checkNeeds, semanticChecks } from './semantics.ts';
import type { NonJson } from './common-schema.ts';

export { MAX_GATES_BYTES } from './read.ts';
export { MAX_YAML_ERRORS } from './yaml-errors.ts';
export const BUILTIN_VARS = [
  'URL',
  'HTTP_URL',
  'PROJECT',
  'RUN_ID',
  'GATE_ID',
  'MODEL_URL',
  'OUTSIDE',
  'OUTSIDE_REL',
  'CWD',
] as const;

export interface LoadOptions {
  /** Names given with --var; they exist at run time. */
  cliVars?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** How the file is named in FILE:LINE:COL (default: the path given). */
  display?: string;
}

const GATES_SHAPE_HINT =
  'a gates file is a map: `version: 1`, then `gates:` with a list of gates (see the gates.yaml shipped with wsgate)';

export type LoadResult = { ok: true; gates: LoadedGates } | { ok: false; errors: HarnessError[] };

export function loadGatesFile(file: string, opts: LoadOptions = {}): LoadResult {
  const read = readGatesText(file);
  if ('error' in read) return { ok: false, errors: [read.error] };
  return loadGatesText(read.text, file, opts);
}

export function loadGatesText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const r = loadText(text, file, opts);
  // One problem is one line (and its hint one more), whatever user text a title quotes.
  const oneLine = (s: string) => s.replace(/\s*[\r\n]\s*/g, ' ');
  return r.ok
    ? r
    : {
        ...r,
        errors: r.errors.map((e) => ({
          ...e,
          title: oneLine(e.title),
          ...(e.hint !== undefined ? { hint: oneLine(e.hint) } : {}),
        })),
      };
}

function loadText(text: string, file: string, opts: LoadOptions): LoadResult {
  // Locations name the file as the user gave it (--gates ../x/gates.yaml), not re-derived from the cwd.
  const display = opts.display ?? file;
  const lc = new LineCounter();
  // merge: `<<: *anchor` merges an anchored map into a step (YAML 1.1 merge keys, which people expect).
  const doc = parseDocument(text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    logLevel: 'error',
    merge: true,
  });
  const pos = new Positions(doc, lc, display);
  const errors: HarnessError[] = [];
  if (doc.errors.length) return { ok: false, errors: yamlErrors(doc, text, lc, pos) };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { ok: false, errors: [{ code: 'YAML_SYNTAX', title: (e as Error).message, loc: pos.nodeLoc([]) }] };
  }
  const err = (code: HarnessError['code'], title: string, loc: Loc, hint?: string) =>
    errors.push({ code, title, loc, ...(hint ? { hint } : {}) });

  if (raw === null || raw === undefined) {
    err(
      'SCHEMA',
      text.trim() === '' ? 'the gates file is empty' : 'the gates file has no content (only comments)',
      pos.nodeLoc([]),
      GATES_SHAPE_HINT,
    );
    return { ok: false, errors };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    err(
      'SCHEMA',
      `a gates file is a map with version and gates, got ${describeType(raw)}`,
      pos.nodeLoc([]),
      GATES_SHAPE_HINT,
    );
    return { ok: false, errors };
  }
  const top = raw as Record<string, unknown>;
  // x- keys are the author's own: a place to define YAML anchors (&handshake) that steps reuse (*handshake).
  unknownKeys(
    Object.fromEntries(Object.entries(top).filter(([k]) => !k.startsWith('x-'))),
    TOP_KEYS,
    [],
    'the top level',
    pos,
    errors,
    [],
    'or start the key with x- to keep your own data (YAML anchors) there',
  );
  const groups = loadGroups(top.groups, pos, errors);
  if (!('version' in top)) err('SCHEMA', 'missing `version: 1`', pos.nodeLoc([]));
  else if (top.version === '1')
    err(
      'SCHEMA',
      'version must be the number 1, not the string "1"',
      pos.nodeLoc(['version']),
      'write `version: 1` without quotes',
    );
  else if (top.version !== 1)
    err(
      'SCHEMA',
      `unsupported version ${JSON.stringify(top.version)}; this wsgate reads version 1`,
      pos.nodeLoc(['version']),
    );
  if (top.defaults !== undefined) {
    if (top.defaults === null || typeof top.defaults !== 'object' || Array.isArray(top.defaults))
      err('SCHEMA', `defaults must be a map, got ${describeType(top.defaults)}`, pos.nodeLoc(['defaults']));
    else {
      unknownKeys(top.defaults as Record<string, unknown>, DEFAULT_KEYS, ['defaults'], 'defaults', pos, errors);
      const known = Object.fromEntries(Object.entries(top.defaults).filter(([k]) => DEFAULT_KEYS.includes(k)));
      zodIssues(GatesFile.shape.defaults, known, ['defaults'], pos, errors, true);
    }
  }
  if (top.vars !== undefined) {
    const before = errors.length;
    zodIssues(GatesFile.shape.vars, top.vars, ['vars'], pos, errors);
    if (errors.length === before)
      errors.push(
        ...checkFileVars(
          top.vars as Record<string, unknown>,
          BUILTIN_VARS.filter((v) => v !== 'GATE_ID'),
          opts.cliVars ?? {},
          opts.env ?? process.env,
          (name) => pos.nodeLoc(['vars', name]),
        ),
      );
  }
  if (top.protocol !== undefined && typeof top.protocol !== 'string')
    err('SCHEMA', 'protocol must be a file path', pos.nodeLoc(['protocol']));
  if (top.model !== undefined) zodIssues(GatesFile.shape.model, top.model, ['model'], pos, errors, true);

  const gates: LoadedGate[] = [];
  /** Groups some gate's steps reach (directly or through other groups): checked there, in the gate's context. */
  const used = new Set<string>();
  if (!('gates' in top)) err('SCHEMA', 'missing `gates:` (a list of gates)', pos.nodeLoc([]));
  else if (!Array.isArray(top.gates))
    err('SCHEMA', `gates must be a list, got ${describeType(top.gates)}`, pos.nodeLoc(['gates']));
  else if (top.gates.length === 0)
    err(
      'SCHEMA',
      'gates is empty: nothing to run',
      pos.nodeLoc(['gates']),
      'add at least one gate with an id, a title and steps',
    );
  else {
    const fileVars = new Set(Object.keys((top.vars as object | null) ?? {}));
    const known = new Set<string>([...BUILTIN_VARS, ...fileVars, ...Object.keys(opts.cliVars ?? {})]);
    const seen = new Map<string, Loc>();
    top.gates.forEach((g, gi) => {
      // Ids are compared even when a gate has other problems, so every problem shows up in one pass.
      const id =
        g && typeof g === 'object' && typeof (g as { id?: unknown }).id === 'string'
          ? (g as { id: string }).id
          : undefined;
      if (id !== undefined) {
        const prev = seen.get(id);
        if (prev)
          err(
            'DUPLICATE_GATE',
            `duplicate gate id "${id}" (first at line ${prev.line})`,
            pos.nodeLoc(['gates', gi, 'id']),
            'gate ids must be unique: --gate selects by id',
          );
        else seen.set(id, pos.nodeLoc(['gates', gi]));
      }
      const gate = loadGate(g, gi, pos, errors, known, opts.env ?? process.env, groups, used);
      if (gate) gates.push(gate);
    });
  }
  checkUnusedGroups(groups, used, pos, errors);
  errors.push(...checkNeeds(gates, pos));
  if (errors.length) return { ok: false, errors: byPosition(errors) };
  const d = (top.defaults ?? {}) as { timeout?: number | string; typeField?: string; nonJson?: NonJson };
  const loaded: LoadedGates = {
    file,
    source: text,
    defaults: {
      timeoutMs: d.timeout !== undefined ? parseDuration(d.timeout) : 5000,
      ...(d.typeField !== undefined ? { typeField: d.typeField } : {}),
      nonJson: d.nonJson ?? 'fail',
    },
    vars: (top.vars ?? {}) as Record<string, string | number | boolean>,
    ...(typeof top.protocol === 'string' ? { protocol: resolveProtocol(top.protocol, file) } : {}),
    ...(top.model !== undefined ? { model: top.model as ModelSectionInput } : {}),
    gates,
  };
  // A forbid:/none: of a kind the protocol's server never sends could never fail: refused here, so
  // every command that reads the file (run, run --list, model --gates, signoff) refuses it.
  const kinds = loaded.protocol !== undefined ? incomingKindsOf(loaded.protocol) : undefined;
  const never = kinds ? unmatchableSelectors(loaded, kinds) : [];
  return never.length ? { ok: false, errors: never } : { ok: true, gates: loaded };
}

/** Problems in file order (stable: problems at one place keep the order they were found in). */
function byPosition(errors: HarnessError[]): HarnessError[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort(
      (a, b) => (a.e.loc?.line ?? 0) - (b.e.loc?.line ?? 0) || (a.e.loc?.col ?? 0) - (b.e.loc?.col ?? 0) || a.i - b.i,
    )
    .map((x) => x.e);
}

/** `wsgate:NAME` names a protocol shipped with wsgate; anything else is a path relative to the gates file. */
export function resolveProtocol(ref: string, gatesFile: string): string {
  const shipped = /^wsgate:([a-z0-9][a-z0-9.-]*)$/.exec(ref);
  return shipped
    ? path.join(PACKAGE_ROOT, 'protocol', `${shipped[1]}.asyncapi.yaml`)
    : path.resolve(path.dirname(gatesFile), ref);
}

function unknownKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  at: PathSeg[],
  where: string,
  pos: Positions,
  errors: HarnessError[],
  extra: readonly string[] = [],
  more?: string,
): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    const guess = didYouMean(k, [...allowed, ...extra]);
    errors.push({
      code: 'UNKNOWN_KEY',
      title: `unknown key "${quoted(k)}" in ${where}`,
      loc: pos.keyLoc(at, k),
      hint: guess ? `did you mean "${guess}"?` : `allowed here: ${allowed.join(', ')}${more ? `, ${more}` : ''}`,
    });
  }
}

type Groups = Map<string, unknown[]>;

function loadGroups(raw: unknown, pos: Positions, errors: HarnessError[]): Groups {
  const groups: Groups = new Map();
  if (raw === undefined) return groups;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push({
      code: 'SCHEMA',
      title: `groups must be a map of names to lists of steps, got ${describeType(raw)}`,
      loc: pos.nodeLoc(['groups']),
    });
    return groups;
  }
  // The steps themselves are checked where a gate uses them (with that gate's variables and connections),
  // and those of a group no gate uses on their own (checkUnusedGroups).
  for (const [name, steps] of Object.entries(raw)) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name))
      errors.push({
        code: 'SCHEMA',
        title: `group name "${quoted(name)}": letters, digits, "_" and "-", starting with a letter`,
        loc: pos.keyLoc(['groups'], name),
      });
    else if (!Array.isArray(steps) || steps.length === 0)
      errors.push({
        code: 'SCHEMA',
        title: `group "${quoted(name)}" must be a non-empty list of steps`,
        loc: pos.nodeLoc(['groups', name]),
      });
    else groups.set(name, steps);
  }
  return groups;
}

/**
 * A gate's steps with every `- use: NAME` replaced by that group's steps (groups may use groups), each
 * with the path of where it is written, so a problem in a group's step points into `groups:`.
 */
function expandSteps(
  steps: unknown[],
  at: PathSeg[],
  groups: Groups,
  pos: Positions,
  errors: HarnessError[],
  used: Set<string>,
  trail: string[] = [],
): { value: unknown; at: PathSeg[] }[] {
  const out: { value: unknown; at: PathSeg[] }[] = [];
  steps.forEach((s, i) => {
    const here = [...at, i];
    const use = s && typeof s === 'object' && !Array.isArray(s) && 'use' in s ? (s as { use: unknown }).use : undefined;
    if (use === undefined) return void out.push({ value: s, at: here });
    const extra = Object.keys(s as object).filter((k) => k !== 'use');
    if (extra.length)
      errors.push({
        code: 'SCHEMA',
        title: `a use step holds only \`use: NAME\`, found ${extra.map((k) => `"${quoted(k)}"`).join(', ')} beside it`,
        loc: pos.keyLoc(here, extra[0]!),
        hint: 'put the other keys in a step of their own',
      });
    const name = String(use);
    const group = groups.get(name);
    if (!group) {
      const guess = didYouMean(name, [...groups.keys()]);
      errors.push({
        code: 'SCHEMA',
        title: `no group named "${quoted(name)}"`,
        loc: pos.nodeLoc([...here, 'use']),
        hint: guess
          ? `did you mean "${guess}"?`
          : groups.size
            ? `groups: ${[...groups.keys()].join(', ')}`
            : 'define it under a top-level `groups:` map',
      });
      return;
    }
    if (trail.includes(name)) {
      errors.push({
        code: 'SCHEMA',
        title: `groups use each other in a circle: ${[...trail, name].join(' → ')}`,
        loc: pos.nodeLoc([...here, 'use']),
      });
      return;
    }
    used.add(name);
    out.push(...expandSteps(group, ['groups', name], groups, pos, errors, used, [...trail, name]));
  });
  return out;
}

/** Any name: the variables and connections of a group no gate uses depend on a gate that does not exist. */
class AnyName extends Set<string> {
  override has(): boolean {
    return true;
  }
}

/**
 * The steps of groups no gate uses are checked too, each once, where they are written: an unknown step
 * kind or a bad key there is a load error, not a problem found the day a gate first uses the group.
 * Variables, connections and ${env.X} are left to the gates that will use it.
 */
function checkUnusedGroups(groups: Groups, used: Set<string>, pos: Positions, errors: HarnessError[]): void {
  const seen = new Set(errors.map((e) => `${e.loc?.line}:${e.loc?.col}:${e.title}`));
  const circles = new Set<string>();
  const anyEnv = new Proxy({}, { get: () => '' }) as NodeJS.ProcessEnv;
  for (const [name, steps] of groups) {
    if (used.has(name)) continue;
    // Expanded as a gate would, for the problems of its use steps (unknown group, circle); only its own
    // steps are loaded here, as a group it uses is checked on its own.
    const found: HarnessError[] = [];
    const own = expandSteps(steps, ['groups', name], groups, pos, found, new Set(), [name]).filter(
      (x) => x.at[1] === name,
    );
    own.forEach(({ value, at }) =>
      loadStep(
        value,
        at,
        `group "${quoted(name)}" step ${(at[2] as number) + 1}`,
        pos,
        found,
        new AnyName(),
        new AnyName(),
        anyEnv,
      ),
    );
    for (const e of found) {
      const circle = /^groups use each other in a circle: (.*)$/.exec(e.title)?.[1];
      const sig = circle
        ? [...new Set(circle.split(' → '))].sort().join(',')
        : `${e.loc?.line}:${e.loc?.col}:${e.title}`;
      if ((circle ? circles : seen).has(sig)) continue;
      (circle ? circles : seen).add(sig);
      errors.push(e);
    }
  }
}

function loadGate(
  g: unknown,
  gi: number,
  pos: Positions,
  errors: HarnessError[],
  fileKnown: Set<string>,
  env: NodeJS.ProcessEnv,
  groups: Groups,
  used: Set<string>,
): LoadedGate | undefined {
  const at: PathSeg[] = ['gates', gi];
  if (g === null || typeof g !== 'object' || Array.isArray(g)) {
    errors.push({
      code: 'SCHEMA',
      title: `a gate is a map with id, title and steps, got ${describeType(g)}`,
      loc: pos.nodeLoc(at),
    });
    return undefined;
  }
  const gate = g as Record<string, unknown>;
  unknownKeys(gate, GATE_KEYS, at, `gate ${typeof gate.id === 'string' ? `"${gate.id}"` : `#${gi + 1}`}`, pos, errors);
  const before = errors.length;
  for (const key of ['id', 'title', 'serial', 'needs'] as const) {
    if (key in gate) zodIssues(GatesFile.shape.gates.element.shape[key], gate[key], [...at, key], pos, errors);
  }
  for (const key of ['id', 'title', 'steps'] as const) {
    if (!(key in gate))
      errors.push({
        code: 'SCHEMA',
        title: `gate #${gi + 1} has no ${key}`,
        loc: pos.nodeLoc(at),
        hint: 'each gate needs id, title and steps',
      });
  }
  const id = typeof gate.id === 'string' ? gate.id : `#${gi + 1}`;
  const steps: LoadedStep[] = [];
  if ('steps' in gate) {
    if (!Array.isArray(gate.steps) || gate.steps.length === 0) {
      errors.push({
        code: 'SCHEMA',
        title: `gate "${quoted(String(id))}": steps must be a non-empty list`,
        loc: pos.nodeLoc([...at, 'steps']),
      });
    } else {
      const known = new Set(fileKnown);
      const connections = new Set<string>();
      expandSteps(gate.steps, [...at, 'steps'], groups, pos, errors, used).forEach(({ value, at: stepAt }, si) => {
        const step = loadStep(
          value,
          stepAt,
          `gate "${quoted(id)}" step ${si + 1}`,
          pos,
          errors,
          known,
          connections,
          env,
        );
        if (step) steps.push(step);
      });
    }
  }
  if (errors.length > before) return undefined;
  return {
    id,
    title: String(gate.title),
    loc: pos.nodeLoc(at),
    steps,
    serial: gate.serial === true,
    needs: (gate.needs as string[] | undefined) ?? [],
  };
}

function stepKindOf(keys: string[]): { kind?: StepKind; conflict?: StepKind[] } {
  const kinds = keys.filter((k): k is StepKind => (STEP_KINDS as string[]).includes(k));
  // `expect` beside `send` is the send's expectation list, not a second step.
  const main = kinds.includes('send') ? kinds.filter((k) => k !== 'expect') : kinds;
  if (main.length === 1) return { kind: main[0]! };
  if (main.length > 1) return { conflict: main };
  return {};
}

function loadStep(
  s: unknown,
  at: PathSeg[],
  where: string,
  pos: Positions,
  errors: HarnessError[],
  known: Set<string>,
  connections: Set<string>,
  env: NodeJS.ProcessEnv,
): LoadedStep | undefined {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) {
    errors.push({
      code: 'SCHEMA',
      title: `${where}: a step is a map such as {send: ...}, got ${describeType(s)}`,
      loc: pos.nodeLoc(at),
      hint: `step kinds: ${STEP_KINDS.join(', ')}`,
    });
    return undefined;
  }
  const obj = s as Record<string, unknown>;
  const keys = Object.keys(obj);
  const { kind, conflict } = stepKindOf(keys);
  if (conflict) {
    errors.push({
      code: 'SCHEMA',
      title: `${where}: one step has one kind, found ${conflict.join(' and ')}`,
      loc: pos.keyLoc(at, conflict[1]!),
      hint: 'split them into two steps',
    });
    return undefined;
  }
  if (!kind) {
    // `name:` is an option of every kind: the unknown kind is another key (`- name: x` then `sned: ...`).
    const first = keys.find((k) => k !== 'name') ?? keys[0];
    const guess = keys.map((k) => didYouMean(k, STEP_KINDS)).find(Boolean);
    errors.push({
      code: 'UNKNOWN_STEP',
      title: `${where}: ${first ? `unknown step kind "${quoted(first)}"` : 'a step needs a step kind'}`,
      loc: first ? pos.keyLoc(at, first) : pos.nodeLoc(at),
      hint: guess ? `did you mean "${guess}"?` : `step kinds: ${STEP_KINDS.join(', ')}`,
    });
    return undefined;
  }
  const def = STEP_SCHEMAS[kind];
  const before = errors.length;
  // A key that is no option of this kind but a near miss of another kind is a misspelled step kind
  // (`sned:` beside `expect:` reads as an expect step otherwise).
  const shape = (def.schema as unknown as { shape: Record<string, unknown> }).shape;
  const checked: Record<string, unknown> = {};
  for (const k of keys) {
    const kindGuess =
      Object.hasOwn(shape, k) || didYouMean(k, Object.keys(shape)) ? undefined : didYouMean(k, STEP_KINDS);
    if (kindGuess && kindGuess !== kind)
      errors.push({
        code: 'UNKNOWN_STEP',
        title: `${where}: unknown step kind "${quoted(k)}"`,
        loc: pos.keyLoc(at, k),
        hint: `did you mean "${kindGuess}"?`,
      });
    // defineProperty: a `__proto__` key must stay a key (and be reported), not become the prototype.
    else Object.defineProperty(checked, k, { value: obj[k], enumerable: true, writable: true, configurable: true });
  }
  zodIssues(def.schema, checked, at, pos, errors, true, `${where} (${kind})`);
  if (errors.length > before) return undefined;
  const parsed = def.schema.safeParse(obj);
  if (!parsed.success) {
    // zodIssues found nothing, yet the schema refuses: say so rather than throw.
    errors.push({
      code: 'SCHEMA',
      title: `${where} (${kind}): ${parsed.error.issues[0]?.message ?? 'invalid step'}`,
      loc: pos.nodeLoc(at),
    });
    return undefined;
  }
  const params = parsed.data as never;
  semanticChecks(kind, params, at, where, pos, errors, known, connections, env);
  if (errors.length > before) return undefined;
  return {
    kind,
    params,
    label: (obj.name as string | undefined) ?? def.label(params),
    loc: pos.nodeLoc(at),
    locOf: (p) => pos.nodeLoc([...at, ...p]),
  };
}

/** Variables a step defines for the steps after it. */
