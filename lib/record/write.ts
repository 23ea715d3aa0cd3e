// Writing recorded gates into a gates file. A new file gets the schema modeline and `version: 1`;
// an existing one gets the gates appended after its last gate as new text, so every byte already
// there (comments, quoting, flow maps, blank lines) stays as it was. The yaml package's Document
// API finds where the gates list ends and how it is indented, and builds the new gates' nodes; the
// result must load with wsgate's own loader before anything is written.
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import YAML, { isMap, isSeq, type Node } from 'yaml';
import { EXIT, HarnessFailure } from '../errors.ts';
import { BUILTIN_VARS, loadGatesText } from '../gates/load.ts';
import { packageFileRef, SHIPPED_GATES_SCHEMA } from '../package-root.ts';
import type { Inferred } from './infer.ts';
import { SymlinkRefused, writeFileNoFollow } from '../evidence/safe-write.ts';

export interface Target {
  file: string;
  source?: string;
  doc?: YAML.Document.Parsed;
  ids: Set<string>;
  /** Names a capture must not take: built-ins and the file's `vars:`. */
  reservedVars: Set<string>;
  typeField?: string;
  /** The file's `protocol:`, as written. */
  protocol?: string;
}

/** What a new file says above its gates besides the schema line and version. */
export interface FileHead {
  typeField: string;
  /** `protocol:` as the user named it (wsgate:NAME or a path). */
  protocol?: string;
  /** Non-JSON keep-alive frames the server sent (PING): a step waiting for JSON must let them pass. */
  keepAlive?: string[];
}

function usage(title: string, hint?: string): HarnessFailure {
  return new HarnessFailure([{ code: 'USAGE', title, ...(hint ? { hint } : {}) }], EXIT.usage);
}

