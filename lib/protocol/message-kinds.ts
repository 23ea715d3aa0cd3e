// Which kind a message of the protocol file describes, by the same rules that classify frames:
// - a `{field}` rule: the payload fixes that field with a `const` (or a one-value `enum`), directly
//   or in an `allOf` branch (a method's schema built on a shared envelope);
// - a `{has}` rule: the message's `name` (its key when it has none) is the rule's kind (JSON-RPC's
//   `result` and `error` replies have no field naming them);
// - `x-wsgate-any-kind: true`: the message checks every frame of its direction whose kind no other
//   message describes (the JSON-RPC envelope of any method).
import { namedKind, type KindRule } from '../matching/kinds.ts';
import { follow } from './refs.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The value a schema fixes for `field`: `const` or a one-value `enum`, looked up through allOf branches.
 * A dotted field (`result.type`, as tRPC names its replies) is followed property by property.
 */
export function fixedValue(data: unknown, schema: unknown, field: string, depth = 0): string | undefined {
  const [head, ...rest] = field
    .replace(/\[(\d+)\]/g, '.[$1]')
    .split('.')
    .filter((s) => s !== '');
  return head === undefined ? undefined : fixedAt(data, schema, head, rest, depth);
}

/** The schema of one member: a property, or for `[n]` the n-th item of a tuple (prefixItems, or items as a list). */
function memberSchema(schema: Record<string, unknown>, field: string): unknown {
  const index = /^\[(\d+)\]$/.exec(field);
  if (index) {
    const tuple = Array.isArray(schema.prefixItems)
      ? schema.prefixItems
      : Array.isArray(schema.items)
        ? schema.items
        : undefined;
    return tuple?.[Number(index[1])];
  }
  return isObject(schema.properties) ? schema.properties[field] : undefined;
}

function fixedAt(data: unknown, schema: unknown, field: string, rest: string[], depth: number): string | undefined {
  if (depth > 8 || !isObject(schema)) return undefined;
  const member = memberSchema(schema, field);
  if (member !== undefined) {
    const prop = follow(data, member, []);
    if (!('error' in prop) && isObject(prop.value)) {
      const v = prop.value;
      if (rest.length) {
        const inner = fixedAt(data, v, rest[0]!, rest.slice(1), depth + 1);
        if (inner !== undefined) return inner;
      } else {
        if (typeof v.const === 'string') return v.const;
        if (Array.isArray(v.enum) && v.enum.length === 1 && typeof v.enum[0] === 'string') return v.enum[0];
      }
    }
  }
  if (!Array.isArray(schema.allOf)) return undefined;
  for (const branch of schema.allOf) {
    const b = follow(data, branch, []);
    if ('error' in b) continue;
    const v = fixedAt(data, b.value, field, rest, depth + 1);
    if (v !== undefined) return v;
  }
  return undefined;
}

export type MessageKind = { kind: string; byField?: string } | { any: true } | { error: string; hint: string };

/**
 * The kind of one message. `msg` is the Message Object, `key` its name in the document, `payload` its
 * resolved payload schema; `typeWords` is true when the file has one type field and no rules (errors
 * then speak of "the type property", as authors of such files think of it).
 */
export function messageKind(
  data: unknown,
  msg: Record<string, unknown>,
  key: string,
  payload: unknown,
  rules: KindRule[],
  typeWords: boolean,
): MessageKind {
  if (msg['x-wsgate-any-kind'] === true) return { any: true };
  for (const r of rules) {
    if (!('field' in r) || 'equals' in r) continue;
    const v = fixedValue(data, payload, r.field);
    if (v !== undefined) return { kind: v, byField: r.field };
  }
  const name = typeof msg.name === 'string' ? msg.name : key;
  const hasKinds = rules.flatMap((r) => namedKind(r) ?? []);
  if (hasKinds.includes(name)) return { kind: name };
  const fields = rules.flatMap((r) => ('field' in r && !('equals' in r) ? [r.field] : []));
  if (typeWords && fields.length === 1) {
    const f = fields[0]!;
    return {
      error: `its payload does not fix the "${f}" property`,
      hint: `add properties: {${f}: {const: ${key}}} so frames can be matched to this schema`,
    };
  }
  const ways = [
    ...(fields.length ? [`its payload fixes none of ${fields.map((f) => `"${f}"`).join(', ')} with a const`] : []),
    ...(hasKinds.length ? [`its name "${name}" is none of ${hasKinds.map((k) => `"${k}"`).join(', ')}`] : []),
  ];
  return {
    error: `no kind: ${ways.join(', and ')}`,
    hint: `a message's kind comes from a const of a {field} rule's field, from a name equal to a {has} rule's kind, or it says x-wsgate-any-kind: true`,
  };
}
