import { z } from 'zod';
import { ExpectList, waitKeys } from '../lib/gates/common-schema.ts';
import { defineStep, type LoadProblem } from '../lib/runner/step-api.ts';
import { exchange } from '../lib/matching/exchange.ts';

/** Keys of a send that only act while it waits for expectations (lib/matching/exchange.ts): without `expect:` they check nothing. */
const WAIT_ONLY = ['forbid', 'budget', 'within', 'distinct'] as const;

/** A send's keys that would be accepted and never checked. */
export function sendProblems(p: { expect?: unknown[] } & Partial<Record<(typeof WAIT_ONLY)[number], unknown>>): LoadProblem[] {
  if (p.expect?.length) return [];
  return WAIT_ONLY.filter((k) => p[k] !== undefined).map((k) => ({
    path: [k],
    atKey: true,
    title: `${k} is only checked while the step waits for expectations, and this send has no expect:`,
    hint: `add \`expect:\` (e.g. \`expect: [{none: error, for: 1s}]\` to watch for a while), or remove \`${k}\``,
  }));
}

export const send = defineStep({
  schema: z.strictObject({
    send: z
      .union([z.record(z.string(), z.unknown()), z.string()])
      .describe('A JSON object (sent as one line of JSON) or a raw text line, e.g. malformed JSON'),
    expect: ExpectList.optional(),
    offProtocol: z.boolean().optional().describe('This message breaks the protocol on purpose: do not validate it'),
    ...waitKeys,
  }),
  uses: (p) => [p.on ?? 'main'],
  loadProblems: sendProblems,
  labelShowsValues: true,
  label: (p) => {
    if (typeof p.send === 'string') return `send raw ${JSON.stringify(p.send.length > 40 ? p.send.slice(0, 37) + '...' : p.send)}`;
    // The usual kind fields first; else the start of the message itself, so two sends read differently.
    const msg = p.send;
    const kind = ['type', 'method', 'event', 'op', 'action'].map((k) => msg[k]).find((v) => typeof v === 'string');
    if (typeof kind === 'string') return `send ${kind}`;
    const text = JSON.stringify(p.send);
    return `send ${text.length > 50 ? text.slice(0, 47) + '...' : text}`;
  },
  async run(p, ctx) {
    // The loader checks raw lines as written; a variable can still bring a newline or a leading '/',
    // which wscat would turn into two frames or a slash command.
    for (const m of ctx.connections.get(p.on ?? 'main') ?? []) {
      const payload = m.vars.resolve(p.send);
      if (typeof payload === 'string' && (/[\r\n]/.test(payload) || payload.startsWith('/'))) {
        return ctx.result([ctx.check({ name: `${m.label}: raw line can be sent through wscat`, expected: 'one line, not starting with "/"', actual: JSON.stringify(payload.slice(0, 200)), passed: false, loc: ctx.locOf(['send']), failure: { kind: 'input', what: 'a raw line that wscat cannot send as one frame' } })]);
      }
    }
    return exchange(ctx, p, (m) => {
      const payload = m.vars.resolve(p.send);
      const raw = typeof payload === 'string';
      return raw ? { text: payload, meta: { raw, offProtocol: p.offProtocol === true } } : { text: JSON.stringify(payload), json: payload, meta: { raw, offProtocol: p.offProtocol === true } };
    });
  },
});
