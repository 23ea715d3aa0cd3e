// Reading a protocol file: YAML (or JSON) with positions → the official AsyncAPI 3 JSON Schema
// (from @asyncapi/specs, run by ajv) → the x-wsgate-* extensions (zod) → which messages travel in
// which direction, found through the document's own `$ref`s. Payload schemas are compiled in
// protocol.ts. Every problem is a HarnessError with the FILE:LINE:COL it comes from.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { LineCounter, parseDocument, type Document, type Node } from 'yaml';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { HarnessError } from '../errors.ts';
import { Kinds } from '../matching/kinds.ts';
import type { Loc } from '../loc.ts';
import { readExtensions, type CoverageList, type CoverageSource } from './extensions.ts';
import { messageKind } from './message-kinds.ts';
import { follow, pointerSegments, segmentsToFragment, type Segment } from './refs.ts';

// ajv and ajv-formats are CommonJS modules: under NodeNext their class/function is `.default`
// of the default import (module.exports also carries itself as .default).
export const Ajv = AjvModule.default;
export const addFormats = addFormatsModule.default;
export type AjvInstance = InstanceType<typeof Ajv>;

export const MAX_PROTOCOL_BYTES = 4 * 1024 * 1024;
export const SUPPORTED_ASYNCAPI = ['3.0.0', '3.1.0'] as const;

export type { Segment } from './refs.ts';
export { pointerSegments, segmentsToFragment } from './refs.ts';

/** One message of the protocol, found through an operation. */
export interface MessageEntry {
  kind: string;
  /** The `{field}` rule whose field the payload fixes, when the kind came from one. */
  byField?: string;
  /** JSON pointer (as segments) of the payload schema inside the document. */
  payloadAt: Segment[];
  loc: Loc;
  /** x-wsgate-optional: the protocol lets a server leave this message out, so coverage does not require it. */
  optional?: boolean;
}

export interface ParsedProtocol {
  file: string;
  /** The document as plain data. */
  data: Record<string, unknown>;
  /** How a frame's kind is found, and how replies are tied to requests. */
  kinds: Kinds;
  /** The field of the first `{field}` rule (x-wsgate-type-field), if any. */
  typeField: string | undefined;
  /** The file gave x-wsgate-kinds rules (its messages say "kind" where a type field says "type"). */
  ruleBased: boolean;
  /** Server→client: operations with action `send` (the document describes the backend). */
  incoming: MessageEntry[];
  /** Client→server: operations with action `receive`. */
  outgoing: MessageEntry[];
  /** Per direction, the message (x-wsgate-any-kind) that checks frames of kinds no other message describes. */
  anyKind: { incoming?: MessageEntry; outgoing?: MessageEntry };
  coverage: { messages: boolean; lists: ResolvedCoverageList[] };
  locOf(p: Segment[]): Loc;
}

/** A coverage row with its items known: a `kinds: {field}` row lists the kinds the file gives that field. */
export type ResolvedCoverageList =
  | { key: string; label: string; names: string[]; seenIn: CoverageSource[] }
  | {
      key: string;
      label: string;
      kinds: string[];
      from?: 'server' | 'client' /** Set when the row is every kind this field gives. */;
      field?: string;
    };

export type ParseResult = { ok: true; parsed: ParsedProtocol } | { ok: false; errors: HarnessError[] };

