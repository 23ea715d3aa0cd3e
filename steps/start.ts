// Launch the backend under test, wait until it is ready, keep its output as evidence;
// the runner stops its whole process tree at the end of the run (or of the gate).
import { z } from 'zod';
import path from 'node:path';
import { Duration } from '../lib/gates/common-schema.ts';
import { defineStep } from '../lib/runner/step-api.ts';
import { spawnChild } from '../lib/os/process.ts';
import { waitReady, type ReadyProbe } from '../lib/os/ready.ts';
import { substituteUrl } from '../lib/runner/var-refs.ts';
import { buildShellLine, changedEscapes, shellProblems } from '../lib/runner/shell-quote.ts';

const Ready = z.union([
  z.strictObject({ http: z.string().describe('URL polled until it answers'), status: z.number().int().optional() }),
  z.strictObject({ port: z.number().int().min(1).max(65535), host: z.string().optional() }),
  z.strictObject({ log: z.string().describe('Regex awaited in stdout/stderr') }),
]);

export const start = defineStep({
  schema: z.strictObject({
    start: z.string().describe('Shell command line that starts the backend'),
    cwd: z.string().optional().describe('Default: the project folder (PATH); a relative path is resolved against it'),
    env: z.record(z.string(), z.string()).optional(),
    ready: Ready,
    within: Duration.optional().describe('Deadline for readiness (default 30s)'),
    stop: z.enum(['gate', 'run']).optional().describe('When to stop it (default: end of the run)'),
    name: z.string().optional(),
  }),
  label: (p) => `start ${p.start}`.slice(0, 80),
  loadProblems: (p) => shellProblems(p.start).map((x) => ({ path: ['start'], ...x })),
  loadWarnings: (p) => changedEscapes(p.start).map((x) => ({ path: ['start'], ...x })),
  async run(p, ctx) {
    // The command line is shell text: values go in quoted for where they stand, never as syntax.
    const built = buildShellLine(p.start, ctx.vars.lookup);
    if (!built.ok) return ctx.result([ctx.check('the command line can be built', 'every value passed literally', built.why, false, ctx.locOf(['start']))]);
    const r0 = { ...ctx.vars.resolve({ ...p, start: '' }), start: built.line };
    // A value in the ready URL is percent-encoded for where it stands, as in an http step.
    if (p.ready && 'http' in p.ready) r0.ready = { ...p.ready, http: substituteUrl(p.ready.http, ctx.vars.lookup) };
    // A new backend: targets that could not be opened before may answer now.
    ctx.settings.deadTargets.clear();
    // With the model stand-in in the run, the backend's model SDK talks to it (the start step's env: wins).
    const child = spawnChild('sh', ['-c', r0.start], { cwd: path.resolve(ctx.project, r0.cwd ?? '.'), env: { ...process.env, ...(ctx.settings.model?.env ?? {}), ...(r0.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
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
    const detail = state === 'ready' ? `ready in ${ms} ms` : state === 'exited' ? `exited with code ${child.exitCode} before it was ready; last output: ${out.slice(-500)}` : `not ready within ${timeoutMs} ms; last output: ${out.slice(-500)}`;
    return ctx.result([ctx.check(`${name} starts and is ready`, r0.ready, detail, state === 'ready', ctx.locOf(['ready']))], { observations: { readyMs: ms } });
  },
});
