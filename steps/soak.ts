// Gate 3A's "memory growth under a 5-minute stress": connections that repeat a few exchanges for a time
// (or a number of rounds) while the backend's memory is sampled; a slow leak shows as growth from a
// baseline taken after warm-up. The exchanges are ordinary send/expect steps, run through their own code.
import type { z } from 'zod';
import { defineStep } from '../lib/runner/step-api.ts';
import { type Memory, soakSchema } from './schemas/soak.ts';
import { parseDuration } from '../lib/gates/duration.ts';
import { treeRssBytes } from '../lib/os/process.ts';
import { httpRequest } from '../lib/os/http-client.ts';
import { substituteUrl } from '../lib/util/var-refs.ts';
import { getPath } from '../lib/matching/match.ts';
import type { CheckResult, StepResult } from '../lib/evidence/results.ts';
import type { Member, StepContext } from '../lib/runner/context.ts';
import { send } from './send.ts';
import { expect } from './expect.ts';

export const soak = defineStep({
  ...soakSchema,
  async run(p, ctx) {
    const n = p.soak.connections ?? 1;
    const forText = p.soak.for !== undefined ? (ctx.vars.resolve(p.soak.for) as string | number) : undefined;
    let forMs: number | undefined;
    try {
      forMs = forText !== undefined ? parseDuration(forText) : undefined;
    } catch {
      return ctx.result([
        ctx.check({
          name: 'soak.for is a duration',
          expected: 'a duration such as 30s or 5m',
          actual: String(forText),
          passed: false,
          loc: ctx.locOf(['soak', 'for']),
          failure: { kind: 'input', what: 'soak.for is not a duration' },
        }),
      ]);
    }
    // The time runs from the end of the warm-up (every connection done its warm-up rounds; from the
    // first round when no memory is sampled): `for: 5m` is five minutes of stress measured.
    let untilMs = Infinity;
    const startClock = () => {
      if (forMs !== undefined) untilMs = performance.now() + forMs;
    };
    const rounds = p.soak.rounds ?? Infinity;
    const sampler = p.memory ? memorySampler(p.memory, ctx) : undefined;
    const checks: CheckResult[] = [];
    const opened = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        ctx.openConnection('soak', `soak#${i + 1}`, { url: ctx.url, openTimeoutMs: ctx.timeoutMs() }),
      ),
    );
    const members = opened.flatMap((o) => (o.ok ? [o.member] : []));
    opened.forEach((o, i) => {
      if (!o.ok)
        checks.push(
          ctx.check({
            name: `soak#${i + 1}: connection opens`,
            expected: 'open',
            actual: `${o.error.code}: ${o.error.message}`,
            passed: false,
            failure: { kind: 'connect', target: ctx.url, error: o.error.message },
          }),
        );
    });
    if (!members.length) return ctx.result(checks);
    const warmup = p.memory?.warmup ?? 1;
    let warm = 0;
    // Connections the clock waits for: one that leaves during warm-up is not waited for (else a `for:`
    // soak whose other connections never stop would never end).
    let warming = members.length;
    const warmed = async () => {
      if (warm !== warming || warming === 0) return;
      warming = -1;
      startClock();
      await sampler?.baseline();
    };
    let exchanges = 0;
    let failedCount = 0;
    const failures: StepResult[] = [];
    let round = 0;
    const cut: string[] = [];
    const soakProgress = () => {
      const done = `${round} round${round === 1 ? '' : 's'}`;
      const length =
        forMs === undefined
          ? `${done} of ${rounds}`
          : untilMs === Infinity
            ? `warming up · ${done}`
            : `${seconds(forMs - Math.max(0, untilMs - performance.now()))} of ${seconds(forMs)} · ${done}`;
      const growth = sampler?.growthSoFar();
      return growth === undefined ? length : `${length} · memory ${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%`;
    };
    const wantsMore = (r: number) => r < rounds && (r < warmup || performance.now() < untilMs);
    const runner = async (m: Member) => {
      let r = 0;
      for (; wantsMore(r) && m.conn.isOpen && !ctx.settings.signal.aborted; r++) {
        for (const [k, inner] of p.soak.steps.entries()) {
          const sub = innerContext(ctx, m, k);
          const res = 'send' in inner ? await send.run(inner as never, sub) : await expect.run(inner as never, sub);
          exchanges++;
          if (res.status === 'failed') {
            failedCount++;
            if (failures.length < 3) failures.push(res);
          }
        }
        if (r + 1 === warmup) {
          warm++;
          await warmed();
        }
        round = Math.max(round, r + 1);
        ctx.progress(soakProgress());
      }
      if (r < warmup && warming > 0) {
        warming--;
        await warmed();
      }
      // The soak's length is part of what it checks: a connection the server dropped early did not soak.
      if (wantsMore(r) && !ctx.settings.signal.aborted)
        cut.push(
          `${m.label} was closed after ${r} round${r === 1 ? '' : 's'}${m.conn.closed?.code !== undefined ? ` (close ${m.conn.closed.code})` : ''}`,
        );
    };
    const ticker = sampler ? setInterval(() => void sampler.sample(), sampler.everyMs) : undefined;
    await Promise.all(members.map(runner));
    if (ticker) clearInterval(ticker);
    const first = failures[0]?.checks.find((c) => !c.passed);
    checks.push(
      ctx.check({
        name: `${members.length} connection${members.length === 1 ? '' : 's'} × ${round} rounds: every exchange passes`,
        expected: `${exchanges} of ${exchanges}`,
        actual: first
          ? `${failedCount} of ${exchanges} failed; first: ${first.name}: ${String(first.actual).slice(0, 300)}`
          : `${exchanges} of ${exchanges}`,
        passed: !first,
        loc: ctx.locOf(['soak', 'steps']),
        failure: { kind: 'soak', detail: 'exchanges' },
      }),
    );
    const length = p.soak.for !== undefined ? `for ${String(forText)}` : `${rounds} rounds`;
    checks.push(
      ctx.check({
        name: `every connection lasts the soak (${length})`,
        expected: `${members.length} of ${members.length}`,
        actual: cut.length ? cut.join('; ') : `${members.length} of ${members.length}`,
        passed: cut.length === 0,
        loc: ctx.locOf(['soak', p.soak.for !== undefined ? 'for' : 'rounds']),
        failure: { kind: 'soak', detail: 'connections' },
      }),
    );
    if (sampler) checks.push(await sampler.verdict(warm === members.length));
    for (const m of members) await m.conn.dispose();
    return ctx.result(checks, {
      observations: { rounds: round, exchanges, ...(sampler ? { memory: sampler.samples } : {}) },
    });
  },
});

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/** One connection of the soak, seen by an inner send/expect step as its `main`. */
function innerContext(ctx: StepContext, m: Member, k: number): StepContext {
  return {
    ...ctx,
    connections: new Map([['main', [m]]]),
    vars: m.vars,
    loc: ctx.locOf(['soak', 'steps', k]),
    locOf: (path) => ctx.locOf(['soak', 'steps', k, ...path]),
  };
}