class Positions {
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly file: string,
  ) {}

  /** The node at a path, or its nearest existing ancestor. */
  loc(p: Segment[]): Loc {
    for (let n = p.length; n >= 0; n--) {
      const node = this.doc.getIn(p.slice(0, n), true) as Node | undefined;
      if (node?.range) {
        const lp = this.lc.linePos(node.range[0]);
        return { file: this.file, line: lp.line, col: lp.col };
      }
    }
    return { file: this.file, line: 1, col: 1 };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

let specValidators: Map<string, ValidateFunction> | undefined;

/**
 * The official AsyncAPI JSON Schema for a version, compiled once per process (it is large: about a
 * second). The schema bundles its own copy of the draft-07 meta-schema, so ajv's must stay out (meta: false).
 */
function specValidator(version: string): ValidateFunction {
  specValidators ??= new Map();
  let v = specValidators.get(version);
  if (v === undefined) {
    const require = createRequire(import.meta.url);
    const schema = require(`@asyncapi/specs/schemas/${version}.json`) as object;
    // Formats (uri, email) in the spec's own fields are not checked: they cost compile time, not safety.
    const ajv = new Ajv({
      allErrors: true,
      strict: false,
      meta: false,
      validateSchema: false,
      validateFormats: false,
      logger: false,
    });
    v = ajv.compile(schema);
    specValidators.set(version, v);
  }
  return v;
}

/** The few errors of a failed spec validation that point closest to the mistake. */
function specErrors(errors: ErrorObject[], pos: Positions): HarnessError[] {
  // A big schema of oneOfs reports every branch; the deepest instance paths are where the author has to look.
  const byPath = new Map<string, ErrorObject>();
  for (const e of errors) {
    if (['oneOf', 'anyOf', 'if', 'then', 'else'].includes(e.keyword)) continue;
    if (!byPath.has(e.instancePath)) byPath.set(e.instancePath, e);
  }
  const depth = (p: string) => (p ? p.split('/').length : 0);
  const paths = [...byPath.keys()];
  // Keep a path only if no deeper reported path lies under it.
  const leaves = paths.filter((p) => !paths.some((q) => q !== p && q.startsWith(p + '/')));
  const picked = (leaves.length ? leaves : paths).sort((a, b) => depth(b) - depth(a)).slice(0, 5);
  if (!picked.length && errors.length) picked.push(errors[0]!.instancePath);
  return picked.map((p) => {
    const e = byPath.get(p) ?? errors.find((x) => x.instancePath === p)!;
    const segs = pointerSegments(p);
    const where = segs.length ? segs.join('.') : 'the document';
    let msg = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties')
      msg = `unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'enum')
      msg += ` (${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((x) => JSON.stringify(x)).join(', ')})`;
    return {
      code: 'SCHEMA',
      title: `not a valid AsyncAPI document: ${where}: ${msg}`,
      loc: pos.loc(segs),
      hint: 'see https://www.asyncapi.com/docs/reference/specification/v3.0.0',
    } satisfies HarnessError;
  });
}

function readText(file: string): { text: string } | { error: HarnessError } {
  const where = { file, line: 1, col: 1 };
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory())
      return {
        error: {
          code: 'GATES_FILE',
          title: `protocol file ${file} is a directory`,
          hint: 'point protocol: at the AsyncAPI YAML file itself',
          loc: where,
        },
      };
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      error: {
        code: 'GATES_FILE',
        title: code === 'ENOENT' ? `protocol file not found: ${file}` : `cannot read protocol file ${file} (${code})`,
        hint: 'protocol: is relative to the gates file',
        loc: where,
      },
    };
  }
  if (size > MAX_PROTOCOL_BYTES)
    return {
      error: {
        code: 'GATES_FILE',
        title: `protocol file ${file} is larger than ${MAX_PROTOCOL_BYTES / 1048576} MB`,
        loc: where,
      },
    };
  try {
    return { text: readFileSync(file, 'utf8') };
  } catch (e) {
    return {
      error: {
        code: 'GATES_FILE',
        title: `cannot read protocol file ${file} (${(e as NodeJS.ErrnoException).code})`,
        loc: where,
      },
    };
  }
}

export interface ParseOptions {
  /**
   * Check the whole document against the AsyncAPI specification's own schema (default true). That
   * compile costs about a second; the shipped file is checked by the tests, so runs may skip it.
   */
  checkDocument?: boolean;
}

export function parseProtocolFile(file: string, opts: ParseOptions = {}): ParseResult {
  const abs = path.resolve(file);
  const display = path.relative(process.cwd(), abs) || abs;
  const read = readText(abs);
  if ('error' in read) return { ok: false, errors: [read.error] };
  const lc = new LineCounter();
  const doc = parseDocument(read.text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const pos = new Positions(doc, lc, display);
  if (doc.errors.length) {
    return {
      ok: false,
      errors: doc.errors.slice(0, 5).map((e) => {
        const lp = lc.linePos(e.pos[0]);
        return {
          code: 'YAML_SYNTAX',
          title: `protocol file: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
          loc: { file: display, line: lp.line, col: lp.col },
        };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return {
      ok: false,
      errors: [{ code: 'YAML_SYNTAX', title: `protocol file: ${(e as Error).message}`, loc: pos.loc([]) }],
    };
  }
  if (!isObject(data))
    return {
      ok: false,
      errors: [
        {
          code: 'SCHEMA',
          title: 'a protocol file is an AsyncAPI 3 document (a map starting with `asyncapi: 3.0.0`)',
          loc: pos.loc([]),
        },
      ],
    };
  const version = data.asyncapi;
  if (typeof version !== 'string' || !(SUPPORTED_ASYNCAPI as readonly string[]).includes(version)) {
    return {
      ok: false,
      errors: [
        {
          code: 'SCHEMA',
          title: `protocol file: asyncapi: ${JSON.stringify(version ?? null)} is not supported; wsgate reads AsyncAPI ${SUPPORTED_ASYNCAPI.join(' and ')}`,
          loc: pos.loc(version === undefined ? [] : ['asyncapi']),
          hint: 'start the file with `asyncapi: 3.0.0` (see protocol/agent-backend.asyncapi.yaml shipped with wsgate)',
        },
      ],
    };
  }
  if (opts.checkDocument !== false) {
    const validate = specValidator(version);
    if (!validate(data)) return { ok: false, errors: specErrors(validate.errors ?? [], pos) };
  }

  const errors: HarnessError[] = [];
  const ext = readExtensions(data, (p) => pos.loc(p), errors);
  const typeWords = !ext.ruleBased;

  const incoming: MessageEntry[] = [];
  const outgoing: MessageEntry[] = [];
  const anyKind: ParsedProtocol['anyKind'] = {};
  const operations = isObject(data.operations) ? data.operations : {};
  for (const [opId, opRaw] of Object.entries(operations)) {
    const opAt: Segment[] = ['operations', opId];
    const op = follow(data, opRaw, opAt);
    if ('error' in op) {
      errors.push({ code: 'SCHEMA', title: `operation ${opId}: ${op.error}`, loc: pos.loc(opAt) });
      continue;
    }
    const o = op.value as Record<string, unknown>;
    const dir = o.action === 'send' ? 'incoming' : 'outgoing';
    const list = dir === 'incoming' ? incoming : outgoing;
    const dirWords = dir === 'incoming' ? 'server→client' : 'client→server';
    // The messages an operation names, or, when it names none, every message of its channel.
    let refs: { value: unknown; at: Segment[] }[];
    if (Array.isArray(o.messages)) refs = o.messages.map((m, i) => ({ value: m, at: [...op.at, 'messages', i] }));
    else {
      const ch = follow(data, o.channel, [...op.at, 'channel']);
      if ('error' in ch) {
        errors.push({
          code: 'SCHEMA',
          title: `operation ${opId}: channel: ${ch.error}`,
          loc: pos.loc([...op.at, 'channel']),
        });
        continue;
      }
      const msgs = isObject(ch.value) && isObject(ch.value.messages) ? ch.value.messages : {};
      refs = Object.entries(msgs).map(([k, m]) => ({ value: m, at: [...ch.at, 'messages', k] }));
    }
    for (const ref of refs) {
      const m = follow(data, ref.value, ref.at);
      if ('error' in m) {
        errors.push({ code: 'SCHEMA', title: `operation ${opId}: ${m.error}`, loc: pos.loc(ref.at) });
        continue;
      }
      const msg = m.value;
      const name = String(m.at[m.at.length - 1]);
      if (!isObject(msg) || msg.payload === undefined) {
        errors.push({
          code: 'SCHEMA',
          title: `message ${name} has no payload schema`,
          loc: pos.loc(m.at),
          hint: 'give it a payload: a JSON Schema of the message',
        });
        continue;
      }
      if (msg['x-wsgate-optional'] !== undefined && typeof msg['x-wsgate-optional'] !== 'boolean') {
        errors.push({
          code: 'SCHEMA',
          title: `message ${name}: x-wsgate-optional must be true or false`,
          loc: pos.loc([...m.at, 'x-wsgate-optional']),
        });
        continue;
      }
      if (msg['x-wsgate-any-kind'] !== undefined && typeof msg['x-wsgate-any-kind'] !== 'boolean') {
        errors.push({
          code: 'SCHEMA',
          title: `message ${name}: x-wsgate-any-kind must be true or false`,
          loc: pos.loc([...m.at, 'x-wsgate-any-kind']),
        });
        continue;
      }
      let payloadAt: Segment[] = [...m.at, 'payload'];
      let payload: unknown = msg.payload;
      if (isObject(payload) && 'schemaFormat' in payload) {
        // A Multi Format Schema Object: only JSON Schema / AsyncAPI schema formats are understood.
        const fmt = String(payload.schemaFormat);
        if (
          !/^application\/(vnd\.aai\.asyncapi(\+json|\+yaml)?|schema\+(json|yaml));version=(draft-07|[0-9.]+)$/.test(
            fmt,
          )
        ) {
          errors.push({
            code: 'SCHEMA',
            title: `message ${name}: schemaFormat ${fmt} is not supported; use a JSON Schema (AsyncAPI Schema Object)`,
            loc: pos.loc([...payloadAt, 'schemaFormat']),
          });
          continue;
        }
        payloadAt = [...payloadAt, 'schema'];
        payload = payload.schema;
      }
      const resolved = follow(data, payload, payloadAt);
      if ('error' in resolved || !isObject(resolved.value)) {
        errors.push({
          code: 'SCHEMA',
          title: `message ${name}: payload: ${'error' in resolved ? resolved.error : 'must be a schema object'}`,
          loc: pos.loc(payloadAt),
        });
        continue;
      }
      const k = messageKind(data, msg, name, resolved.value, ext.rules, typeWords);
      if ('error' in k) {
        errors.push({ code: 'SCHEMA', title: `message ${name}: ${k.error}`, loc: pos.loc(resolved.at), hint: k.hint });
        continue;
      }
      const entry: MessageEntry = {
        kind: 'any' in k ? '*' : k.kind,
        ...('byField' in k && k.byField ? { byField: k.byField } : {}),
        payloadAt: resolved.at,
        loc: pos.loc(resolved.at),
        ...(msg['x-wsgate-optional'] === true ? { optional: true } : {}),
      };
      const same = (e: MessageEntry) => segmentsToFragment(e.payloadAt) === segmentsToFragment(resolved.at);
      if ('any' in k) {
        const prev = anyKind[dir];
        // The same message named by two operations of one direction is the same message: keep one.
        if (prev && !same(prev))
          errors.push({
            code: 'SCHEMA',
            title: `two ${dirWords} messages say x-wsgate-any-kind (the first at line ${prev.loc.line})`,
            loc: pos.loc(m.at),
            hint: 'one message per direction checks the kinds no other message describes',
          });
        else anyKind[dir] = entry;
        continue;
      }
      const dup = list.find((e) => e.kind === entry.kind);
      if (dup) {
        if (same(dup)) continue;
        const by = typeWords && ext.typeField ? ext.typeField : 'kind';
        errors.push({
          code: 'SCHEMA',
          title: `two ${dirWords} messages have ${by} "${entry.kind}" (the first at line ${dup.loc.line})`,
          loc: pos.loc(resolved.at),
          hint: 'one schema per message kind and direction: merge them with oneOf',
        });
        continue;
      }
      list.push(entry);
    }
  }
  if (!errors.length && !incoming.length && !outgoing.length && !anyKind.incoming && !anyKind.outgoing) {
    errors.push({
      code: 'SCHEMA',
      title:
        'the protocol file describes no messages: add operations with action send (server→client) and receive (client→server)',
      loc: pos.loc([]),
    });
  }
  const described = new Set([...incoming, ...outgoing].map((e) => e.kind));
  if (ext.reply) {
    ext.reply.kinds.forEach((kind, i) => {
      if (!described.has(kind))
        errors.push({
          code: 'SCHEMA',
          title: `x-wsgate-reply.kinds.${i}: no message of the file has kind "${kind}"`,
          loc: pos.loc(['x-wsgate-reply', 'kinds', i]),
        });
    });
  }
  const lists = resolveCoverage(ext.coverage.lists, incoming, outgoing, described, (p) => pos.loc(p), errors);
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    parsed: {
      file: abs,
      data,
      kinds: new Kinds(ext.rules, ext.reply),
      typeField: ext.typeField,
      ruleBased: ext.ruleBased,
      incoming,
      outgoing,
      anyKind,
      coverage: { messages: ext.coverage.messages, lists },
      locOf: (p) => pos.loc(p),
    },
  };
}

