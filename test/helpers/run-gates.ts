// Running a gates file written in a test against a real server, in-process (real wscat, real disk,
// real git): faster than the CLI when a test is about one step kind.
import path from 'node:path';
import { loadGatesText } from '../../lib/gates/load.ts';
import { runGates } from '../../lib/runner/run.ts';
import { EvidenceWriter } from '../../lib/evidence/writer.ts';
import { prepareProject } from '../../lib/runner/project.ts';
import type { RunResult, StepResult, CheckResult } from '../../lib/evidence/results.ts';
import type { Reporter } from '../../lib/reporters/types.ts';
import { tempDir } from './cli.ts';

// Every folder made here is removed when the test file's process exits: callers need not track them.
const made: { remove(): void }[] = [];
process.on('exit', () => made.forEach((d) => d.remove()));
function madeDir(prefix: string): string {
  const d = tempDir(prefix);
  made.push(d);
  return d.path;
}

export interface InProcessRun {
  result: RunResult;
  evidenceDir: string;
  project: string;
  /** Every step of every gate, flattened. */
  steps: StepResult[];
  failedChecks: CheckResult[];
}

export async function runGatesYaml(
  yaml: string,
  opts: {
    url: string;
    project?: string;
    vars?: Record<string, string>;
    bail?: boolean;
    timeoutScale?: number;
    file?: string;
    signal?: AbortSignal;
    reporters?: Reporter[];
    serverPid?: number;
  },
): Promise<InProcessRun> {
  const loaded = loadGatesText(yaml, opts.file ?? 'test.gates.yaml', { cliVars: opts.vars ?? {} });
  if (!loaded.ok)
    throw new Error(
      'gates did not load:\n' + loaded.errors.map((e) => `${e.loc?.line}:${e.loc?.col} ${e.title}`).join('\n'),
    );
  const project = opts.project ?? (await prepareProject(madeDir('wsgate-step-project-'))).path;
  const evDir = madeDir('wsgate-step-evidence-');
  const evidence = new EvidenceWriter(path.join(evDir, 'ev'));
  const result = await runGates({
    gates: loaded.gates,
    url: opts.url,
    project,
    runId: 'test',
    bail: opts.bail ?? false,
    timeoutScale: opts.timeoutScale ?? 1,
    cliVars: opts.vars ?? {},
    verbose: false,
    interactive: false,
    reporters: opts.reporters ?? [],
    evidence,
    signal: opts.signal ?? new AbortController().signal,
    ...(opts.serverPid !== undefined ? { serverPid: opts.serverPid } : {}),
  });
  await evidence.finish('test');
  const steps = result.gates.flatMap((g) => g.steps);
  return {
    result,
    evidenceDir: path.join(evDir, 'ev'),
    project,
    steps,
    failedChecks: steps.flatMap((s) => s.checks.filter((c) => !c.passed)),
  };
}