/** The file the gates go to, read before anything is recorded: a broken target stops the command early. */
export function readTarget(file: string): Target {
  const abs = path.resolve(file);
  // A link at --out (a dangling one committed to a repository) would make the write create its target.
  if (isLink(abs))
    throw usage(
      `--out ${file} is a symbolic link: wsgate record does not write through links`,
      'remove the link, or name another file with --out',
    );
  const base: Target = { file: abs, ids: new Set(), reservedVars: new Set(BUILTIN_VARS) };
  if (!existsSync(abs)) return base;
  let source: string;
  try {
    source = readFileSync(abs, 'utf8');
  } catch (e) {
    throw usage(`--out ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!source.trim()) return base;
  const doc = YAML.parseDocument(source);
  if (doc.errors.length)
    throw usage(
      `--out ${file} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`,
      'fix it, or record into another file with --out',
    );
  const gates = doc.get('gates', true);
  if (!isMap(doc.contents) || !isSeq(gates))
    throw usage(
      `--out ${file} is not a gates file (it has no gates: list)`,
      'record into a new file, or into a gates.yaml with version: 1 and gates:',
    );
  const json = doc.toJS() as {
    gates?: { id?: unknown }[];
    vars?: Record<string, unknown>;
    defaults?: { typeField?: unknown };
    protocol?: unknown;
  };
  for (const g of json.gates ?? []) if (typeof g?.id === 'string') base.ids.add(g.id);
  for (const k of Object.keys(json.vars ?? {})) base.reservedVars.add(k);
  return {
    ...base,
    source,
    doc,
    ...(typeof json.defaults?.typeField === 'string' ? { typeField: json.defaults.typeField } : {}),
    ...(typeof json.protocol === 'string' ? { protocol: json.protocol } : {}),
  };
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The schema modeline: relative to the package when the file lies under it or its node_modules; else
 * where a project that installed wsgate has it, never a file:// URL that holds only on this machine.
 */
function schemaRef(dir: string): string {
  const ref = packageFileRef(dir, SHIPPED_GATES_SCHEMA);
  return ref.startsWith('file:') ? './node_modules/wsgate/gates.schema.json' : ref;
}

/** `id`, or `id-2`, `id-3`… whichever the file does not have yet. */
export function freeId(id: string, taken: Set<string>): string {
  let out = id;
  for (let i = 2; taken.has(out); i++) out = `${id}-${i}`;
  taken.add(out);
  return out;
}

const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false, indent: 2, indentSeq: true } as const;

/** Small maps and lists on one line, as hand-written gates have them: `{format: uuid}`. */
function compact(node: Node): void {
  YAML.visit(node, {
    Map(_, n, p) {
      if (p.length === 0) return undefined; // the step itself stays a block map
      if (JSON.stringify(n.toJSON()).length <= 70) {
        n.flow = true;
        return YAML.visit.SKIP;
      }
      return undefined;
    },
    Seq(_, n, _p) {
      if (JSON.stringify(n.toJSON()).length <= 70) {
        n.flow = true;
        return YAML.visit.SKIP;
      }
      return undefined;
    },
  });
}

function gateNodes(doc: YAML.Document, gates: Inferred[], comment: string): Node[] {
  return gates.map((g) => {
    const node = doc.createNode({ id: g.id, title: g.title, steps: g.steps }) as Node;
    const steps = (node as YAML.YAMLMap).get('steps', true) as unknown as YAML.YAMLSeq;
    for (const s of steps.items) compact(s as Node);
    // Why a value was loosened (a stack trace, a machine's path) stands above its step.
    for (const [i, why] of g.comments ?? []) {
      const item = steps.items[i] as Node | undefined;
      if (item) item.commentBefore = why.map((w) => ` ${w}`).join('\n');
    }
    node.commentBefore = ` ${comment}`;
    return node;
  });
}

function itemsText(nodes: Node[], indent: number): string {
  const doc = new YAML.Document(nodes);
  const pad = ' '.repeat(indent);
  return doc
    .toString(STRINGIFY)
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');
}

function internal(title: string): HarnessFailure {
  return new HarnessFailure(
    [{ code: 'INTERNAL', title, hint: 'please report this with the session that produced it' }],
    EXIT.harness,
  );
}

/** The recorded gates, alone in a file, must load with wsgate's own loader (schema, variables, regexes). */
function newFileText(file: string, gates: Inferred[], comment: string, h: FileHead): string {
  // Only the keep-alive texts seen may pass a waiting step; any other non-JSON frame still fails it
  // (nonJson matchers take no variables, so the text is written as it came).
  const allowed = (h.keepAlive ?? []).map((k) => JSON.stringify(k));
  const keepAlive = allowed.length
    ? [
        `# The server sent ${allowed.join(', ')} as keep-alive (not JSON): steps waiting for JSON let exactly those frames pass.`,
      ]
    : [];
  const defaults = [
    ...(h.typeField !== 'type' && !h.protocol ? [`typeField: ${JSON.stringify(h.typeField)}`] : []),
    ...(allowed.length ? [`nonJson: {allow: [${allowed.join(', ')}]}`] : []),
  ];
  const head = [
    `# yaml-language-server: $schema=${schemaRef(path.dirname(file))}`,
    '# Gates recorded by `wsgate record`. Run them with: wsgate run [URL] [PATH] --gates ' + path.basename(file),
    'version: 1',
    ...(h.protocol ? [`protocol: ${JSON.stringify(h.protocol)}`] : []),
    ...keepAlive,
    ...(defaults.length ? [`defaults: {${defaults.join(', ')}}`] : []),
    'gates:',
  ].join('\n');
  const text = `${head}\n${itemsText(gateNodes(new YAML.Document(), gates, comment), 2)}`;
  // Secrets the gate reads from the environment (`${env.AUTHORIZATION}`) are set on replay, not now.
  const needed = Object.fromEntries(
    [...text.matchAll(/(?<!\\)\$\{env\.([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => [m[1]!, 'set on replay']),
  );
  const r = loadGatesText(text, file, { env: { ...process.env, ...needed } });
  if (!r.ok)
    throw internal(
      `the recorded gates do not load: ${r.errors.map((e) => `${e.loc ? `${e.loc.line}:${e.loc.col} ` : ''}${e.title}`).join('; ')}`,
    );
  return text;
}

/** An edited file must read back as its old gates followed by the new ones, and nothing else changed. */
function sameBut(text: string, before: unknown, gates: Inferred[]): boolean {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length) return false;
  const was = before as { gates: unknown[] };
  const now = doc.toJS() as { gates?: unknown[] };
  const added = gates.map((g) => JSON.parse(JSON.stringify({ id: g.id, title: g.title, steps: g.steps })) as unknown);
  return (
    isDeepStrictEqual({ ...now, gates: undefined }, { ...was, gates: undefined }) &&
    isDeepStrictEqual(now.gates, [...was.gates, ...added])
  );
}

/** The new file's text, or the existing file's with the gates appended. */
export function gatesText(target: Target, gates: Inferred[], comment: string, head: FileHead): string {
  const checked = newFileText(target.file, gates, comment, head);
  if (!target.doc || target.source === undefined) return checked;
  const src = target.source;
  const before = target.doc.toJS() as unknown;
  const seq = target.doc.get('gates', true) as YAML.YAMLSeq;
  if (!seq.flow && seq.range && seq.items.length) {
    const end = seq.range[1];
    const lineStart = src.lastIndexOf('\n', seq.range[0] - 1) + 1;
    const indent = seq.range[0] - lineStart;
    const head = src.slice(0, end);
    const text = `${head}${head.endsWith('\n') ? '' : '\n'}\n${itemsText(gateNodes(target.doc, gates, comment), indent)}${src.slice(end)}`;
    if (sameBut(text, before, gates)) return text;
  }
  // The list's own text could not be extended (flow style, an odd layout): the Document re-prints it.
  for (const n of gateNodes(target.doc, gates, comment)) seq.items.push(n);
  const text = target.doc.toString(STRINGIFY);
  if (!sameBut(text, before, gates)) throw internal(`appending to ${target.file} would change what it holds`);
  return text;
}

export function writeGatesFile(target: Target, text: string): void {
  try {
    writeFileNoFollow(target.file, text);
  } catch (e) {
    if (e instanceof SymlinkRefused)
      throw usage(
        `--out ${target.file} is a symbolic link: wsgate record does not write through links`,
        'remove the link, or name another file with --out',
      );
    throw e;
  }
}