/** Samples the backend's memory: a baseline after warm-up, then every period; judged against maxGrowth. */
function memorySampler(mem: z.infer<typeof Memory>, ctx: StepContext) {
  const samples: { atMs: number; bytes: number }[] = [];
  const t0 = performance.now();
  let baselineBytes: number | undefined;
  let problem: string | undefined;
  const started = ctx.startedProcesses();
  const proc = mem.of !== undefined ? started.find((p) => p.name === mem.of) : undefined;
  if (mem.of !== undefined && !proc)
    problem = `no start step named "${mem.of}" has run (started: ${started.map((p) => p.name).join(', ') || 'none'})`;
  if (mem.of === undefined && mem.http === undefined) problem = 'memory needs `of` (a start step) or `http` (a URL)';
  const read = async (): Promise<number | undefined> => {
    if (proc?.child.pid !== undefined) return treeRssBytes(proc.child.pid);
    if (mem.http === undefined) return undefined;
    // Values in the URL are percent-encoded for where they stand, as in an http step.
    const r = await httpRequest(
      'GET',
      substituteUrl(mem.http, ctx.vars.lookup),
      {},
      undefined,
      ctx.timeoutMs(),
      false,
      ctx.settings.signal,
    );
    if (!r.ok) return undefined;
    try {
      const v = getPath(JSON.parse(r.answer.body), mem.field ?? 'memory.rss');
      return typeof v === 'number' ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const sample = async () => {
    const bytes = await read();
    if (bytes !== undefined) samples.push({ atMs: Math.round(performance.now() - t0), bytes });
    return bytes;
  };
  const limit = typeof mem.maxGrowth === 'number' ? mem.maxGrowth : Number(mem.maxGrowth.slice(0, -1));
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
  return {
    samples,
    everyMs: parseDuration(mem.every ?? '1s'),
    sample,
    async baseline() {
      // The largest of what warm-up left: growth is counted from the backend's own steady state.
      const now = await sample();
      baselineBytes = Math.max(now ?? 0, ...samples.map((s) => s.bytes));
      if (!baselineBytes) baselineBytes = undefined;
    },
    /** Growth of the latest sample over the baseline, for the live line; undefined before the baseline. */
    growthSoFar(): number | undefined {
      const latest = samples.at(-1)?.bytes;
      return baselineBytes === undefined || latest === undefined
        ? undefined
        : ((latest - baselineBytes) / baselineBytes) * 100;
    },
    async verdict(warmedUp: boolean): Promise<CheckResult> {
      await sample();
      const name = `memory of ${mem.of ?? mem.http} grows at most ${limit}%`;
      const at = ctx.locOf(['memory', 'maxGrowth']);
      if (problem)
        return ctx.check({
          name,
          expected: `<= ${limit}%`,
          actual: problem,
          passed: false,
          loc: ctx.locOf(['memory']),
          failure: { kind: 'soak', detail: 'memory' },
        });
      if (!warmedUp || baselineBytes === undefined)
        return ctx.check({
          name,
          expected: `<= ${limit}%`,
          actual: `not measured: the warm-up (${mem.warmup ?? 1} rounds on every connection) did not finish, or the memory could not be read`,
          passed: false,
          loc: at,
          failure: { kind: 'soak', detail: 'memory' },
        });
      // The end is the median of the last three samples: one garbage collection is not a trend.
      const last = samples
        .slice(-3)
        .map((s) => s.bytes)
        .sort((a, b) => a - b);
      const end = last[Math.floor(last.length / 2)]!;
      const growth = ((end - baselineBytes) / baselineBytes) * 100;
      return ctx.check({
        name,
        expected: `<= ${limit}%`,
        actual: `${mb(baselineBytes)} after warm-up → ${mb(end)} at the end (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%)`,
        passed: growth <= limit,
        loc: at,
        failure: { kind: 'soak', detail: 'memory' },
      });
    },
  };
}
