// Reading gates.yaml: YAML with positions → structure checks with "did you mean" → zod schema per
// step kind → semantic checks (variables, regexes, connection names). Every problem found is
// reported at once, each as `FILE:LINE:COL: message`, before anything runs.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CST, LineCounter, Parser, parseDocument, visit, isMap, isScalar, isPair, type Document, type Node, type Scalar } from 'yaml';
import type { z } from 'zod';
import { STEPS, STEP_KINDS, type StepKind } from '../../steps/index.ts';
import { didYouMean, quoted, type HarnessError } from '../errors.ts';
import type { Loc } from '../results.ts';
import { refsIn } from '../vars.ts';
import { matcherRegexes } from '../match.ts';
import { parseDuration } from '../duration.ts';
import { PACKAGE_ROOT } from '../protocol/package-root.ts';
import { DEFAULT_KEYS, GATE_KEYS, GatesFile, TOP_KEYS } from './schema.ts';
import type { LoadedGate, LoadedGates, LoadedStep } from './model.ts';
import type { StepDefinition } from '../step-api.ts';

export const MAX_GATES_BYTES = 2 * 1024 * 1024;
export const BUILTIN_VARS = ['URL', 'HTTP_URL', 'PROJECT', 'RUN_ID', 'GATE_ID'] as const;

export interface LoadOptions {
  /** Names given with --var; they exist at run time. */
  cliVars?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

const GATES_SHAPE_HINT = 'a gates file is a map: `version: 1`, then `gates:` with a list of gates (see the gates.yaml shipped with wsgate)';

export type LoadResult = { ok: true; gates: LoadedGates } | { ok: false; errors: HarnessError[] };

type PathSeg = string | number;

class Positions {
  constructor(private readonly doc: Document, private readonly lc: LineCounter, private readonly file: string) {}

  at(offset: number): Loc {
    const p = this.lc.linePos(offset);
    return { file: this.file, line: p.line, col: p.col };
  }

  /** The node at a path, or its nearest existing ancestor. */
  nodeLoc(p: PathSeg[]): Loc {
    for (let n = p.length; n >= 0; n--) {
      const node = this.doc.getIn(p.slice(0, n), true) as Node | undefined;
      if (node && (node as { range?: [number, number, number] }).range) return this.at(node.range![0]);
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /** The key of `key` inside the map at `p`. */
  keyLoc(p: PathSeg[], key: string): Loc {
    const map = this.doc.getIn(p, true);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) return this.at(pair.key.range[0]);
      }
    }
    return this.nodeLoc(p);
  }
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

function readGatesText(file: string): { text: string } | { error: HarnessError } {
  const where = { file, line: 1, col: 1 };
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: { code: 'GATES_FILE', title: code === 'ENOENT' ? `gates file not found: ${file}` : `cannot read gates file ${file} (${code})`, hint: 'pass --gates FILE, or run from a folder that has gates.yaml', loc: where } };
  }
  if (st.isDirectory()) return { error: { code: 'GATES_FILE', title: `${file} is a directory, not a gates file`, hint: 'pass the YAML file itself, e.g. --gates dir/gates.yaml', loc: where } };
  if (st.size > MAX_GATES_BYTES) return { error: { code: 'GATES_FILE', title: `gates file is ${(st.size / 1048576).toFixed(1)} MB; the limit is ${MAX_GATES_BYTES / 1048576} MB`, hint: 'split it, or check that this is the right file', loc: where } };
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    return { error: { code: 'GATES_FILE', title: `cannot read gates file ${file} (${(e as NodeJS.ErrnoException).code})`, loc: where } };
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) return { error: { code: 'GATES_FILE', title: `${file} is a binary file (NUL byte at offset ${nul}), not YAML`, loc: where } };
  const text = buf.toString('utf8');
  if (text.includes('\uFFFD')) return { error: { code: 'GATES_FILE', title: `${file} is not valid UTF-8 text`, loc: where } };
  return { text };
}

