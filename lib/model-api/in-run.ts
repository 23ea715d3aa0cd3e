// The stand-in as a run holds it: its URL, the environment a started backend gets, its log, and which
// records each gate's model steps have judged already (a later model step judges only newer requests).
import type { ModelLog, ModelRecord } from './evidence-log.ts';

/** A placeholder key: a backend that ignores the base URL then fails at the real API instead of paying it. */
export const PLACEHOLDER_KEY = 'wsgate-model-stand-in';

export interface RunModel {
  url: string;
  log: ModelLog;
  /** Given to every backend a start step launches (a start step's own env: wins). */
  env: Record<string, string>;
  /** Per gate: the last record seq a model step of that gate judged. */
  judged: Map<string, number>;
  /**
   * The run's own project folder. A gate on another folder is one of --parallel's concurrent gates:
   * the stand-in's records carry no gate, so that gate's model steps cannot tell its requests from
   * those of the gates running beside it, and are not checked.
   */
  project?: string;
}

export function runModel(url: string, log: ModelLog, project?: string): RunModel {
  return {
    url,
    log,
    ...(project !== undefined ? { project } : {}),
    env: {
      ANTHROPIC_BASE_URL: url,
      OPENAI_BASE_URL: `${url}/v1`,
      MODEL_URL: url,
      ANTHROPIC_API_KEY: PLACEHOLDER_KEY,
      OPENAI_API_KEY: PLACEHOLDER_KEY,
    },
    judged: new Map(),
  };
}

/** The records a gate's model step judges: since the gate began, after the ones its earlier model steps judged. */
export function recordsFor(m: RunModel, gateId: string, gateStartedAt: number): ModelRecord[] {
  const after = m.judged.get(gateId) ?? 0;
  const records = m.log.records.filter((r) => r.seq > after && Date.parse(r.at) >= gateStartedAt);
  const last = m.log.records.at(-1)?.seq;
  if (last !== undefined) m.judged.set(gateId, last);
  return records;
}

/**
 * How long the stand-in was answering between two wall-clock times (ms since the epoch): the model's
 * share of a step's measured time, for a budget the model's turn dominates. Overlapping requests count once.
 */
export function modelBusyMs(log: ModelLog, fromMs: number, toMs: number): number {
  const spans = log.records
    .filter((r) => r.timing)
    .map((r) => {
      const end = Date.parse(r.at);
      return [Math.max(fromMs, end - r.timing!.totalMs), Math.min(toMs, end)] as const;
    })
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let busy = 0;
  let reach = -Infinity;
  for (const [a, b] of spans) {
    if (b <= reach) continue;
    busy += b - Math.max(a, reach);
    reach = b;
  }
  return busy;
}
