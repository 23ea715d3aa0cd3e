import { z } from 'zod';
import { ExpectList, waitKeys } from '../lib/gates/common-schema.ts';
import { defineStep, type LoadProblem } from '../lib/runner/step-api.ts';
import { exchange } from '../lib/matching/exchange.ts';
import { looksLikeJson, substituteRaw, type RawLine } from '../lib/runner/vars.ts';
import type { Member } from '../lib/runner/context.ts';

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
      .union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.number(), z.boolean(), z.string()])
      .describe('A JSON value (object, array, number or boolean: sent as one line of JSON) or a raw text line, e.g. malformed JSON; in a raw line that is JSON, a variable inside a JSON string is JSON-escaped'),
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
    const kind = msg !== null && typeof msg === 'object' && !Array.isArray(msg) ? kindWord(msg) : undefined;
    if (typeof kind === 'string') return `send ${kind}`;
    const text = JSON.stringify(p.send);
    return `send ${text.length > 50 ? text.slice(0, 47) + '...' : text}`;
  },
  async run(p, ctx) {
    // A raw line is substituted once per connection (JSON-escaped where the line is JSON), then held
    // to what wscat can send and to the JSON it claims to be.
    const raw = new Map<Member, RawLine>();
    for (const m of ctx.connections.get(p.on ?? 'main') ?? []) {
      // A line that is one reference to a structured value sends that value as JSON, as before.
      if (typeof p.send !== 'string' || typeof m.vars.resolve(p.send) !== 'string') continue;
      const line = substituteRaw(p.send, m.vars.lookup);
      raw.set(m, line);
      if (/[\r\n]/.test(line.text) || line.text.startsWith('/')) {
        return ctx.result([ctx.check({ name: `${m.label}: raw line can be sent through wscat`, expected: 'one line, not starting with "/"', actual: JSON.stringify(line.text.slice(0, 200)), passed: false, loc: ctx.locOf(['send']), failure: { kind: 'input', what: 'a raw line that wscat cannot send as one frame' } })]);
      }
      if (line.claimsJson && !looksLikeJson(line.text)) {
        return ctx.result([ctx.check({ name: `${m.label}: raw line is the JSON it is written as`, expected: 'valid JSON once variables are in', actual: line.text.slice(0, 200), passed: false, loc: ctx.locOf(['send']), failure: { kind: 'input', what: 'a variable made the raw JSON line invalid' } })]);
      }
    }
    return exchange(ctx, p, (m) => {
      const line = raw.get(m);
      if (line) return { text: line.text, meta: { raw: true, offProtocol: p.offProtocol === true } };
      const payload = m.vars.resolve(p.send);
      return { text: JSON.stringify(payload), json: payload, meta: { raw: false, offProtocol: p.offProtocol === true } };
    });
  },
});

/** The usual kind fields first; else the start of the message itself, so two sends read differently. */
function kindWord(msg: Record<string, unknown>): string | undefined {
  return ['type', 'method', 'event', 'op', 'action'].map((k) => msg[k]).find((v): v is string => typeof v === 'string');
}