export function loadGatesFile(file: string, opts: LoadOptions = {}): LoadResult {
  const read = readGatesText(file);
  if ('error' in read) return { ok: false, errors: [read.error] };
  return loadGatesText(read.text, file, opts);
}

export function loadGatesText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const r = loadText(text, file, opts);
  // One problem is one line (and its hint one more), whatever user text a title quotes.
  const oneLine = (s: string) => s.replace(/\s*[\r\n]\s*/g, ' ');
  return r.ok ? r : { ...r, errors: r.errors.map((e) => ({ ...e, title: oneLine(e.title), ...(e.hint !== undefined ? { hint: oneLine(e.hint) } : {}) })) };
}

function loadText(text: string, file: string, opts: LoadOptions): LoadResult {
  const display = path.relative(process.cwd(), file) || file;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, strict: true, logLevel: 'error' });
  const pos = new Positions(doc, lc, display);
  const errors: HarnessError[] = [];
  if (doc.errors.length) return { ok: false, errors: yamlErrors(doc, text, lc, pos) };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { ok: false, errors: [{ code: 'YAML_SYNTAX', title: (e as Error).message, loc: pos.nodeLoc([]) }] };
  }
  const err = (code: HarnessError['code'], title: string, loc: Loc, hint?: string) => errors.push({ code, title, loc, ...(hint ? { hint } : {}) });

  if (raw === null || raw === undefined) {
    err('SCHEMA', text.trim() === '' ? 'the gates file is empty' : 'the gates file has no content (only comments)', pos.nodeLoc([]), GATES_SHAPE_HINT);
    return { ok: false, errors };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    err('SCHEMA', `a gates file is a map with version and gates, got ${describeType(raw)}`, pos.nodeLoc([]), GATES_SHAPE_HINT);
    return { ok: false, errors };
  }
  const top = raw as Record<string, unknown>;
  unknownKeys(top, TOP_KEYS, [], 'the top level', pos, errors);
  if (!('version' in top)) err('SCHEMA', 'missing `version: 1`', pos.nodeLoc([]));
  else if (top.version === '1') err('SCHEMA', 'version must be the number 1, not the string "1"', pos.nodeLoc(['version']), 'write `version: 1` without quotes');
  else if (top.version !== 1) err('SCHEMA', `unsupported version ${JSON.stringify(top.version)}; this wsgate reads version 1`, pos.nodeLoc(['version']));
  if (top.defaults !== undefined) {
    if (top.defaults === null || typeof top.defaults !== 'object' || Array.isArray(top.defaults)) err('SCHEMA', `defaults must be a map, got ${describeType(top.defaults)}`, pos.nodeLoc(['defaults']));
    else {
      unknownKeys(top.defaults as Record<string, unknown>, DEFAULT_KEYS, ['defaults'], 'defaults', pos, errors);
      const known = Object.fromEntries(Object.entries(top.defaults).filter(([k]) => DEFAULT_KEYS.includes(k)));
      zodIssues(GatesFile.shape.defaults, known, ['defaults'], pos, errors, true);
    }
  }
  if (top.vars !== undefined) zodIssues(GatesFile.shape.vars, top.vars, ['vars'], pos, errors);
  if (top.protocol !== undefined && typeof top.protocol !== 'string') err('SCHEMA', 'protocol must be a file path', pos.nodeLoc(['protocol']));

  const gates: LoadedGate[] = [];
  if (!('gates' in top)) err('SCHEMA', 'missing `gates:` (a list of gates)', pos.nodeLoc([]));
  else if (!Array.isArray(top.gates)) err('SCHEMA', `gates must be a list, got ${describeType(top.gates)}`, pos.nodeLoc(['gates']));
  else if (top.gates.length === 0) err('SCHEMA', 'gates is empty: nothing to run', pos.nodeLoc(['gates']), 'add at least one gate with an id, a title and steps');
  else {
    const fileVars = new Set(Object.keys((top.vars as object | null) ?? {}));
    const known = new Set<string>([...BUILTIN_VARS, ...fileVars, ...Object.keys(opts.cliVars ?? {})]);
    const seen = new Map<string, Loc>();
    top.gates.forEach((g, gi) => {
      // Ids are compared even when a gate has other problems, so every problem shows up in one pass.
      const id = g && typeof g === 'object' && typeof (g as { id?: unknown }).id === 'string' ? (g as { id: string }).id : undefined;
      if (id !== undefined) {
        const prev = seen.get(id);
        if (prev) err('DUPLICATE_GATE', `duplicate gate id "${id}" (first at line ${prev.line})`, pos.nodeLoc(['gates', gi, 'id']), 'gate ids must be unique: --gate selects by id');
        else seen.set(id, pos.nodeLoc(['gates', gi]));
      }
      const gate = loadGate(g, gi, pos, errors, known, opts.env ?? process.env);
      if (gate) gates.push(gate);
    });
  }
  if (errors.length) return { ok: false, errors: byPosition(errors) };
  const d = (top.defaults ?? {}) as { timeout?: number | string; typeField?: string; nonJson?: 'fail' | 'ignore' };
  return {
    ok: true,
    gates: {
      file,
      source: text,
      defaults: { timeoutMs: d.timeout !== undefined ? parseDuration(d.timeout) : 5000, typeField: d.typeField ?? 'type', nonJson: d.nonJson ?? 'fail' },
      vars: (top.vars ?? {}) as Record<string, string | number | boolean>,
      ...(typeof top.protocol === 'string' ? { protocol: resolveProtocol(top.protocol, file) } : {}),
      gates,
    },
  };
}

