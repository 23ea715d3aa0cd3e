// What a run holds from the moment its project folder exists: the folder, the per-gate folders of
// --parallel, the Ctrl-C handler, the embedded server and the wscat pool. prepareRun() takes the
// first three; later phases add the others; finish() releases whatever is there, on every path
// (passed, failed, a harness error, Ctrl-C).
import path from 'node:path';
import { onInterrupt } from '../interrupt.ts';
import { GateFolders, prepareProject, removeOwned, type Project } from '../../runner/project.ts';
import type { EmbeddedServer } from '../../runner/embedded.ts';
import type { WscatPool } from '../../wscat/pool.ts';
import type { HostedModel } from './model.ts';
import type { RunPlan } from './inputs.ts';

export interface Held {
  project: Project;
  gateFolders: GateFolders;
  /** Aborted by the first Ctrl-C or SIGTERM: the run stops, reaps its children and reports. */
  controller: AbortController;
  offInterrupt: () => void;
  server?: EmbeddedServer;
  pool?: WscatPool;
  /** The model API stand-in, when the run serves one. */
  model?: HostedModel;
  /** A gate began: --keep keeps what the run made (a run stopped by a usage error before that made nothing). */
  started: boolean;
}

/** Prepare project: PATH made ready (created, a repository when the gates need git), Ctrl-C taken over. */
export async function prepareRun(plan: RunPlan): Promise<Held> {
  const { args, runId, withGit } = plan;
  const project = await prepareProject(args.project, { git: withGit, allowSubfolder: args.allowSubfolder });
  const controller = new AbortController();
  const offInterrupt = onInterrupt(controller, (sig) =>
    process.stderr.write(`\nwsgate: ${sig} received, stopping (again to force)\n`),
  );
  // Per-gate folders of --parallel go inside PATH unless --parallel-root names another folder.
  const parallelRoot = args.parallelRoot !== undefined ? path.resolve(args.parallelRoot) : project.path;
  return {
    project,
    gateFolders: new GateFolders(runId, withGit, parallelRoot),
    controller,
    offInterrupt,
    started: false,
  };
}

/** Finish: everything released; with --keep (once a gate began) the project and server data stay. */
export async function finish(held: Held, keepAsked: boolean): Promise<void> {
  held.offInterrupt();
  await held.pool?.close();
  await held.model?.server.close();
  const keep = keepAsked && held.started;
  await held.server?.stop(keep);
  held.gateFolders.cleanup(keep);
  if (!keep) removeOwned(held.project);
  else if (held.project.owned) process.stderr.write(`wsgate: kept project folder ${held.project.path}\n`);
}
