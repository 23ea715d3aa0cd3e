// Durations as gates files write them, and latency budgets built from them.
import type { Budget } from './common-schema.ts';

/** Milliseconds from `500ms`, `5s`, `1m` or a plain number of milliseconds. */
export function parseDuration(d: number | string): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/.exec(d.trim());
  if (!m) throw new Error(`not a duration: ${d}`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000);
}

/** A budget's limit in ms (times --budget-scale) and whether it only warns. */
export function budgetOf(b: Budget | undefined, scale = 1): { ms: number; soft: boolean } | undefined {
  if (b === undefined) return undefined;
  const raw =
    typeof b === 'object' ? { ms: parseDuration(b.max), soft: b.soft ?? false } : { ms: parseDuration(b), soft: false };
  return { ms: Math.round(raw.ms * scale), soft: raw.soft };
}
