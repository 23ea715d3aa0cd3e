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
}

export function runModel(url: string, log: ModelLog): RunModel {
  return {
    url,
    log,
    env: { ANTHROPIC_BASE_URL: url, OPENAI_BASE_URL: `${url}/v1`, MODEL_URL: url, ANTHROPIC_API_KEY: PLACEHOLDER_KEY, OPENAI_API_KEY: PLACEHOLDER_KEY },
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