export const MAX_YAML_ERRORS = 10;

/**
 * YAML syntax errors, each moved to where the author has to look. Cascades are dropped: the misread
 * lines around a tab, and the "Unexpected ... token in YAML stream" for every token after the point
 * where the parser lost the document (one stray `{` can make thousands). At most MAX_YAML_ERRORS.
 */
function yamlErrors(doc: Document, text: string, lc: LineCounter, pos: Positions): HarnessError[] {
  const out = yamlErrorList(doc, text, lc, pos);
  if (out.length <= MAX_YAML_ERRORS) return out;
  const rest = out.length - MAX_YAML_ERRORS;
  return [...out.slice(0, MAX_YAML_ERRORS), { code: 'YAML_SYNTAX', title: `and ${rest} more YAML syntax error${rest === 1 ? '' : 's'} from here on`, loc: out[MAX_YAML_ERRORS]!.loc!, hint: 'fix the first ones: the later ones often follow from them' }];
}

function yamlErrorList(doc: Document, text: string, lc: LineCounter, pos: Positions): HarnessError[] {
  const out: HarnessError[] = [];
  let lost: HarnessError | undefined;
  let lostMore = 0;
  const tabLines = doc.errors.filter((e) => e.code === 'TAB_AS_INDENT').map((e) => lc.linePos(e.pos[0]).line);
  let cst: CST.Token[] | undefined;
  const tokens = () => (cst ??= [...new Parser().parse(text)]);
  for (const e of doc.errors) {
    const line = lc.linePos(e.pos[0]).line;
    // A tab in the indentation makes the parser misread that line and the key above it: one error is enough.
    if (e.code !== 'TAB_AS_INDENT' && tabLines.some((t) => line === t || line === t - 1)) continue;
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const found = pos.at(e.pos[0]);
    if (/ in YAML stream/.test(msg)) {
      if (lost) {
        lostMore++;
        continue;
      }
      lost = { code: 'YAML_SYNTAX', title: `the YAML parser lost track of the document here (${msg})`, loc: found, hint: 'look at this line and the ones just above it: an unclosed bracket or quote, or a line indented differently' };
      out.push(lost);
      continue;
    }
    if (e.code === 'TAB_AS_INDENT') {
      out.push({ code: 'YAML_SYNTAX', title: 'a tab is used for indentation', loc: found, hint: 'YAML indents with spaces only: replace the tab with spaces' });
      continue;
    }
    if (e.code === 'MISSING_CHAR' && /closing .*quote/i.test(msg)) {
      const open = unclosed(tokens(), e.pos[0], (t) => (t.type === 'double-quoted-scalar' || t.type === 'single-quoted-scalar') && !closedQuote(t.source));
      if (open) {
        const q = open.type === 'double-quoted-scalar' ? '"' : "'";
        out.push({ code: 'YAML_SYNTAX', title: `unclosed quote: the string that starts here has no closing ${q}`, loc: pos.at(open.offset), hint: `the YAML parser read to line ${found.line} looking for it; add the closing ${q}` });
        continue;
      }
    }
    if (/^Flow (map|sequence)/.test(msg)) {
      const open = unclosed(tokens(), e.pos[0], (t) => t.type === 'flow-collection' && !t.end.some((x) => x.type === 'flow-map-end' || x.type === 'flow-seq-end'));
      if (open && open.type === 'flow-collection') {
        const [o, c] = open.start.source === '{' ? ['{', '}'] : ['[', ']'];
        out.push({ code: 'YAML_SYNTAX', title: `unclosed ${o === '{' ? 'flow map' : 'flow list'}: this ${o} has no matching ${c}`, loc: pos.at(open.offset), hint: `add the ${c} (the YAML parser gave up at line ${found.line}, col ${found.col})` });
        continue;
      }
    }
    if (e.code === 'MULTIPLE_DOCS') {
      out.push({ code: 'YAML_SYNTAX', title: 'a second YAML document starts here; a gates file is one document', loc: found, hint: 'remove the `---` line (or the `...` line before it) so everything is in one document' });
      continue;
    }
    if (e.code === 'DUPLICATE_KEY') {
      const dup = duplicateKey(doc, e.pos[0]);
      if (dup) {
        out.push({ code: 'YAML_SYNTAX', title: `duplicate key "${dup.key}"`, loc: found, hint: `"${dup.key}" is already set at line ${lc.linePos(dup.first).line}; a map has each key once` });
        continue;
      }
    }
    const lineStart = lc.lineStarts[found.line - 1] ?? 0;
    if (e.pos[0] === lineStart && /^\s+\S/.test(text.slice(lineStart, text.indexOf('\n', lineStart) >>> 0))) {
      // The parser points at the start of a wrongly indented line: point at its first character.
      const indent = /^[ ]*/.exec(text.slice(lineStart))![0].length;
      out.push({ code: 'YAML_SYNTAX', title: `bad indentation (${msg})`, loc: { ...found, col: indent + 1 }, hint: 'this line does not line up with the lines above it: check its indentation' });
      continue;
    }
    out.push({ code: 'YAML_SYNTAX', title: msg, loc: found, ...(e.code === 'BAD_INDENT' ? { hint: 'check the indentation of this line against the lines above it' } : {}) });
  }
  if (lost && lostMore) lost.hint += `; the ${lostMore} unreadable token${lostMore === 1 ? '' : 's'} after it ${lostMore === 1 ? 'is' : 'are'} not listed`;
  return out;
}

