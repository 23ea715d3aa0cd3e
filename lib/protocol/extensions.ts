// The x-wsgate-* extensions of a protocol file: how a frame's kind is found (a type field, or rules
// for protocols such as JSON-RPC that have none), which field ties a reply to its request, and which
// coverage rows the protocol has. Each is validated with zod; every problem becomes a HarnessError at
// the FILE:LINE:COL of the value at fault, so a protocol author sees all of them in one pass.
import { z } from 'zod';
import type { HarnessError } from '../errors.ts';
import type { KindRule, ReplyRule } from '../matching/kinds.ts';
import type { Loc } from '../loc.ts';

type Segment = string | number;

const Name = z.string().min(1);

export const TypeFieldExtension = Name;

const FieldRule = z.strictObject({ field: Name.describe('The kind is the string value of this field') });
const HasRule = z.strictObject({
  has: Name.describe('A frame having this field...'),
  kind: Name.describe('...is of this kind'),
});
const ValueRule = z.strictObject({
  field: Name.describe('A frame whose field (a path: result.type, [0]) ...'),
  equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).describe('...holds exactly this value...'),
  kind: Name.describe('...is of this kind'),
});

export const ReplyExtension = z.strictObject({
  field: Name.describe('The field a reply shares with its request, e.g. id'),
  kinds: z.array(Name).min(1).describe('The kinds that are replies, e.g. result, error'),
});

/** Where to find a tool, slash command or operation name in the traffic. */
export const CoverageSource = z.strictObject({
  from: z
    .enum(['server', 'client'])
    .optional()
    .describe('server: server→client messages; client: client→server; absent: both'),
  type: Name.optional().describe('The message kind (absent: every kind)'),
  field: Name.describe('Field holding the name (a.b for nested fields)'),
  firstWord: z.boolean().optional().describe('Take the first whitespace-separated word of the text'),
  startsWith: z.string().optional().describe('Count the value only when it starts with this text'),
  pattern: z
    .string()
    .refine((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    }, 'not a valid regular expression')
    .optional()
    .describe('A regular expression; the name is its first capture group (or the whole match)'),
});
export type CoverageSource = z.infer<typeof CoverageSource>;

const Label = z.string().min(1).optional().describe('The row name printed (default: the key in words)');

/** A row of names found in message fields: tools, slash commands, GraphQL operations. */
const NamesList = z.strictObject({ label: Label, names: z.array(Name), seenIn: z.array(CoverageSource) });

/** A row of message kinds: listed, or every kind the file describes through one `{field}` rule. */
const KindsList = z.strictObject({
  label: Label,
  kinds: z.union([z.array(Name), FieldRule]),
  from: z.enum(['server', 'client']).optional().describe('Count only frames from that side'),
});

export type CoverageList =
  | { key: string; label: string; names: string[]; seenIn: CoverageSource[] }
  | { key: string; label: string; kinds: string[] | { field: string }; from?: 'server' | 'client' };

export interface Extensions {
  rules: KindRule[];
  /** x-wsgate-type-field, or the one field of the default rule. */
  typeField: string | undefined;
  /** True when the file gave x-wsgate-kinds (messages then say "kind" where a type field says "type"). */
  ruleBased: boolean;
  reply?: ReplyRule;
  coverage: { messages: boolean; lists: CoverageList[] };
}

/** "slashCommands" → "slash commands". */
export function words(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
}

function issuesOf(
  schema: z.ZodType,
  value: unknown,
  at: Segment[],
  locOf: (p: Segment[]) => Loc,
  errors: HarnessError[],
): boolean {
  const r = schema.safeParse(value);
  if (r.success) return true;
  for (const issue of r.error.issues) {
    const p: Segment[] = [...at, ...(issue.path as Segment[])];
    const msg =
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : issue.message;
    errors.push({ code: 'SCHEMA', title: `${p.join('.')}: ${msg}`, loc: locOf(p) });
  }
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Reads the extensions at the document's root; problems are appended to `errors`. */
export function readExtensions(
  data: Record<string, unknown>,
  locOf: (p: Segment[]) => Loc,
  errors: HarnessError[],
): Extensions {
  const out: Extensions = {
    rules: [{ field: 'type' }],
    typeField: 'type',
    ruleBased: false,
    coverage: { messages: true, lists: [] },
  };
  const tf = data['x-wsgate-type-field'];
  const kinds = data['x-wsgate-kinds'];
  if (tf !== undefined && kinds !== undefined) {
    errors.push({
      code: 'SCHEMA',
      title: 'x-wsgate-type-field and x-wsgate-kinds both given: keep one',
      loc: locOf(['x-wsgate-type-field']),
      hint: 'x-wsgate-type-field: event is short for x-wsgate-kinds: [{field: event}]',
    });
  } else if (tf !== undefined) {
    const r = TypeFieldExtension.safeParse(tf);
    if (r.success) {
      out.rules = [{ field: r.data }];
      out.typeField = r.data;
    } else
      errors.push({
        code: 'SCHEMA',
        title: 'x-wsgate-type-field must be a non-empty string (the field that names a message kind)',
        loc: locOf(['x-wsgate-type-field']),
      });
  } else if (kinds !== undefined) {
    if (!Array.isArray(kinds) || kinds.length === 0) {
      errors.push({
        code: 'SCHEMA',
        title: 'x-wsgate-kinds must be a list of rules such as {field: method} or {has: result, kind: result}',
        loc: locOf(['x-wsgate-kinds']),
      });
    } else {
      const rules: KindRule[] = [];
      kinds.forEach((rule, i) => {
        // Pick the rule shape by its keys, so an error talks about the rule the author meant.
        const schema =
          isObject(rule) && 'equals' in rule
            ? ValueRule
            : isObject(rule) && ('has' in rule || 'kind' in rule)
              ? HasRule
              : FieldRule;
        if (issuesOf(schema, rule, ['x-wsgate-kinds', i], locOf, errors)) rules.push(rule as KindRule);
      });
      out.rules = rules;
      out.ruleBased = true;
      out.typeField = rules.flatMap((r) => ('field' in r && !('equals' in r) ? [r.field] : []))[0];
    }
  }
  const reply = data['x-wsgate-reply'];
  if (reply !== undefined && issuesOf(ReplyExtension, reply, ['x-wsgate-reply'], locOf, errors))
    out.reply = reply as ReplyRule;
  const cov = data['x-wsgate-coverage'];
  if (cov !== undefined) {
    if (!isObject(cov))
      errors.push({
        code: 'SCHEMA',
        title: 'x-wsgate-coverage must be a map of coverage rows (e.g. tools: {names, seenIn})',
        loc: locOf(['x-wsgate-coverage']),
      });
    else {
      for (const [key, spec] of Object.entries(cov)) {
        const at = ['x-wsgate-coverage', key];
        if (key === 'messages') {
          if (typeof spec === 'boolean') out.coverage.messages = spec;
          else
            errors.push({
              code: 'SCHEMA',
              title:
                'x-wsgate-coverage.messages: true or false (whether the row of message kinds per direction is shown)',
              loc: locOf(at),
            });
          continue;
        }
        const schema = isObject(spec) && 'kinds' in spec ? KindsList : NamesList;
        if (!issuesOf(schema, spec, at, locOf, errors)) continue;
        const s = spec as { label?: string };
        out.coverage.lists.push({ ...(spec as object), key, label: s.label ?? words(key) } as CoverageList);
      }
    }
  }
  return out;
}
