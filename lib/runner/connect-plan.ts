// The connections a run will open, per option set and in order, as far as the gates file says before
// anything runs: what the wscat pool may open ahead (and nothing else). A connect whose options hold a
// value known only later (a capture) is left out: it gets a fresh wscat when it runs.
import type { LoadedGate } from '../gates/model.ts';
import type { ConnectOptions } from '../wscat/connection.ts';
import { connectOptions, type ConnectParamsInput } from '../../steps/connect.ts';
import { UnknownVariable, type VarScope } from '../util/vars.ts';

export interface PlannedConnection {
  opts: ConnectOptions;
  count: number;
}

/** `gates`: the ones this run will run (--gate, --shard), in order. */
export function connectPlan(
  gates: LoadedGate[],
  scope: VarScope,
  url: string,
  openTimeoutMs: number,
): PlannedConnection[] {
  const out: PlannedConnection[] = [];
  for (const gate of gates) {
    const vars = scope.child();
    vars.set('GATE_ID', gate.id);
    for (const step of gate.steps) {
      if (step.kind === 'soak') {
        const p = step.params as { soak: { connections?: number } };
        out.push({ opts: { url, openTimeoutMs }, count: p.soak.connections ?? 1 });
        continue;
      }
      if (step.kind !== 'connect') continue;
      const p = step.params as { connect: string | ConnectParamsInput };
      let c: ConnectParamsInput;
      try {
        c = vars.resolve(typeof p.connect === 'string' ? { name: p.connect } : p.connect);
      } catch (e) {
        if (e instanceof UnknownVariable) continue;
        throw e;
      }
      // A connect that must be refused gets no spare: a spare refused ahead would be one more refusal in the server's log.
      if (c.refused !== undefined) continue;
      out.push({ opts: connectOptions(c, url, openTimeoutMs, step.loc.file), count: c.count ?? 1 });
    }
  }
  return out;
}
