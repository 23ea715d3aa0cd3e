// The model phase of `wsgate run`: the model API stand-in, served in this process while the gates run,
// when --model asks for it or the gates file scripts it (a model: section) and starts its backend (a
// start: step), which then gets the stand-in's URL. Its records become the run's model.jsonl.
import { EXIT, HarnessFailure } from '../../errors.ts';
import type { LoadedGates } from '../../gates/model.ts';
import type { ModelSectionInput } from '../../gates/model-section.ts';
import { baseScope } from '../../runner/run.ts';
import { substitute } from '../../util/vars.ts';
import { DEFAULT_MODEL_SECTION } from '../../model-api/default-rules.ts';
import { runModel, type RunModel } from '../../model-api/in-run.ts';
import { scriptOf } from '../../model-api/rules.ts';
import { startModelServer, type ModelServer } from '../../model-api/server.ts';
import type { RunArgs } from '../args.ts';

export interface HostedModel {
  server: ModelServer;
  run: RunModel;
}

/** Whether the run serves the stand-in: asked for, or scripted for a backend the gates start. */
export function wantsModel(args: Pick<RunArgs, 'model' | 'modelPort'>, gates: LoadedGates): boolean {
  if (args.model || args.modelPort !== undefined) return true;
  return gates.model !== undefined && gates.gates.some((g) => g.steps.some((s) => s.kind === 'start'));
}

/**
 * The model: section with the run's variables in it (a rule may require "read check ${RUN_ID}"); a name
 * the run does not know stays as written.
 */
export function sectionForRun(
  gates: LoadedGates,
  run: { url: string; project: string; runId: string; cliVars: Record<string, string> },
): ModelSectionInput {
  if (!gates.model) return DEFAULT_MODEL_SECTION;
  const scope = baseScope({ gates, ...run });
  return substitute(gates.model, (name) => {
    const r = scope.lookup(name);
    return r.found ? r : { found: true, value: `\${${name}}` };
  });
}

export async function startRunModel(
  args: Pick<RunArgs, 'model' | 'modelPort' | 'vars'>,
  gates: LoadedGates,
  at: { url: string; project: string; runId: string },
  out: NodeJS.WritableStream = process.stderr,
): Promise<HostedModel | undefined> {
  if (!wantsModel(args, gates)) return undefined;
  let server: ModelServer;
  try {
    server = await startModelServer({
      script: scriptOf(sectionForRun(gates, { ...at, cliVars: args.vars })),
      port: args.modelPort ?? 0,
    });
  } catch (e) {
    // A port the user named that is taken is the user's to change (exit 2), not wsgate broken (exit 3).
    const taken = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' && args.modelPort !== undefined;
    throw new HarnessFailure(
      [
        {
          code: 'SERVER',
          title: `the model stand-in could not start: ${(e as Error).message}`,
          ...(args.modelPort !== undefined
            ? { hint: `is port ${args.modelPort} taken? give another --model-port, or none for a free one` }
            : {}),
        },
      ],
      taken ? EXIT.usage : EXIT.harness,
    );
  }
  const run = runModel(server.url, server.log, at.project);
  // A backend the user starts must be pointed at the stand-in: say exactly what to set.
  out.write(
    `wsgate: model stand-in at ${server.url}${gates.model ? '' : " (the default gates' rules)"}; a backend started outside the run needs:\n  ANTHROPIC_BASE_URL=${server.url} OPENAI_BASE_URL=${server.url}/v1 ANTHROPIC_API_KEY=test OPENAI_API_KEY=test\n`,
  );
  return { server, run };
}

/** model.jsonl's text: one line per request. */
export function modelJsonl(hosted: HostedModel): string {
  return (
    hosted.server.log.records.map((r) => JSON.stringify(r)).join('\n') + (hosted.server.log.records.length ? '\n' : '')
  );
}
