// A loaded protocol: one compiled ajv validator per message kind and direction, so checking a frame
// is one Map lookup and one generated function call.
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { HarnessError } from '../errors.ts';
import { namedKind, type Kinds } from '../matching/kinds.ts';
import {
  Ajv,
  addFormats,
  parseProtocolFile,
  segmentsToFragment,
  type ParsedProtocol,
  type MessageEntry,
  type ParseOptions,
  type ResolvedCoverageList,
} from './document.ts';

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
      } else if (e.keyword === 'oneOf' && Array.isArray(passing))
        text = `must match exactly one schema in oneOf, but matches ${passing.length} (branches ${passing.join(', ')})`;
    }
    // `not: {required: [x]}` says a member must be absent (a JSON-RPC reply has a result or an error, never both).
    const notRequired =
      e.keyword === 'not' && Array.isArray((e.schema as { required?: unknown } | undefined)?.required)
        ? (e.schema as { required: string[] }).required
        : undefined;
    if (notRequired)
      text = `must not have ${notRequired.length > 1 ? 'all of the properties' : 'the property'} ${notRequired.map((n) => `'${n}'`).join(', ')}`;
    if (e.keyword === 'const') text += ` ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    if (e.keyword === 'enum')
      text += ` (${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((x) => JSON.stringify(x)).join(', ')})`;
    const field = instancePathToField(e.instancePath);
    out.push({
      type: kind,
      path: field,
      rule: e.keyword,
      message: `${kind}${field && !field.startsWith('[') ? '.' : ''}${field}: ${text}`,
    });
  }
  return out;
}

export class Protocol {
  readonly file: string;
  /** How a frame's kind is found (a type field, or the file's x-wsgate-kinds rules) and how replies tie to requests. */
  readonly kinds: Kinds;
  /** The field of the first `{field}` rule (`type` unless the file says otherwise). */
  readonly typeField: string | undefined;
  /** Server→client message kinds, in the order of the file. */
  readonly incomingTypes: string[];
  /** Kinds the protocol lets a server leave out (x-wsgate-optional): coverage counts them only when seen. */
  readonly optionalTypes: Set<string>;
  /** Client→server message kinds, in the order of the file. */
  readonly outgoingTypes: string[];
  /** The coverage rows besides messages (x-wsgate-coverage), with their items. */
  readonly coverageLists: ResolvedCoverageList[];
  /** Whether the row of message kinds per direction is shown (x-wsgate-coverage.messages). */
  readonly messagesRow: boolean;
  private readonly validators: Record<Direction, Map<string, ValidateFunction>>;
  private readonly anyKind: Partial<Record<Direction, ValidateFunction>>;
  /** Kinds given by `{has}` and `{field, equals}` rules: they never fall back to the any-kind message. */
  private readonly hasKinds: Set<string>;
  private readonly singleField: string | undefined;
  /** The kind rules read array frames by index (`[0]`): an array is a message, not a violation. */
  private readonly arrayFrames: boolean;

  /** Use loadProtocol(): it reports a bad file as errors, where this constructor throws. */
  constructor(
    parsed: ParsedProtocol,
    validators: Record<Direction, Map<string, ValidateFunction>>,
    anyKind: Partial<Record<Direction, ValidateFunction>> = {},
  ) {
    this.file = parsed.file;
    this.kinds = parsed.kinds;
    this.typeField = parsed.typeField;
    this.incomingTypes = parsed.incoming.map((m) => m.kind);
    this.optionalTypes = new Set([...parsed.incoming, ...parsed.outgoing].filter((m) => m.optional).map((m) => m.kind));
    this.outgoingTypes = parsed.outgoing.map((m) => m.kind);
    this.coverageLists = parsed.coverage.lists;
    this.messagesRow = parsed.coverage.messages;
    this.validators = validators;
    this.anyKind = anyKind;
    this.hasKinds = new Set(parsed.kinds.rules.flatMap((r) => namedKind(r) ?? []));
    this.arrayFrames = parsed.kinds.rules.some((r) => 'field' in r && r.field.startsWith('['));
    this.singleField = parsed.ruleBased ? undefined : parsed.typeField;
  }

  /** Checks a server→client message. */
  validateIncoming(json: unknown): Violation[] {
    return this.check('incoming', json);
  }

  /** Checks a client→server message. */
  validateOutgoing(json: unknown): Violation[] {
    return this.check('outgoing', json);
  }

  /**
   * Whether a server frame that follows the protocol can be of this kind: a kind it describes, or
   * any kind not given by a `{has}`/value rule when it has a message for any kind (JSON-RPC's methods).
   */
  describesIncoming(kind: string): boolean {
    return this.validators.incoming.has(kind) || (this.anyKind.incoming !== undefined && !this.hasKinds.has(kind));
  }

  /** The message's kind by the protocol's rules, when it has one. */
  kindOf(json: unknown): string | undefined {
    return this.kinds.kindOf(json);
  }

  private check(dir: Direction, json: unknown): Violation[] {
    const side = SIDE[dir];
    if (json === null || typeof json !== 'object' || (Array.isArray(json) && !this.arrayFrames)) {
      return [
        {
          type: undefined,
          path: '',
          rule: 'not-object',
          message: `${side} message is not a JSON object (got ${describe(json)})`,
        },
      ];
    }
    const kind = this.kinds.kindOf(json);
    const f = this.singleField;
    if (kind === undefined) {
      if (f === undefined)
        return [
          {
            type: undefined,
            path: '',
            rule: 'missing-type',
            message: `${side} message has no kind (kinds are ${this.kinds.describe()})`,
          },
        ];
      const raw = (json as Record<string, unknown>)[f];
      const message =
        raw === undefined
          ? `${side} message has no "${f}" field`
          : `${side} message's "${f}" is not a string (got ${describe(raw)})`;
      return [{ type: undefined, path: f, rule: 'missing-type', message }];
    }
    const validate = this.validators[dir].get(kind) ?? (this.hasKinds.has(kind) ? undefined : this.anyKind[dir]);
    if (!validate)
      return [
        {
          type: kind,
          path: f ?? '',
          rule: 'unknown-type',
          message: `unknown ${side} message ${f === undefined ? 'kind' : 'type'} ${kind}`,
        },
      ];
    if (validate(json)) return [];
    return toViolations(kind, validate.errors ?? []);
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
  // verbose: errors carry their schema, so a failed `not` can say what it forbids.
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    logger: false,
  });
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
    return {
      ok: false,
      errors: [{ code: 'SCHEMA', title: `protocol file: ${(e as Error).message}`, loc: parsed.locOf([]) }],
    };
  }
  const validators: Record<Direction, Map<string, ValidateFunction>> = { incoming: new Map(), outgoing: new Map() };
  const anyKind: Partial<Record<Direction, ValidateFunction>> = {};
  const compile = (m: MessageEntry): ValidateFunction | undefined => {
    try {
      return ajv.compile({ $ref: key + segmentsToFragment(m.payloadAt) });
    } catch (e) {
      errors.push({
        code: 'SCHEMA',
        title: `message ${m.kind === '*' ? '(x-wsgate-any-kind)' : m.kind}: its payload schema does not compile: ${(e as Error).message}`,
        loc: m.loc,
      });
      return undefined;
    }
  };
  for (const [dir, list] of [
    ['incoming', parsed.incoming],
    ['outgoing', parsed.outgoing],
  ] as const) {
    for (const m of list) {
      const v = compile(m);
      if (v) validators[dir].set(m.kind, v);
    }
    const any = parsed.anyKind[dir];
    const v = any && compile(any);
    if (v) anyKind[dir] = v;
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, protocol: new Protocol(parsed, validators, anyKind) };
}
