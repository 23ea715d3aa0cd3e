// The start-target phase of `wsgate run`: the secrets every output must hide, the server the gates talk
// to (the URL given, or the embedded reference server working on PATH) and the wscat pool that opens
// connections to it ahead of need. A protocol not compiled yet is compiled meanwhile (compilesLate).
import path from 'node:path';
import { startEmbeddedTarget } from '../../runner/embedded.ts';
import { Secrets } from '../../evidence/secrets.ts';
import { serverTokenFor } from '../../os/server-tokens.ts';
import type { ProtocolWatch } from '../../protocol/watch.ts';
import { WscatPool } from '../../wscat/pool.ts';
import { connectPlan } from '../../runner/connect-plan.ts';
import { baseScope, shardGates } from '../../runner/run.ts';
import type { RunArgs } from '../args.ts';
import type { Held } from './held.ts';
import { compilesLate, loadRunProtocol, type RunPlan } from './inputs.ts';

export interface Target {
  url: string;
  secrets: Secrets;
  protocol?: ProtocolWatch;
}

export async function startTarget(plan: RunPlan, held: Held): Promise<Target> {
  const { args, gates } = plan;
  const secrets = runSecrets(args, gates.source, plan.key);
  if (!args.url)
    held.server = await startEmbeddedTarget(
      held.project.path,
      args.keep,
      args.parallelRoot !== undefined ? path.resolve(args.parallelRoot) : undefined,
    );
  const url = args.url ?? held.server!.url;
  // The embedded server's token: a command run through it can print the server's environment.
  secrets.add(serverTokenFor(url));
  held.pool = new WscatPool(args.pool);
  // Only the connections the gates file will ask for (never the bare URL when no connect uses it).
  const scope = baseScope({ gates, url, project: held.project.path, runId: plan.runId, cliVars: args.vars });
  // The gates this run runs, chosen as the runner chooses them: --gate, then --shard, then --skip-gate.
  const chosen = shardGates(
    args.gates.length ? gates.gates.filter((g) => args.gates.includes(g.id)) : gates.gates,
    args.shard,
  ).filter((g) => !args.skipGates.includes(g.id));
  held.pool.plan(connectPlan(chosen, scope, url, Math.round(gates.defaults.timeoutMs * args.timeoutScale)));
  const protocol = compilesLate(args) ? loadRunProtocol(gates, args.lenient) : plan.protocol;
  return { url, secrets, ...(protocol ? { protocol } : {}) };
}

/** Secret from the start: --secret-var values and every `${env.NAME}` the gates file reads. */
function runSecrets(args: RunArgs, gatesSource: string, signingKey: string | undefined): Secrets {
  const secrets = new Secrets();
  for (const v of args.secrets) secrets.add(v);
  secrets.addUrl(args.url);
  secrets.add(signingKey);
  for (const m of gatesSource.matchAll(/\$\{env\.([A-Za-z_][A-Za-z0-9_]*)\}/g)) secrets.add(process.env[m[1]!]);
  return secrets;
}
