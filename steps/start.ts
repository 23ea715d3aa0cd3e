// Launch the backend under test, wait until it is ready, keep its output as evidence;
// the runner stops its whole process tree at the end of the run (or of the gate).
import path from 'node:path';
import { defineStep } from '../lib/runner/step-api.ts';
import { startSchema } from './schemas/start.ts';
import { spawnChild } from '../lib/os/process.ts';
import { waitReady, type ReadyProbe } from '../lib/os/ready.ts';
import { substituteUrl } from '../lib/util/var-refs.ts';
import { buildShellLine } from '../lib/util/shell-quote.ts';

export const start = defineStep({
  ...startSchema,
  async run(p, ctx) {
    // The command line is shell text: values go in quoted for where they stand, never as syntax.
    const built = buildShellLine(p.start, ctx.vars.lookup);
    if (!built.ok)
      return ctx.result([
        ctx.check({
          name: 'the command line can be built',
          expected: 'every value passed literally',
          actual: built.why,
          passed: false,
          loc: ctx.locOf(['start']),
          failure: { kind: 'input', what: 'the command line cannot be built' },
        }),
      ]);
    const r0 = { ...ctx.vars.resolve({ ...p, start: '' }), start: built.line };
    // A value in the ready URL is percent-encoded for where it stands, as in an http step.
    if (p.ready && 'http' in p.ready) r0.ready = { ...p.ready, http: substituteUrl(p.ready.http, ctx.vars.lookup) };
    // A new backend: targets that could not be opened before may answer now.
    ctx.settings.deadTargets.clear();
    // With the model stand-in in the run, the backend's model SDK talks to it (the start step's env: wins).
    const child = spawnChild('sh', ['-c', r0.start], {
      cwd: path.resolve(ctx.project, r0.cwd ?? '.'),
      env: { ...process.env, ...(ctx.settings.model?.env ?? {}), ...(r0.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const name = r0.name ?? r0.start;
    ctx.processes.push({ name, child, stopAt: r0.stop ?? 'run' });
    let out = '';
    const keep = (source: string) => (b: Buffer) => {
      const s = b.toString('utf8');
      out = (out + s).slice(-256 * 1024);
      ctx.evidence.stderr(`${source} ${name}`, s);
    };
    child.stdout!.on('data', keep('stdout'));
    child.stderr!.on('data', keep('stderr'));
    const timeoutMs = ctx.timeoutMs(r0.within ?? '30s');
    const started = performance.now();
    const state = await waitReady(child, r0.ready as ReadyProbe, () => out, timeoutMs, ctx.settings.signal);
    const ms = Math.round(performance.now() - started);
    const detail =
      state === 'ready'
        ? `ready in ${ms} ms`
        : state === 'exited'
          ? `exited with code ${child.exitCode} before it was ready; last output: ${out.slice(-500)}`
          : `not ready within ${timeoutMs} ms; last output: ${out.slice(-500)}`;
    return ctx.result(
      [
        ctx.check({
          name: `${name} starts and is ready`,
          expected: r0.ready,
          actual: detail,
          passed: state === 'ready',
          loc: ctx.locOf(['ready']),
          failure: { kind: 'exit', command: name, detail: 'not ready' },
        }),
      ],
      { observations: { readyMs: ms } },
    );
  },
});