/** The last CST token before `offset` that `pred` picks (an opening quote or bracket that never closed). */
function unclosed(tokens: CST.Token[], offset: number, pred: (t: CST.Token) => boolean): CST.Token | undefined {
  let best: CST.Token | undefined;
  const consider = (t: CST.Token | undefined) => {
    if (t && t.offset <= offset && pred(t) && (!best || t.offset > best.offset)) best = t;
  };
  for (const doc of tokens) {
    consider(doc);
    if (doc.type !== 'document') continue;
    CST.visit(doc, (item) => {
      consider(item.key ?? undefined);
      consider(item.value);
    });
  }
  return best;
}

function closedQuote(source: string): boolean {
  const q = source[0]!;
  const body = source.trimEnd();
  if (body.length < 2 || !body.endsWith(q)) return false;
  if (q === "'") return true;
  let bs = 0;
  for (let i = body.length - 2; i > 0 && body[i] === '\\'; i--) bs++;
  return bs % 2 === 0;
}

function duplicateKey(doc: Document, offset: number): { key: string; first: number } | undefined {
  let hit: { key: string; first: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const at = map.items.find((p) => isScalar(p.key) && p.key.range?.[0] === offset);
      if (!at) return undefined;
      const key = String((at.key as Scalar).value);
      const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      hit = { key, first: (first!.key as Scalar).range![0] };
      return visit.BREAK;
    },
  });
  return hit;
}