/** Coverage rows with their items: a `kinds: {field}` row becomes the kinds the file gives that field; kinds and source types must exist. */
function resolveCoverage(
  lists: CoverageList[],
  incoming: MessageEntry[],
  outgoing: MessageEntry[],
  described: Set<string>,
  locOf: (p: Segment[]) => Loc,
  errors: HarnessError[],
): ResolvedCoverageList[] {
  const out: ResolvedCoverageList[] = [];
  const unknown = (kind: string, at: Segment[]) =>
    errors.push({
      code: 'SCHEMA',
      title: `${at.join('.')}: no message of the file has kind "${kind}"`,
      loc: locOf(at),
      hint: `kinds described: ${[...described].join(', ')}`,
    });
  for (const l of lists) {
    const at: Segment[] = ['x-wsgate-coverage', l.key];
    if ('names' in l) {
      l.seenIn.forEach(
        (s, i) => s.type !== undefined && !described.has(s.type) && unknown(s.type, [...at, 'seenIn', i, 'type']),
      );
      out.push(l);
      continue;
    }
    let kinds: string[];
    let field: string | undefined;
    if (Array.isArray(l.kinds)) {
      kinds = l.kinds;
      kinds.forEach((k, i) => !described.has(k) && unknown(k, [...at, 'kinds', i]));
    } else {
      field = l.kinds.field;
      const from = l.from === 'server' ? incoming : l.from === 'client' ? outgoing : [...outgoing, ...incoming];
      kinds = [...new Set(from.filter((e) => e.byField === field).map((e) => e.kind))];
    }
    out.push({
      key: l.key,
      label: l.label,
      kinds,
      ...(l.from ? { from: l.from } : {}),
      ...(field !== undefined ? { field } : {}),
    });
  }
  return out;
}
