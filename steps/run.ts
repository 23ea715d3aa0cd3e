// A command with an expected exit code and output: "TypeScript compiles", "the command really ran".
import path from 'node:path';
import { defineStep } from '../lib/runner/step-api.ts';
import { runSchema } from './schemas/run.ts';
import { explainExit, runProcess, runShell } from '../lib/os/process.ts';
import { describe, matchValue } from '../lib/matching/match.ts';
import type { CheckResult } from '../lib/evidence/results.ts';
import { buildShellLine } from '../lib/util/shell-quote.ts';

export const run = defineStep({
  ...runSchema,
  usesGit: (p) => (typeof p.run === 'string' ? /^\s*git(\s|$)/.test(p.run) : p.run[0] === 'git'),
  async run(p, ctx) {
    // A command line is shell text: values go in quoted for where they stand, never as syntax.
    const built = typeof p.run === 'string' ? buildShellLine(p.run, ctx.vars.lookup) : undefined;
    if (built && !built.ok) return ctx.result([ctx.check('the command line can be built', 'every value passed literally', built.why, false, ctx.locOf(['run']))]);
    const r0 = { ...ctx.vars.resolve({ ...p, run: [] as string[] }), run: built ? built.line : ctx.vars.resolve(p.run) };
    const cwd = path.resolve(ctx.project, r0.cwd ?? '.');
    const opts = { cwd, env: { ...process.env, ...(r0.env ?? {}) }, timeoutMs: ctx.timeoutMs(r0.timeout ?? '60s'), signal: ctx.settings.signal };
    const res = typeof r0.run === 'string' ? await runShell(r0.run, opts) : await runProcess(r0.run[0]!, r0.run.slice(1), opts);
    const checks: CheckResult[] = [];
    if (res.spawnError) checks.push(ctx.check(`${res.command} starts`, 'started', res.spawnError, false, ctx.locOf(['run'])));
    if (res.timedOut) checks.push(ctx.check(`${res.command} ends within its timeout`, `${opts.timeoutMs} ms`, `killed after ${res.ms} ms`, false, ctx.locOf(['timeout'])));
    const want = r0.exitCode ?? 0;
    const ec = matchValue(want, res.exitCode);
    const exitCheck = ctx.check(`${res.command} exit code`, want, res.signal ? `killed by ${res.signal}` : res.exitCode, ec.passed, ctx.locOf([r0.exitCode !== undefined ? 'exitCode' : 'run']));
    // What the code means and the last lines the command wrote to stderr, as zx words a failed command.
    checks.push(ec.passed ? exitCheck : { ...exitCheck, reason: await explainExit(res) });
    for (const stream of ['stdout', 'stderr'] as const) {
      const m = r0[stream];
      if (m === undefined) continue;
      const r = matchValue(m, res[stream]);
      checks.push(ctx.check(`${stream} of ${res.command}`, m, r.passed ? res[stream] : `${describe(res[stream])}`, r.passed, ctx.locOf([stream])));
    }
    for (const [name, what] of Object.entries(r0.capture ?? {})) ctx.vars.set(name, what === 'exitCode' ? res.exitCode : res[what].trim());
    return ctx.result(checks, { observations: { command: res.command, exitCode: res.exitCode, signal: res.signal, stdout: res.stdout.slice(0, 8192), stderr: res.stderr.slice(0, 8192), ms: res.ms } });
  },
});
