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
    if (built && !built.ok)
      return ctx.result([
        ctx.check({
          name: 'the command line can be built',
          expected: 'every value passed literally',
          actual: built.why,
          passed: false,
          loc: ctx.locOf(['run']),
          failure: { kind: 'input', what: 'the command line cannot be built' },
        }),
      ]);
    const r0 = {
      ...ctx.vars.resolve({ ...p, run: [] as string[] }),
      run: built ? built.line : ctx.vars.resolve(p.run),
    };
    const cwd = path.resolve(ctx.project, r0.cwd ?? '.');
    const opts = {
      cwd,
      env: { ...process.env, ...(r0.env ?? {}) },
      timeoutMs: ctx.timeoutMs(r0.timeout ?? '60s'),
      signal: ctx.settings.signal,
    };
    const res =
      typeof r0.run === 'string' ? await runShell(r0.run, opts) : await runProcess(r0.run[0]!, r0.run.slice(1), opts);
    const checks: CheckResult[] = [];
    if (res.spawnError)
      checks.push(
        ctx.check({
          name: `${res.command} starts`,
          expected: 'started',
          actual: res.spawnError,
          passed: false,
          loc: ctx.locOf(['run']),
          failure: { kind: 'exit', command: res.command, detail: 'not started' },
        }),
      );
    if (res.timedOut)
      checks.push(
        ctx.check({
          name: `${res.command} ends within its timeout`,
          expected: `${opts.timeoutMs} ms`,
          actual: `killed after ${res.ms} ms`,
          passed: false,
          loc: ctx.locOf(['timeout']),
          failure: { kind: 'exit', command: res.command, detail: 'timeout' },
        }),
      );
    const want = r0.exitCode ?? 0;
    const ec = matchValue(want, res.exitCode);
    const actualExit = res.signal ? `killed by ${res.signal}` : res.exitCode;
    // What the code means and the last lines the command wrote to stderr, as zx words a failed command.
    const explained = ec.passed ? {} : { reason: await explainExit(res) };
    checks.push(
      ctx.check({
        name: `${res.command} exit code`,
        expected: want,
        actual: actualExit,
        passed: ec.passed,
        loc: ctx.locOf([r0.exitCode !== undefined ? 'exitCode' : 'run']),
        ...explained,
        failure: { kind: 'exit', command: res.command, detail: 'exit code', expected: want, actual: actualExit },
      }),
    );
    for (const stream of ['stdout', 'stderr'] as const) {
      const m = r0[stream];
      if (m === undefined) continue;
      const r = matchValue(m, res[stream]);
      checks.push(
        ctx.check({
          name: `${stream} of ${res.command}`,
          expected: m,
          actual: r.passed ? res[stream] : `${describe(res[stream])}`,
          passed: r.passed,
          loc: ctx.locOf([stream]),
          ...(r.reason ? { reason: r.reason } : {}),
          failure: { kind: 'content', subject: `${stream} of ${res.command}` },
        }),
      );
    }
    for (const [name, what] of Object.entries(r0.capture ?? {}))
      ctx.vars.set(name, what === 'exitCode' ? res.exitCode : res[what].trim());
    return ctx.result(checks, {
      observations: {
        command: res.command,
        exitCode: res.exitCode,
        signal: res.signal,
        stdout: res.stdout.slice(0, 8192),
        stderr: res.stderr.slice(0, 8192),
        ms: res.ms,
      },
    });
  },
});