/** Problems in file order (stable: problems at one place keep the order they were found in). */
function byPosition(errors: HarnessError[]): HarnessError[] {
  return errors.map((e, i) => ({ e, i })).sort((a, b) => (a.e.loc?.line ?? 0) - (b.e.loc?.line ?? 0) || (a.e.loc?.col ?? 0) - (b.e.loc?.col ?? 0) || a.i - b.i).map((x) => x.e);
}

/** `wsgate:NAME` names a protocol shipped with wsgate; anything else is a path relative to the gates file. */
export function resolveProtocol(ref: string, gatesFile: string): string {
  const shipped = /^wsgate:([a-z0-9-]+)$/.exec(ref);
  return shipped ? path.join(PACKAGE_ROOT, 'protocol', `${shipped[1]}.asyncapi.yaml`) : path.resolve(path.dirname(gatesFile), ref);
}

function unknownKeys(obj: Record<string, unknown>, allowed: readonly string[], at: PathSeg[], where: string, pos: Positions, errors: HarnessError[], extra: readonly string[] = []): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    const guess = didYouMean(k, [...allowed, ...extra]);
    errors.push({ code: 'UNKNOWN_KEY', title: `unknown key "${quoted(k)}" in ${where}`, loc: pos.keyLoc(at, k), hint: guess ? `did you mean "${guess}"?` : `allowed here: ${allowed.join(', ')}` });
  }
}

