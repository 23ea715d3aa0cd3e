import { existsSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { matchValue } from '../lib/matching/match.ts';
import { describeCloseCode, type ConnectOptions } from '../lib/wscat/connection.ts';
import { defineStep } from '../lib/runner/step-api.ts';
import { type ConnectParams, connectSchema } from './schemas/connect.ts';
import type { CheckResult } from '../lib/evidence/results.ts';

export type ConnectParamsInput = z.infer<typeof ConnectParams>;

/** What wscat is started with for a connect step's (resolved) options: the step itself and the pool's plan use it. */
export function connectOptions(
  c: ConnectParamsInput,
  runUrl: string,
  openTimeoutMs: number,
  gatesFile: string,
): ConnectOptions {
  // Beside the gates file, like `protocol:`: the folder wsgate is started from changes, the gates file's does not.
  const ca = c.ca !== undefined ? path.resolve(path.dirname(gatesFile), c.ca) : undefined;
  return {
    url: c.url ?? runUrl,
    openTimeoutMs,
    ...(c.headers ? { headers: c.headers } : {}),
    ...(c.subprotocols ? { subprotocols: c.subprotocols } : {}),
    ...(c.origin ? { origin: c.origin } : {}),
    ...(c.auth ? { auth: c.auth } : {}),
    ...(c.insecure ? { insecure: true } : {}),
    ...(ca ? { ca } : {}),
    ...(c.followRedirects ? { followRedirects: true } : {}),
  };
}

/** How a server refuses a connection; anything else (a closed port, a timeout) is not the server saying no. */
const REFUSALS = new Set(['HTTP_STATUS', 'CLOSED', 'SUBPROTOCOL_DECLINED']);

export const connect = defineStep({
  ...connectSchema,
  uses: (p) => [(typeof p.connect === 'string' ? p.connect : p.connect.name) ?? 'main'],
  async run(p, ctx) {
    const c = ctx.vars.resolve(typeof p.connect === 'string' ? { name: p.connect } : p.connect) as ConnectParamsInput;
    ctx.secrets.addHeaders(c.headers);
    if (c.auth) ctx.secrets.add(c.auth);
    const name = c.name ?? 'main';
    const count = c.count ?? 1;
    const opts = connectOptions(c, ctx.url, ctx.timeoutMs(p.within), ctx.loc.file);
    const { url, ca } = opts;
    if (ca !== undefined && !existsSync(ca))
      return ctx.result([
        ctx.check({
          name: `CA certificate file ${ca} exists`,
          expected: 'a CA certificate file (PEM)',
          actual: 'no such file',
          passed: false,
          loc: ctx.locOf(['connect', 'ca']),
          failure: { kind: 'input', what: `the CA certificate file ${ca} does not exist` },
        }),
      ]);
    const labels = Array.from({ length: count }, (_, i) => (count > 1 ? `${name}#${i + 1}` : name));
    const opened = await Promise.all(
      labels.map((label) => ctx.openConnection(name, label, opts, c.refused !== undefined)),
    );
    const notTried = opened.find((o) => !o.ok && o.error.code === 'NOT_TRIED');
    if (notTried && !notTried.ok && opened.every((o) => !o.ok))
      return ctx.result([], { status: 'skipped', note: notTried.error.message });
    const checks: CheckResult[] = [];
    if (c.refused !== undefined) {
      const want = c.refused === true ? {} : c.refused;
      const at = (key?: string) => ctx.locOf(key ? ['connect', 'refused', key] : ['connect', 'refused']);
      opened.forEach((o, i) => {
        const who = `${labels[i]}: the server refuses the connection`;
        if (o.ok) {
          checks.push(
            ctx.check({
              name: who,
              expected: 'refused',
              actual: `open in ${o.member.conn.openedMs} ms`,
              passed: false,
              loc: at(),
              failure: { kind: 'connect', target: url, refusal: true },
            }),
          );
          return;
        }
        const e = o.error;
        const said =
          e.code === 'HTTP_STATUS'
            ? `HTTP ${e.httpStatus}`
            : e.code === 'CLOSED'
              ? `closed: ${describeCloseCode(e.closeCode, e.closeReason)}`
              : e.code === 'SUBPROTOCOL_DECLINED'
                ? `subprotocol declined: ${e.message}`
                : `${e.code}: ${e.message}`;
        checks.push(
          ctx.check({
            name: who,
            expected: 'refused',
            actual: said,
            passed: REFUSALS.has(e.code),
            loc: at(),
            failure: { kind: 'connect', target: url, error: e.message },
          }),
        );
        if (!REFUSALS.has(e.code)) return;
        const fields: [keyof typeof want, string, unknown][] = [
          ['status', 'HTTP status of the refusal', e.httpStatus],
          ['code', 'close code of the refusal', e.closeCode],
          ['reason', 'close reason of the refusal', e.closeReason],
        ];
        for (const [key, words, actual] of fields) {
          const m = want[key];
          if (m === undefined) continue;
          const r = matchValue(m, actual);
          checks.push(
            ctx.check({
              name: `${labels[i]}: ${words}`,
              expected: m,
              actual: actual ?? null,
              passed: r.passed,
              loc: at(key),
              ...(r.reason ? { reason: r.reason } : {}),
              failure: { kind: 'field', field: words, expected: m },
            }),
          );
        }
      });
      return ctx.result(checks);
    }
    opened.forEach((o, i) => {
      if (!o.ok) {
        checks.push(
          ctx.check({
            name: `${labels[i]}: connection to ${url} opens`,
            expected: 'open',
            actual: `${o.error.code}: ${o.error.message}`,
            passed: false,
            failure: { kind: 'connect', target: url, error: o.error.message },
          }),
        );
        return;
      }
      checks.push(
        ctx.check({
          name: `${labels[i]}: connection to ${url} opens`,
          expected: 'open',
          actual: `open in ${o.member.conn.openedMs} ms`,
          passed: true,
        }),
      );
      if (c.expectSubprotocol !== undefined) {
        const chosen = o.member.conn.opened?.protocol ?? '';
        const r = matchValue(c.expectSubprotocol, chosen);
        checks.push(
          ctx.check({
            name: `${labels[i]}: subprotocol the server chose`,
            expected: c.expectSubprotocol,
            actual: chosen,
            passed: r.passed,
            loc: ctx.locOf(['connect', 'expectSubprotocol']),
            ...(r.reason ? { reason: r.reason } : {}),
            failure: { kind: 'field', field: 'subprotocol', expected: c.expectSubprotocol },
          }),
        );
      }
    });
    return ctx.result(checks);
  },
});
