// The open-evidence and close-evidence phases of `wsgate run`. The evidence folder is made only once
// every input was accepted (a usage error leaves none behind) and the run is announced to the
// reporters; at the end the files that describe the run (the resolved gates, the variables, the
// embedded server's logs, the environment, result.json) are written before the manifest seals it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRunDir } from '../../evidence/dir.ts';
import type { RunResult } from '../../evidence/results.ts';
import { EvidenceWriter } from '../../evidence/writer.ts';
import { PROCESS_TABLE } from '../../os/process.ts';
import { packageVersion } from '../../package-root.ts';
import { report } from '../../reporters/dispatch.ts';
import type { RunInfo } from '../../reporters/index.ts';
import { wscatVersion } from '../../wscat/connection.ts';
import { RUN_BUDGET } from '../../wscat/budget.ts';
import type { Held } from './held.ts';
import type { RunPlan } from './inputs.ts';
import type { Target } from './target.ts';
import { modelJsonl } from './model.ts';

export interface OpenEvidence {
  writer: EvidenceWriter;
  dir: string;
  info: RunInfo;
}

export async function openEvidence(plan: RunPlan, held: Held, target: Target): Promise<OpenEvidence> {
  const { args, file, gates, runId } = plan;
  const dir = createRunDir(args.out, held.project.path, runId);
  const writer = new EvidenceWriter(dir, target.secrets.redact, plan.key, (drained) => RUN_BUDGET.stall(drained));
  const info: RunInfo = {
    runId,
    url: target.url,
    project: held.project.path,
    gatesFile: file.display,
    gatesOrigin: file.origin,
    gatesSource: gates.source,
    embedded: !args.url,
    version: packageVersion(),
    gateCount: gates.gates.length,
    evidenceDir: dir,
    redact: target.secrets.redact,
  };
  await report(plan.reporters, 'onRunStart', info);
  return { writer, dir, info };
}

export async function closeEvidence(
  plan: RunPlan,
  held: Held,
  target: Target,
  evidence: OpenEvidence,
  result: RunResult,
): Promise<void> {
  const { args, gates, runId } = plan;
  const { url, secrets } = target;
  const project = held.project.path;
  const w = evidence.writer;
  w.writeFile('gates.resolved.yaml', gates.source);
  w.writeJson('variables.json', { URL: url, PROJECT: project, RUN_ID: runId, ...gates.vars, ...args.vars });
  // The embedded server's own logs are evidence too (the server is gone after the run).
  if (held.server)
    for (const f of ['combined.log', 'error.log']) {
      const p = path.join(held.server.logDir, f);
      if (existsSync(p)) w.writeFile(`logs/server-${f}`, readFileSync(p, 'utf8'));
    }
  // What the backend sent the model stand-in: requests, declared tools, tool results, timings.
  if (held.model) w.writeFile('model.jsonl', modelJsonl(held.model));
  w.writeJson('environment.json', {
    wsgate: packageVersion(),
    node: process.version,
    wscat: wscatVersion(),
    platform: `${process.platform} ${process.arch}`,
    processTable: PROCESS_TABLE,
    url,
    embedded: !args.url,
    project,
    gatesFile: plan.file.file,
    timeoutScale: args.timeoutScale,
  });
  w.writeJson('result.json', secrets.redactDeep(result));
  await w.finish(runId);
}
