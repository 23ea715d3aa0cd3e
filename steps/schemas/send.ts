// The send step's YAML form, label and load-time checks (its run code: steps/send.ts).
import { z } from 'zod';
import { ExpectList, waitKeys } from '../../lib/gates/common-schema.ts';
import { defineStepSchema, type LoadProblem } from '../../lib/gates/step-schema.ts';

/** Keys of a send that only act while it waits for expectations (lib/matching/exchange.ts): without `expect:` they check nothing. */
const WAIT_ONLY = ['forbid', 'budget', 'within', 'distinct'] as const;

/** A send's keys that would be accepted and never checked. */
export function sendProblems(
  p: { expect?: unknown[] } & Partial<Record<(typeof WAIT_ONLY)[number], unknown>>,
): LoadProblem[] {
  if (p.expect?.length) return [];
  return WAIT_ONLY.filter((k) => p[k] !== undefined).map((k) => ({
    path: [k],
    atKey: true,
    title: `${k} is only checked while the step waits for expectations, and this send has no expect:`,
    hint: `add \`expect:\` (e.g. \`expect: [{none: error, for: 1s}]\` to watch for a while), or remove \`${k}\``,
  }));
}

export const sendSchema = defineStepSchema({
  schema: z.strictObject({
    send: z
      .union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.number(), z.boolean(), z.string()])
      .describe(
        'A JSON value (object, array, number or boolean: sent as one line of JSON) or a raw text line, e.g. malformed JSON; in a raw line that is JSON, a variable inside a JSON string is JSON-escaped',
      ),
    expect: ExpectList.optional(),
    offProtocol: z.boolean().optional().describe('This message breaks the protocol on purpose: do not validate it'),
    ...waitKeys,
  }),
  loadProblems: sendProblems,
  labelShowsValues: true,
  label: (p) => {
    if (typeof p.send === 'string')
      return `send raw ${JSON.stringify(p.send.length > 40 ? p.send.slice(0, 37) + '...' : p.send)}`;
    // The usual kind fields first; else the start of the message itself, so two sends read differently.
    const msg = p.send;
    const kind = msg !== null && typeof msg === 'object' && !Array.isArray(msg) ? kindWord(msg) : undefined;
    if (typeof kind === 'string') return `send ${kind}`;
    const text = JSON.stringify(p.send);
    return `send ${text.length > 50 ? text.slice(0, 47) + '...' : text}`;
  },
});

/** The usual kind fields first; else the start of the message itself, so two sends read differently. */
function kindWord(msg: Record<string, unknown>): string | undefined {
  return ['type', 'method', 'event', 'op', 'action'].map((k) => msg[k]).find((v): v is string => typeof v === 'string');
}