function loadGate(g: unknown, gi: number, pos: Positions, errors: HarnessError[], fileKnown: Set<string>, env: NodeJS.ProcessEnv): LoadedGate | undefined {
  const at: PathSeg[] = ['gates', gi];
  if (g === null || typeof g !== 'object' || Array.isArray(g)) {
    errors.push({ code: 'SCHEMA', title: `a gate is a map with id, title and steps, got ${describeType(g)}`, loc: pos.nodeLoc(at) });
    return undefined;
  }
  const gate = g as Record<string, unknown>;
  unknownKeys(gate, GATE_KEYS, at, `gate ${typeof gate.id === 'string' ? `"${gate.id}"` : `#${gi + 1}`}`, pos, errors);
  const before = errors.length;
  for (const key of ['id', 'title', 'serial', 'tags'] as const) {
    if (key in gate) zodIssues(GatesFile.shape.gates.element.shape[key], gate[key], [...at, key], pos, errors);
  }
  for (const key of ['id', 'title', 'steps'] as const) {
    if (!(key in gate)) errors.push({ code: 'SCHEMA', title: `gate #${gi + 1} has no ${key}`, loc: pos.nodeLoc(at), hint: 'each gate needs id, title and steps' });
  }
  const id = typeof gate.id === 'string' ? gate.id : `#${gi + 1}`;
  const steps: LoadedStep[] = [];
  if ('steps' in gate) {
    if (!Array.isArray(gate.steps) || gate.steps.length === 0) {
      errors.push({ code: 'SCHEMA', title: `gate "${quoted(String(id))}": steps must be a non-empty list`, loc: pos.nodeLoc([...at, 'steps']) });
    } else {
      const known = new Set(fileKnown);
      const connections = new Set<string>();
      gate.steps.forEach((s, si) => {
        const step = loadStep(s, [...at, 'steps', si], id, si, pos, errors, known, connections, env);
        if (step) steps.push(step);
      });
    }
  }
  if (errors.length > before) return undefined;
  return { id, title: String(gate.title), loc: pos.nodeLoc(at), steps, serial: gate.serial === true };
}

function stepKindOf(keys: string[]): { kind?: StepKind; conflict?: StepKind[] } {
  const kinds = keys.filter((k): k is StepKind => (STEP_KINDS as string[]).includes(k));
  // `expect` beside `send` is the send's expectation list, not a second step.
  const main = kinds.includes('send') ? kinds.filter((k) => k !== 'expect') : kinds;
  if (main.length === 1) return { kind: main[0]! };
  if (main.length > 1) return { conflict: main };
  return {};
}

function loadStep(s: unknown, at: PathSeg[], gateId: string, si: number, pos: Positions, errors: HarnessError[], known: Set<string>, connections: Set<string>, env: NodeJS.ProcessEnv): LoadedStep | undefined {
  const where = `gate "${quoted(gateId)}" step ${si + 1}`;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) {
    errors.push({ code: 'SCHEMA', title: `${where}: a step is a map such as {send: ...}, got ${describeType(s)}`, loc: pos.nodeLoc(at), hint: `step kinds: ${STEP_KINDS.join(', ')}` });
    return undefined;
  }
  const obj = s as Record<string, unknown>;
  const keys = Object.keys(obj);
  const { kind, conflict } = stepKindOf(keys);
  if (conflict) {
    errors.push({ code: 'SCHEMA', title: `${where}: one step has one kind, found ${conflict.join(' and ')}`, loc: pos.keyLoc(at, conflict[1]!), hint: 'split them into two steps' });
    return undefined;
  }
  if (!kind) {
    const first = keys[0] ?? '(empty map)';
    const guess = keys.map((k) => didYouMean(k, STEP_KINDS)).find(Boolean);
    errors.push({ code: 'UNKNOWN_STEP', title: `${where}: unknown step kind "${quoted(first)}"`, loc: keys[0] ? pos.keyLoc(at, keys[0]) : pos.nodeLoc(at), hint: guess ? `did you mean "${guess}"?` : `step kinds: ${STEP_KINDS.join(', ')}` });
    return undefined;
  }
  const def = STEPS[kind];
  const before = errors.length;
  // A key that is no option of this kind but a near miss of another kind is a misspelled step kind
  // (`sned:` beside `expect:` reads as an expect step otherwise).
  const shape = (def.schema as unknown as { shape: Record<string, unknown> }).shape;
  const checked: Record<string, unknown> = {};
  for (const k of keys) {
    const kindGuess = Object.hasOwn(shape, k) || didYouMean(k, Object.keys(shape)) ? undefined : didYouMean(k, STEP_KINDS);
    if (kindGuess && kindGuess !== kind) errors.push({ code: 'UNKNOWN_STEP', title: `${where}: unknown step kind "${quoted(k)}"`, loc: pos.keyLoc(at, k), hint: `did you mean "${kindGuess}"?` });
    // defineProperty: a `__proto__` key must stay a key (and be reported), not become the prototype.
    else Object.defineProperty(checked, k, { value: obj[k], enumerable: true, writable: true, configurable: true });
  }
  zodIssues(def.schema, checked, at, pos, errors, true, `${where} (${kind})`);
  if (errors.length > before) return undefined;
  const parsed = def.schema.safeParse(obj);
  if (!parsed.success) {
    // zodIssues found nothing, yet the schema refuses: say so rather than throw.
    errors.push({ code: 'SCHEMA', title: `${where} (${kind}): ${parsed.error.issues[0]?.message ?? 'invalid step'}`, loc: pos.nodeLoc(at) });
    return undefined;
  }
  const params = parsed.data as never;
  semanticChecks(kind, params, at, where, pos, errors, known, connections, env);
  if (errors.length > before) return undefined;
  return { kind, params, label: (obj.name as string | undefined) ?? def.label(params), loc: pos.nodeLoc(at), locOf: (p) => pos.nodeLoc([...at, ...p]) };
}

