// What the backend sent the model, judged from the model stand-in's records of this gate (since the gate
// began, or since its previous model step): the stand-in's own checks (a rule's tool was declared, the
// tool result held what the rule requires), a tool result that reached the model, the tools declared,
// the number of requests. Without a stand-in in the run (a real model, or none) the step is skipped.
import { defineStep } from '../lib/runner/step-api.ts';
import { modelSchema } from './schemas/model.ts';
import { describe, matchValue } from '../lib/matching/match.ts';
import type { CheckResult } from '../lib/evidence/results.ts';
import { recordsFor } from '../lib/model-api/in-run.ts';

export const model = defineStep({
  ...modelSchema,
  async run(p, ctx) {
    const m = ctx.settings.model;
    if (!m)
      return ctx.result([], { status: 'skipped', note: 'no model stand-in in this run (see wsgate run --model)' });
    // Records are the stand-in's, not the gate's: a gate running beside others (--parallel) would judge
    // their requests too. Such a step is not checked, never a guess; a `serial: true` gate runs alone.
    if (m.project !== undefined && ctx.project !== m.project)
      return ctx.result([], {
        status: 'unchecked',
        note: "not checked under --parallel: the model stand-in cannot tell this gate's requests from those of the gates running beside it (mark the gate serial: true to judge them)",
      });
    const q = ctx.vars.resolve(p.model);
    const records = recordsFor(m, ctx.gateId, ctx.snapshot.startedAt).filter((r) => r.status === 200);
    const checks: CheckResult[] = [];
    for (const r of records)
      for (const c of r.checks ?? []) {
        checks.push(
          ctx.check({
            name: `model request ${r.seq}: ${c.name}`,
            expected: c.expected,
            actual: c.actual,
            passed: c.passed,
            loc: ctx.loc,
            ...(c.reason ? { reason: c.reason } : {}),
            failure: { kind: 'model', what: c.name },
          }),
        );
      }
    if (q.requests !== undefined) {
      const r = matchValue(q.requests, records.length);
      checks.push(
        ctx.check({
          name: 'requests the backend sent the model',
          expected: q.requests,
          actual: records.length,
          passed: r.passed,
          loc: ctx.locOf(['model', 'requests']),
          ...(r.reason ? { reason: r.reason } : {}),
          failure: { kind: 'model', what: 'the backend sent the model another number of requests' },
        }),
      );
    }
    if (q.declares) {
      const declared = records.at(-1)?.declaredTools;
      for (const tool of q.declares) {
        const passed = declared?.includes(tool) === true;
        checks.push(
          ctx.check({
            name: `the backend declares ${tool} to the model`,
            expected: tool,
            actual: declared ?? 'no request',
            passed,
            loc: ctx.locOf(['model', 'declares']),
            ...(passed
              ? {}
              : {
                  reason: declared
                    ? `it declared ${declared.join(', ') || 'no tools'}`
                    : 'the backend sent the model no request in this gate',
                }),
            failure: { kind: 'model', what: `the backend does not declare ${tool} to the model` },
          }),
        );
      }
    }
    if (q.toolResult) {
      const want = q.toolResult;
      // A conversation is resent whole each turn: a result is the same result in every later request.
      const results = [
        ...new Map(
          records
            .flatMap((r) => r.toolResults ?? [])
            .filter((t) => t.tool === want.tool)
            .map((t) => [JSON.stringify(t), t]),
        ).values(),
      ];
      const good = results.find(
        (t) =>
          (want.content === undefined || matchValue(want.content, t.content).passed) &&
          (want.error === undefined || t.isError === want.error),
      );
      const expected = {
        tool: want.tool,
        ...(want.content !== undefined ? { content: want.content } : {}),
        ...(want.error !== undefined ? { error: want.error } : {}),
      };
      const actual = results.length
        ? results.map((t) => (t.isError ? { error: t.content } : t.content))
        : `no ${want.tool} result reached the model (${records.length} requests in this gate)`;
      checks.push(
        ctx.check({
          name: `the backend returned ${want.tool}'s result to the model`,
          expected,
          actual,
          passed: good !== undefined,
          loc: ctx.locOf(['model', 'toolResult']),
          ...(good ? {} : { reason: results.length ? `the model received ${describe(actual)}` : String(actual) }),
          failure: { kind: 'model', what: `${want.tool}'s result did not reach the model` },
        }),
      );
    }
    if (checks.length === 0)
      checks.push(
        ctx.check({
          name: 'the backend sent the model requests in this gate',
          expected: 'at least one request',
          actual: records.length,
          passed: records.length > 0,
          failure: { kind: 'model', what: 'the backend sent the model no request' },
        }),
      );
    return ctx.result(checks, { observations: { modelRequests: records.map((r) => r.seq) } });
  },
});
