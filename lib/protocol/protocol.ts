// A loaded protocol: one compiled ajv validator per message kind and direction, so checking a frame
// is one Map lookup and one generated function call.
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { HarnessError } from '../errors.ts';
import { Ajv, addFormats, parseProtocolFile, segmentsToFragment, type CoverageSource, type ParsedProtocol, type ParseOptions } from './document.ts';

export interface Violation {
  /** The message's kind, when it has one. */
  type: string | undefined;
  /** Where in the message: `sessionId`, `sessions[0].id`; '' for the message itself. */
  path: string;
  /** The JSON Schema keyword that failed (`format`, `required`, `type`, …), or one of wsgate's own:
   * `not-object`, `missing-type`, `unknown-type`. */
  rule: string;
  /** `session_initialized.sessionId: must match format "uuid"` */
  message: string;
}

type Direction = 'incoming' | 'outgoing';

const SIDE: Record<Direction, string> = { incoming: 'server', outgoing: 'client' };

/** "/sessions/0/id" → "sessions[0].id": the path syntax gates.yaml matchers use. */
export function instancePathToField(p: string): string {
  let out = '';
  for (const raw of p.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += (out ? '.' : '') + seg;
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** ajv's errors, with the branches under a failed oneOf/anyOf folded into one line. */
function toViolations(kind: string, errors: readonly ErrorObject[]): Violation[] {
  const combinators = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const under = (e: ErrorObject) => combinators.find((c) => c !== e && e.schemaPath.startsWith(c.schemaPath + '/'));
  const out: Violation[] = [];
  for (const e of errors) {
    if (under(e)) continue;
    let text = e.message ?? 'is invalid';
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      const children = errors.filter((x) => x.schemaPath.startsWith(e.schemaPath + '/'));
      const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
      if (children.length && children.every((x) => x.keyword === 'required')) {
        const names = children.map((x) => `'${(x.params as { missingProperty: string }).missingProperty}'`);
        text = `must have ${e.keyword === 'oneOf' ? 'exactly one' : 'at least one'} of the properties ${names.join(', ')}`;
      } else if (e.keyword === 'oneOf' && Array.isArray(passing)) text = `must match exactly one schema in oneOf, but matches ${passing.length} (branches ${passing.join(', ')})`;
    }
    if (e.keyword === 'const') text += ` ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    if (e.keyword === 'enum') text += ` (${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((x) => JSON.stringify(x)).join(', ')})`;
    const field = instancePathToField(e.instancePath);
    out.push({ type: kind, path: field, rule: e.keyword, message: `${kind}${field ? '.' + field : ''}: ${text}` });
  }
  return out;
}

export class Protocol {
  readonly file: string;
  readonly typeField: string;
  /** Server→client message kinds, in the order of the file. */
  readonly incomingTypes: string[];
  /** Client→server message kinds, in the order of the file. */
  readonly outgoingTypes: string[];
  readonly tools: string[];
  readonly slashCommands: string[];
  /** Where tool and slash command names are found (x-wsgate-coverage). */
  readonly toolSources: CoverageSource[];
  readonly slashCommandSources: CoverageSource[];
  private readonly validators: Record<Direction, Map<string, ValidateFunction>>;

  /** Use loadProtocol(): it reports a bad file as errors, where this constructor throws. */
  constructor(parsed: ParsedProtocol, validators: Record<Direction, Map<string, ValidateFunction>>) {
    this.file = parsed.file;
    this.typeField = parsed.typeField;
    this.incomingTypes = parsed.incoming.map((m) => m.kind);
    this.outgoingTypes = parsed.outgoing.map((m) => m.kind);
    this.tools = [...parsed.coverage.tools.names];
    this.slashCommands = [...parsed.coverage.slashCommands.names];
    this.toolSources = parsed.coverage.tools.seenIn;
    this.slashCommandSources = parsed.coverage.slashCommands.seenIn;
    this.validators = validators;
  }

  /** Checks a server→client message. */
  validateIncoming(json: unknown): Violation[] {
    return this.check('incoming', json);
  }

  /** Checks a client→server message. */
  validateOutgoing(json: unknown): Violation[] {
    return this.check('outgoing', json);
  }

  /** The message's kind (the value of the type field) when it is a string. */
  kindOf(json: unknown): string | undefined {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const k = (json as Record<string, unknown>)[this.typeField];
    return typeof k === 'string' ? k : undefined;
  }

  private check(dir: Direction, json: unknown): Violation[] {
    const side = SIDE[dir];
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      return [{ type: undefined, path: '', rule: 'not-object', message: `${side} message is not a JSON object (got ${describe(json)})` }];
    }
    const raw = (json as Record<string, unknown>)[this.typeField];
    if (typeof raw !== 'string') {
      const message = raw === undefined ? `${side} message has no "${this.typeField}" field` : `${side} message's "${this.typeField}" is not a string (got ${describe(raw)})`;
      return [{ type: undefined, path: this.typeField, rule: 'missing-type', message }];
    }
    const validate = this.validators[dir].get(raw);
    if (!validate) return [{ type: raw, path: this.typeField, rule: 'unknown-type', message: `unknown ${side} message type ${raw}` }];
    if (validate(json)) return [];
    return toViolations(raw, validate.errors ?? []);
  }
}

export type LoadProtocolResult = { ok: true; protocol: Protocol } | { ok: false; errors: HarnessError[] };

/** AsyncAPI Schema Object keywords that are not JSON Schema validation keywords. */
const ANNOTATIONS = ['discriminator', 'externalDocs', 'example', 'xml'];

function collectExtensionKeys(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) v.forEach((x) => collectExtensionKeys(x, into));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('x-')) into.add(k);
      collectExtensionKeys(x, into);
    }
  }
}

/** Reads, checks and compiles a protocol file; every problem is returned, nothing is thrown. */
export function loadProtocol(file: string, opts: ParseOptions = {}): LoadProtocolResult {
  const r = parseProtocolFile(file, opts);
  if (!r.ok) return r;
  const parsed = r.parsed;
  // strictSchema: a misspelt keyword in a payload schema (`requird`) is an error, not a silent pass.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, logger: false });
  addFormats(ajv);
  const extensions = new Set<string>();
  collectExtensionKeys(parsed.data, extensions);
  // ajv compiles the document root to resolve `#/components/...` refs: its AsyncAPI keys (asyncapi, info,
  // channels, …) become no-op keywords so strict mode reads them as annotations.
  for (const k of [...ANNOTATIONS, ...extensions, ...Object.keys(parsed.data)]) {
    try {
      ajv.addKeyword(k);
    } catch {
      // already a keyword of ajv's vocabulary
    }
  }
  const key = 'wsgate-protocol.json';
  const errors: HarnessError[] = [];
  try {
    ajv.addSchema(parsed.data, key);
  } catch (e) {
    return { ok: false, errors: [{ code: 'SCHEMA', title: `protocol file: ${(e as Error).message}`, loc: parsed.locOf([]) }] };
  }
  const validators: Record<Direction, Map<string, ValidateFunction>> = { incoming: new Map(), outgoing: new Map() };
  for (const [dir, list] of [['incoming', parsed.incoming], ['outgoing', parsed.outgoing]] as const) {
    for (const m of list) {
      try {
        validators[dir].set(m.kind, ajv.compile({ $ref: key + segmentsToFragment(m.payloadAt) }));
      } catch (e) {
        errors.push({ code: 'SCHEMA', title: `message ${m.kind}: its payload schema does not compile: ${(e as Error).message}`, loc: m.loc });
      }
    }
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, protocol: new Protocol(parsed, validators) };
}