/** Variables a step defines for the steps after it. */
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

function semanticChecks(kind: StepKind, params: Record<string, unknown>, at: PathSeg[], where: string, pos: Positions, errors: HarnessError[], known: Set<string>, connections: Set<string>, env: NodeJS.ProcessEnv): void {
  walkStrings(params, at, (s, p) => {
    for (const name of refsIn(s)) {
      if (name.startsWith('env.')) {
        if (env[name.slice(4)] === undefined) errors.push({ code: 'UNKNOWN_VARIABLE', title: `${where}: environment variable ${name.slice(4)} is not set (\${${name}})`, loc: pos.nodeLoc(p), hint: `export ${name.slice(4)}=... before running` });
      } else if (!known.has(name)) {
        const guess = didYouMean(name, [...known]);
        errors.push({ code: 'UNKNOWN_VARIABLE', title: `${where}: unknown variable \${${name}}`, loc: pos.nodeLoc(p), hint: guess ? `did you mean \${${guess}}?` : `known here: ${[...known].join(', ')} (captures are usable from the next step on)` });
      }
    }
  });
  walkMatchers(params, at, (m, p) => {
    for (const src of matcherRegexes(m)) {
      try {
        new RegExp(src);
      } catch (e) {
        errors.push({ code: 'BAD_REGEX', title: `${where}: invalid regex /${quoted(src)}/: ${regexProblem(e)}`, loc: pos.nodeLoc([...p, 'regex']) });
      }
    }
  });
  if (kind === 'start' && (params.ready as { log?: string })?.log) {
    try {
      new RegExp((params.ready as { log: string }).log);
    } catch (e) {
      errors.push({ code: 'BAD_REGEX', title: `${where}: invalid regex /${quoted((params.ready as { log: string }).log)}/ in ready.log: ${regexProblem(e)}`, loc: pos.nodeLoc([...at, 'ready', 'log']) });
    }
  }
  if (kind === 'send' && typeof params.send === 'string') {
    const raw = params.send;
    if (/[\r\n]/.test(raw)) errors.push({ code: 'SCHEMA', title: `${where}: a raw line cannot contain a newline (wscat sends one frame per line)`, loc: pos.nodeLoc([...at, 'send']), hint: 'send a JSON object instead, or split it into several sends' });
    if (raw.startsWith('/')) errors.push({ code: 'SCHEMA', title: `${where}: a raw line cannot start with "/" (wscat would read it as a slash command)`, loc: pos.nodeLoc([...at, 'send']), hint: 'send it inside JSON, e.g. {type: slash_command, command: "/help"}' });
  }
  for (const p of (STEPS[kind] as unknown as StepDefinition).loadProblems?.(params) ?? []) errors.push({ code: 'SCHEMA', title: `${where}: ${p.title}`, loc: pos.nodeLoc([...at, ...p.path]), ...(p.hint ? { hint: p.hint } : {}) });
  const exps = params.expect as Record<string, unknown>[] | undefined;
  if (exps?.length && 'collect' in exps[exps.length - 1]!) {
    errors.push({ code: 'SCHEMA', title: `${where}: a collect expectation needs a later expectation that ends it (e.g. type: message_complete)`, loc: pos.nodeLoc([...at, 'expect', exps.length - 1]) });
  }
  // Connection names: a step may only use a connection a previous step opened.
  if (kind === 'connect') {
    const c = params.connect;
    connections.add(typeof c === 'string' ? c : ((c as { name?: string }).name ?? 'main'));
  } else if (kind === 'send' || kind === 'expect' || kind === 'close') {
    const on = kind === 'close' ? (typeof params.close === 'string' ? params.close : (params.close as { on?: string }).on) : (params.on as string | undefined);
    const name = on ?? 'main';
    if (!connections.has(name)) {
      errors.push({ code: 'SCHEMA', title: `${where}: no connection named "${quoted(name)}" is open at this point`, loc: pos.nodeLoc(on !== undefined ? [...at, kind === 'close' ? 'close' : 'on'] : at), hint: connections.size ? `open here: ${[...connections].join(', ')}` : 'add a `connect` step before it' });
    }
  }
  for (const c of capturesOf(kind, params)) known.add(c);
}

