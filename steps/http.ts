// One HTTP request with status, JSON and body checks: /health, REST session endpoints.
import { defineStep } from '../lib/runner/step-api.ts';
import { httpSchema, parseRequestLine } from './schemas/http.ts';
import { describe, getPath, matchValue } from '../lib/matching/match.ts';
import type { CheckResult } from '../lib/evidence/results.ts';
import { httpRequest } from '../lib/os/http-client.ts';
import { substituteUrl } from '../lib/util/var-refs.ts';
import { stallMeter } from '../lib/os/stall.ts';
import { budgetOf } from '../lib/gates/duration.ts';

/** How many more times an idempotent request over its budget is measured. */
const RESAMPLES = 4;

export const http = defineStep({
  ...httpSchema,
  async run(p, ctx) {
    // The URL is resolved on its own: a value inside it is encoded for where it stands (see substituteUrl).
    const line = typeof p.http === 'string' ? parseRequestLine(p.http) : undefined;
    const url = substituteUrl(line ? line.url : (p.http as { url: string }).url, ctx.vars.lookup);
    const r0 = ctx.vars.resolve({ ...p, http: typeof p.http === 'string' ? '' : { ...p.http, url: '' } });
    const req =
      typeof r0.http === 'string'
        ? { method: line!.method, url }
        : { ...r0.http, url, method: (r0.http.method ?? 'GET').toUpperCase() };
    const headers: Record<string, string> = { ...('headers' in req ? req.headers : {}) };
    ctx.secrets.addHeaders(headers);
    ctx.secrets.addUrl(req.url);
    let body: string | undefined;
    if ('json' in req && req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    } else if ('body' in req && req.body !== undefined) body = req.body;
    const withinMs = ctx.timeoutMs(r0.within);
    const checks: CheckResult[] = [];
    // An address where nothing answered at all is judged once per run, like a dead WebSocket target.
    let origin = req.url;
    try {
      origin = new URL(req.url).origin;
    } catch {
      // not a URL: httpRequest says so
    }
    const dead = ctx.settings.deadTargets.get(`http ${origin}`);
    if (dead)
      return ctx.result([], {
        status: 'skipped',
        note: `not tried: ${origin} did not answer at ${dead.where} (${dead.why})`,
      });
    // The request runs in the harness and, with the embedded server, in the server's own process: a
    // CPU wait of either is in the measured time and is not the server's speed.
    const onPath = [process.pid, ctx.settings.serverPid];
    const meter = stallMeter(onPath);
    const out = await httpRequest(req.method, req.url, headers, body, withinMs, false, ctx.settings.signal);
    let stall = meter.stop();
    if (!out.ok && out.unreachable)
      ctx.settings.deadTargets.set(`http ${origin}`, {
        where: `gate ${ctx.gateId}, step ${ctx.stepNumber}`,
        why: out.error,
      });
    if (!out.ok) {
      checks.push(
        ctx.check({
          name: `${req.method} ${req.url} answers`,
          expected: 'an HTTP response',
          actual: out.error,
          passed: false,
          loc: ctx.locOf(['http']),
          failure: { kind: 'connect', target: origin, error: out.error },
        }),
      );
      return ctx.result(checks);
    }
    const { status, body: text } = out.answer;
    let ms = out.answer.ms;
    // A GET or HEAD changes nothing, so a time over budget is measured again (up to RESAMPLES times)
    // and the fastest sample counts: one slow answer on a busy machine is not the server's speed.
    const budgetMs = budgetOf(r0.budget, ctx.settings.budgetScale)?.ms;
    for (
      let i = 0;
      budgetMs !== undefined && ms > budgetMs && (req.method === 'GET' || req.method === 'HEAD') && i < RESAMPLES;
      i++
    ) {
      const m = stallMeter(onPath);
      const again = await httpRequest(req.method, req.url, headers, body, withinMs, false, ctx.settings.signal);
      const s = m.stop();
      if (!again.ok || again.answer.status !== status) break;
      if (again.answer.ms < ms) {
        ms = again.answer.ms;
        stall = s;
      }
    }
    const wantStatus = r0.status ?? { gte: 200, lt: 300 };
    const st = matchValue(wantStatus, status);
    checks.push(
      ctx.check({
        name: `${req.method} ${req.url} status`,
        expected: wantStatus,
        actual: status,
        passed: st.passed,
        loc: ctx.locOf([r0.status !== undefined ? 'status' : 'http']),
        failure: { kind: 'status', request: `${req.method} ${req.url}`, expected: wantStatus, actual: status },
      }),
    );
    let parsed: unknown;
    if (r0.json !== undefined || r0.capture !== undefined) {
      try {
        parsed = JSON.parse(text);
      } catch {
        checks.push(
          ctx.check({
            name: 'response body is JSON',
            expected: 'JSON',
            actual: text.slice(0, 300),
            passed: false,
            loc: ctx.locOf(['json']),
            failure: { kind: 'content', subject: `the body of ${req.method} ${req.url} (not JSON)` },
          }),
        );
      }
    }
    if (parsed !== undefined) {
      for (const [path, m] of Object.entries(r0.json ?? {})) {
        const actual = getPath(parsed, path);
        const r = matchValue(m, actual);
        checks.push(
          ctx.check({
            name: `response ${path}`,
            expected: m,
            actual: r.passed ? actual : `${describe(actual)} (${r.reason})`,
            passed: r.passed,
            loc: ctx.locOf(['json', path]),
            failure: { kind: 'field', field: `response ${path}`, expected: m },
          }),
        );
      }
      for (const [name, given] of Object.entries(r0.capture ?? {})) {
        // `field?`: a default, not a requirement. Taken only when the field is there and the variable
        // has no value yet (a --var of that name wins); absent, later steps that need it are not checked.
        const optional = given.endsWith('?');
        const path = optional ? given.slice(0, -1) : given;
        const v = getPath(parsed, path);
        if (optional) {
          if (v !== undefined && !ctx.vars.lookup(name).found) ctx.vars.set(name, v);
        } else if (v === undefined)
          checks.push(
            ctx.check({
              name: `capture ${name} from ${path}`,
              expected: 'a value',
              actual: '(absent)',
              passed: false,
              loc: ctx.locOf(['capture', name]),
              failure: { kind: 'capture', variable: name, path },
            }),
          );
        else ctx.vars.set(name, v);
      }
    }
    if (r0.body !== undefined) {
      const r = matchValue(r0.body, text);
      checks.push(
        ctx.check({
          name: 'response body',
          expected: r0.body,
          actual: text.slice(0, 2000),
          passed: r.passed,
          loc: ctx.locOf(['body']),
          ...(r.reason ? { reason: r.reason } : {}),
          failure: { kind: 'content', subject: `the body of ${req.method} ${req.url}` },
        }),
      );
    }
    const t = ctx.timing(ctx.stepId, ms, r0.budget, ctx.locOf(['budget']), stall);
    if (t.check) checks.push(t.check);
    return ctx.result(checks, { timings: [t.timing], observations: { status: status, body: text.slice(0, 8192), ms } });
  },
});
