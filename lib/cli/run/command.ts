// `wsgate run`: a run as a short sequence of named phases, each in a file of its own beside this one.
// Every input is checked before anything is created; from the moment the project folder exists,
// finish() releases what the run holds on every path: passed, failed, a harness error, Ctrl-C.
import { EXIT } from '../../errors.ts';
import { packageVersion } from '../../package-root.ts';
import { report } from '../../reporters/dispatch.ts';
import { wscatVersion } from '../../wscat/connection.ts';
import { parseRunArgs, RUN_HELP, type RunArgs } from '../args.ts';
import { closeEvidence, openEvidence } from './evidence.ts';
import { executeGates } from './execute.ts';
import { chooseGates, listGates, loadGates } from './gates.ts';
import { finish, prepareRun } from './held.ts';
import { checkInputs } from './inputs.ts';
import { startTarget } from './target.ts';
import { startRunModel } from './model.ts';
import { applyRunRules } from './verdict.ts';

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (args.help || args.version) return answer(args);
  const loaded = loadGates(args);
  if (!loaded) return EXIT.usage;
  if (args.list) return listGates(loaded.gates);
  const { withGit } = chooseGates(args, loaded);
  const plan = checkInputs(args, loaded, withGit);
  const held = await prepareRun(plan);
  try {
    const target = await startTarget(plan, held);
    held.model = await startRunModel(plan.args, plan.gates, {
      url: target.url,
      project: held.project.path,
      runId: plan.runId,
    });
    const evidence = await openEvidence(plan, held, target);
    held.started = true;
    const result = await executeGates(plan, held, target, evidence);
    applyRunRules(args, result);
    await closeEvidence(plan, held, target, evidence, result);
    await report(plan.reporters, 'onRunEnd', result, evidence.info);
    return result.exitCode;
  } finally {
    await finish(held, args.keep);
  }
}

/** `--help` and `--version`, answered before anything else. */
function answer(args: RunArgs): number {
  if (args.help) process.stdout.write(RUN_HELP + '\n');
  else process.stdout.write(`wsgate ${packageVersion()} (wscat ${wscatVersion()}, node ${process.version})\n`);
  return EXIT.passed;
}
