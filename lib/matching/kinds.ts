// What kind of message a frame is. Most JSON-over-WebSocket protocols name it in one field (`type`,
// `event`, `op`); JSON-RPC has none: a request or notification is named by `method`, a reply only by
// having `result` or `error`. A protocol file can say so with rules (first rule that applies wins),
// and which field ties a reply to its request (`id`), so a send's expectations of reply kinds only
// take the reply to that very request. Expectations select by kind, `forbid` names kinds, coverage
// counts them.
import { getPath } from './match.ts';

/**
 * `{field}`: the kind is that field's string value. `{has, kind}`: a frame having that member is of
 * that kind. `{field, equals, kind}`: a frame whose field holds that value is of that kind (array
 * frames such as OCPP-J's `[3, id, payload]`, where `[0]` says what the frame is).
 */
export type KindRule =
  | { field: string }
  | { has: string; kind: string }
  | { field: string; equals: string | number | boolean | null; kind: string };

/** A rule that names its kind itself (`{has}` or `{field, equals}`), not by a field's value. */
export function namedKind(r: KindRule): string | undefined {
  return 'kind' in r ? r.kind : undefined;
}

export interface ReplyRule {
  /** The field a reply shares with its request, e.g. `id`. */
  field: string;
  /** The kinds that are replies, e.g. `result`, `error`. */
  kinds: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A plain field name is read directly: getPath parses paths, and this runs once per frame per wait. */
function fieldOf(json: unknown, field: string): unknown {
  if (!/^[A-Za-z_$][\w$-]*$/.test(field)) return getPath(json, field);
  return isObject(json) && Object.hasOwn(json, field) ? json[field] : undefined;
}

export class Kinds {
  constructor(
    readonly rules: KindRule[],
    readonly reply?: ReplyRule,
  ) {}

  /** The usual case: one field names the kind. */
  static byField(field: string): Kinds {
    return new Kinds([{ field }]);
  }

  /** The frame's kind: the first rule that gives a string. */
  kindOf(json: unknown): string | undefined {
    for (const r of this.rules) {
      if ('equals' in r) {
        if (fieldOf(json, r.field) === r.equals) return r.kind;
      } else if ('field' in r) {
        const v = fieldOf(json, r.field);
        if (typeof v === 'string') return v;
      } else if (isObject(json) && Object.hasOwn(json, r.has)) return r.kind;
    }
    return undefined;
  }

  /** The fields whose values name kinds, for messages such as "no frame has a `type` field". */
  get fields(): string[] {
    return this.rules.flatMap((r) => ('field' in r && !('equals' in r) ? [r.field] : []));
  }

  /** How the rules read, for hints: "the value of `type`", "`method`, or result/error by field". */
  describe(): string {
    return this.rules
      .map((r) =>
        'equals' in r
          ? `\`${r.kind}\` when \`${r.field}\` is ${JSON.stringify(r.equals)}`
          : 'field' in r
            ? `the value of \`${r.field}\``
            : `\`${r.kind}\` when it has \`${r.has}\``,
      )
      .join(', else ');
  }

  /** The request id a sent message carries, when replies are tied to requests. */
  requestId(sent: unknown): unknown {
    if (!this.reply) return undefined;
    return fieldOf(sent, this.reply.field);
  }

  isReplyKind(kind: string | undefined): boolean {
    return kind !== undefined && (this.reply?.kinds.includes(kind) ?? false);
  }
}
