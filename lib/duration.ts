/** Milliseconds from `500ms`, `5s`, `1m` or a plain number of milliseconds. */
export function parseDuration(d: number | string): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/.exec(d.trim());
  if (!m) throw new Error(`not a duration: ${d}`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000);
}