/** "Unterminated group" out of "Invalid regular expression: /(a/: Unterminated group". */
function regexProblem(e: unknown): string {
  return (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

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

function flatten(issues: readonly Issue[], prefix: PathSeg[] = []): { issue: Issue; path: PathSeg[]; alternatives?: string }[] {
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

function zodIssues(schema: z.ZodType, value: unknown, at: PathSeg[], pos: Positions, errors: HarnessError[], withKeyHints = false, where?: string): void {
  const r = schema.safeParse(value);
  if (r.success) return;
  const seen = new Set<string>();
  for (const { issue, path: rel, alternatives } of flatten(r.error.issues)) {
    const p = [...at, ...rel];
    const keyName = rel.length ? rel.map(String).join('.') : (at[at.length - 1] !== undefined ? String(at[at.length - 1]) : 'value');
    const prefix = where ? `${where}: ` : '';
    let e: HarnessError;
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        const allowed = withKeyHints ? allowedKeysAt(schema, value, rel) : [];
        const guess = didYouMean(k, allowed);
        const err: HarnessError = { code: 'UNKNOWN_KEY', title: `${prefix}unknown key "${quoted(k)}"${rel.length ? ` in ${rel.join('.')}` : ''}`, loc: pos.keyLoc(p, k), ...(guess ? { hint: `did you mean "${guess}"?` } : allowed.length ? { hint: `allowed here: ${allowed.join(', ')}` } : {}) };
        const sig = `${err.loc!.line}:${err.loc!.col}:${err.title}`;
        if (!seen.has(sig)) errors.push(err), seen.add(sig);
      }
      continue;
    }
    const got = describeType(valueAt(value, rel));
    if (alternatives) e = { code: 'SCHEMA', title: `${prefix}${keyName}: expected ${alternatives}, got ${got}`, loc: pos.nodeLoc(p) };
    else if (issue.code === 'invalid_type') {
      const missing = valueAt(value, rel) === undefined;
      e = { code: 'SCHEMA', title: missing ? `${prefix}missing required ${keyName}` : `${prefix}${keyName}: expected ${(issue as { expected: string }).expected}, got ${got}`, loc: pos.nodeLoc(p) };
    } else if (issue.code === 'too_small' && (issue as { origin?: string }).origin === 'array') e = { code: 'SCHEMA', title: `${prefix}${keyName} must not be empty`, loc: pos.nodeLoc(p) };
    else e = { code: 'SCHEMA', title: `${prefix}${keyName}: ${issue.message.replace(/^Invalid (input|option): /, '')}${['invalid_value', 'invalid_format', 'too_small', 'too_big'].includes(issue.code) ? `, got ${got}` : ''}`, loc: pos.nodeLoc(p) };
    const sig = `${e.loc!.line}:${e.loc!.col}:${e.title}`;
    if (!seen.has(sig)) errors.push(e), seen.add(sig);
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
        if (rest.length && v && typeof v === 'object') walk(def.valueType, (v as Record<string, unknown>)[rest[0] as string], rest.slice(1));
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
        walk(shape[rest[0] as string], v && typeof v === 'object' ? (v as Record<string, unknown>)[rest[0] as string] : undefined, rest.slice(1));
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
