import { defineStep } from '../lib/runner/step-api.ts';
import { sendSchema } from './schemas/send.ts';
import { exchange } from '../lib/matching/exchange.ts';
import { looksLikeJson, substituteRaw, type RawLine } from '../lib/util/vars.ts';
import type { Member } from '../lib/runner/context.ts';

export const send = defineStep({
  ...sendSchema,
  uses: (p) => [p.on ?? 'main'],
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
        return ctx.result([
          ctx.check({
            name: `${m.label}: raw line can be sent through wscat`,
            expected: 'one line, not starting with "/"',
            actual: JSON.stringify(line.text.slice(0, 200)),
            passed: false,
            loc: ctx.locOf(['send']),
            failure: { kind: 'input', what: 'a raw line that wscat cannot send as one frame' },
          }),
        ]);
      }
      if (line.claimsJson && !looksLikeJson(line.text)) {
        return ctx.result([
          ctx.check({
            name: `${m.label}: raw line is the JSON it is written as`,
            expected: 'valid JSON once variables are in',
            actual: line.text.slice(0, 200),
            passed: false,
            loc: ctx.locOf(['send']),
            failure: { kind: 'input', what: 'a variable made the raw JSON line invalid' },
          }),
        ]);
      }
    }
    return exchange(ctx, p, (m) => {
      const line = raw.get(m);
      if (line) return { text: line.text, meta: { raw: true, offProtocol: p.offProtocol === true } };
      const payload = m.vars.resolve(p.send);
      return {
        text: JSON.stringify(payload),
        json: payload,
        meta: { raw: false, offProtocol: p.offProtocol === true },
      };
    });
  },
});
