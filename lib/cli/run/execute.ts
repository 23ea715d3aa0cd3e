// The run phase of `wsgate run`: the chosen gates run against the target, with the evidence writer,
// the reporters, the pool and, on a terminal outside CI, a prompt for manual checks.
import { createInterface } from 'node:readline/promises';
import type { RunResult } from '../../evidence/results.ts';
import { runGates } from '../../runner/run.ts';
import type { OpenEvidence } from './evidence.ts';
import type { Held } from './held.ts';
import type { RunPlan } from './inputs.ts';
import type { Target } from './target.ts';

export async function executeGates(
  plan: RunPlan,
  held: Held,
  target: Target,
  evidence: OpenEvidence,
): Promise<RunResult> {
  const { args } = plan;
  const interactive = Boolean(process.stdin.isTTY) && !process.env.CI;
  const prompt = interactive ? new Prompt(held.controller, evidence.dir) : undefined;
  try {
    const result = await runGates({
      gates: plan.gates,
      url: target.url,
      project: held.project.path,
      runId: plan.runId,
      only: args.gates,
      skip: args.skipGates,
      bail: args.bail,
      timeoutScale: args.timeoutScale,
      budgetScale: args.budgetScale,
      ...(held.server ? { serverPid: held.server.pid } : {}),
      parallel: args.parallel,
      ...(args.shard ? { shard: args.shard } : {}),
      gateProject: (id: string) => held.gateFolders.create(id),
      cliVars: args.vars,
      verbose: args.verbose,
      interactive,
      ...(prompt ? { ask: (q: string) => prompt.ask(q) } : {}),
      reporters: plan.reporters,
      evidence: evidence.writer,
      secrets: target.secrets,
      ...(held.pool ? { pool: held.pool } : {}),
      ...(target.protocol ? { protocol: target.protocol } : {}),
      ...(held.model ? { model: held.model.run } : {}),
      signal: held.controller.signal,
    });
    await held.pool?.close();
    return result;
  } finally {
    prompt?.close();
  }
}

/**
 * Questions of manual checks, one at a time (parallel gates may ask together); Ctrl-C at a prompt
 * stops the run like Ctrl-C anywhere else, and an interrupted run stops asking.
 */
class Prompt {
  private rl: ReturnType<typeof createInterface> | undefined;
  private asking: Promise<string> = Promise.resolve('');

  constructor(
    private readonly controller: AbortController,
    private readonly evidenceDir: string,
  ) {}

  ask(q: string): Promise<string> {
    this.rl ??= createInterface({ input: process.stdin, output: process.stdout });
    const line = this.rl;
    const { signal } = this.controller;
    const next = this.asking.then(() =>
      signal.aborted ? 'skip' : line.question(`    ${q}(evidence: ${this.evidenceDir}) `, { signal }),
    );
    this.asking = next.catch(() => 'skip');
    return next.catch(() => {
      this.controller.abort();
      return 'skip';
    });
  }

  close(): void {
    this.rl?.close();
  }
}
