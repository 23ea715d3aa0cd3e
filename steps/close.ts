// Close a connection from the client side, or expect the server to close it.
import { z } from 'zod';
import { Duration } from '../lib/gates/common-schema.ts';
import { defineStep } from '../lib/step-api.ts';
import { describeClose, lastMessages, membersOf, noConnection } from '../lib/exchange.ts';
import type { CheckResult } from '../lib/results.ts';

const CloseParams = z.strictObject({
  on: z.string().optional(),
  code: z.number().int().min(1000).max(4999).optional(),
  reason: z.string().optional(),
  by: z.enum(['client', 'server']).optional().describe('server: expect the server to close it'),
});

export const close = defineStep({
  schema: z.strictObject({
    close: z.union([z.string().describe('Connection name'), CloseParams]),
    within: Duration.optional(),
    name: z.string().optional(),
  }),
  label: (p) => {
    const c = typeof p.close === 'string' ? { on: p.close } : p.close;
    return c.by === 'server' ? `expect the server to close ${c.on ?? 'main'}` : `close ${c.on ?? 'main'}`;
  },
  async run(p, ctx) {
    const c = typeof p.close === 'string' ? { on: p.close } : p.close;
    const members = membersOf(ctx, c.on);
    if (!members) return noConnection(ctx, c.on);
    const withinMs = ctx.timeoutMs(p.within);
    const checks: CheckResult[] = [];
    if (c.by === 'server') {
      const deadline = performance.now() + withinMs;
      const infos = await Promise.all(members.map((m) => m.conn.waitClosed(deadline)));
      infos.forEach((info, i) => checks.push(ctx.check(`${members[i]!.label}: the server closes the connection`, `closed within ${withinMs} ms`, info ? describeClose(members[i]!) : 'still open', info !== null && !info.byClient)));
    } else {
      const infos = await Promise.all(members.map((m) => (m.conn.isOpen ? m.conn.close(c.code ?? 1000, c.reason ?? '', withinMs).then(() => null) : Promise.resolve(describeClose(m)))));
      infos.forEach((already, i) => checks.push(ctx.check(`${members[i]!.label}: closes cleanly`, 'open until closed by the harness', already ?? 'closed by the harness', already === null)));
    }
    const failed = checks.some((x) => !x.passed);
    return ctx.result(checks, failed ? { lastMessages: lastMessages(members) } : {});
  },
});
