// Close a connection from the client side, or expect the server to close it (with a code and reason,
// as the observer inside wscat saw them).
import { defineStep } from '../lib/runner/step-api.ts';
import { closeSchema } from './schemas/close.ts';
import { describeClose, lastMessages, membersOf, noConnection } from '../lib/matching/exchange.ts';
import { describeCloseCode } from '../lib/wscat/connection.ts';
import { matchValue } from '../lib/matching/match.ts';
import type { CheckResult } from '../lib/evidence/results.ts';

export const close = defineStep({
  ...closeSchema,
  uses: (p) => [(typeof p.close === 'string' ? p.close : p.close.on) ?? 'main'],
  async run(p, ctx) {
    const c = typeof p.close === 'string' ? { on: p.close } : ctx.vars.resolve(p.close);
    const members = membersOf(ctx, c.on);
    if (!members) return noConnection(ctx, c.on);
    const withinMs = ctx.timeoutMs(p.within);
    const checks: CheckResult[] = [];
    if ('by' in c && c.by === 'server') {
      const deadline = performance.now() + withinMs;
      const infos = await Promise.all(members.map((m) => m.conn.waitClosed(deadline)));
      infos.forEach((info, i) => {
        const m = members[i]!;
        m.closeReported = true;
        const byServer = info !== null && !info.byClient;
        checks.push(
          ctx.check({
            name: `${m.label}: the server closes the connection`,
            expected: `closed within ${withinMs} ms`,
            actual: info ? describeClose(m) : 'still open',
            passed: byServer,
            failure: info
              ? { kind: 'closed', conn: m.label, close: describeClose(m) }
              : { kind: 'close', detail: 'not closed' },
          }),
        );
        if (!byServer) return;
        const seen = describeCloseCode(info.code, info.reason);
        if (c.code !== undefined)
          checks.push(
            ctx.check({
              name: `${m.label}: close code`,
              expected: c.code,
              actual: seen,
              passed: info.code === c.code,
              loc: ctx.locOf(['close', 'code']),
              failure: { kind: 'close', detail: 'code', expected: c.code, actual: info.code },
            }),
          );
        if (c.reason !== undefined) {
          const r = matchValue(c.reason, info.reason ?? '');
          checks.push(
            ctx.check({
              name: `${m.label}: close reason`,
              expected: c.reason,
              actual: info.reason ?? '',
              passed: r.passed,
              loc: ctx.locOf(['close', 'reason']),
              ...(r.reason ? { reason: r.reason } : {}),
              failure: { kind: 'close', detail: 'reason', expected: c.reason, actual: info.reason ?? '' },
            }),
          );
        }
      });
    } else {
      const code = 'code' in c ? (c.code ?? 1000) : 1000;
      const reason = 'reason' in c && typeof c.reason === 'string' ? c.reason : '';
      const infos = await Promise.all(
        members.map((m) =>
          m.conn.isOpen ? m.conn.close(code, reason, withinMs).then(() => null) : Promise.resolve(describeClose(m)),
        ),
      );
      infos.forEach((already, i) =>
        checks.push(
          ctx.check({
            name: `${members[i]!.label}: closes cleanly`,
            expected: 'open until closed by the harness',
            actual: already ?? 'closed by the harness',
            passed: already === null,
            failure: { kind: 'closed', conn: members[i]!.label, close: already ?? '' },
          }),
        ),
      );
    }
    const failed = checks.some((x) => !x.passed);
    return ctx.result(checks, failed ? { lastMessages: lastMessages(members) } : {});
  },
});
