// Every figure of a bench run set against the last recorded run (bench/results.json), so a slower
// frame path or a fatter CLI shows up as a regression instead of a number nobody compares. A figure is
// a regression only beyond noise: worse than the recorded median by more than TOLERANCE and, when both
// runs repeated it, with no overlap between the two ranges (min..max). The shared machine this runs on
// moves single numbers by 20-30 % from one hour to the next; a planted 2x slowdown clears both bars.

/** Relative change below which a figure is noise whatever its ranges say. */
export const TOLERANCE = 0.25;

export interface Figure {
  name: string;
  unit: 'ms' | 'MB' | 'msg/s';
  /** Which way is better. */
  better: 'lower' | 'higher';
  median: number;
  min: number;
  max: number;
  n: number;
}

type Spread = { median: number; min: number; max: number; n: number };

/** A Stats object ({median, min, max, n}) or a single number, as either shape of results.json holds them. */
function spread(v: unknown): Spread | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return { median: v, min: v, max: v, n: 1 };
  if (v !== null && typeof v === 'object' && typeof (v as Spread).median === 'number') {
    const s = v as Spread;
    return { median: s.median, min: s.min ?? s.median, max: s.max ?? s.median, n: s.n ?? 1 };
  }
  return undefined;
}

function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split('.'))
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  return cur;
}

/** The figures compared from run to run: [name, path in results.json, unit, better]. */
const FIGURES: [string, string, Figure['unit'], Figure['better']][] = [
  ['whole gates.yaml, wall', 'gates.harnessFull.wallMs', 'ms', 'lower'],
  ['whole gates.yaml, CPU', 'gates.harnessFull.cpuMs', 'ms', 'lower'],
  ['Gate 3A, wall', 'gates.harness3a.wallMs', 'ms', 'lower'],
  ['floor, whole file', 'gates.floorFull.processWallMs', 'ms', 'lower'],
  ['bare wscat start-open-close', 'bareWscat.wallMs', 'ms', 'lower'],
  ['parser, recorded stream', 'parser.recorded.cpuMsgPerSec', 'msg/s', 'higher'],
  ['parser, deltas', 'parser.deltas.cpuMsgPerSec', 'msg/s', 'higher'],
  ['parser, deltas, peak RSS', 'parser.deltas.peakRssMb', 'MB', 'lower'],
  ['deltas end to end, wall', 'million.wallMs', 'ms', 'lower'],
  ['deltas end to end, CPU', 'million.cpuMs', 'ms', 'lower'],
  ['deltas end to end, CLI peak RSS', 'million.cliPeakRssMb', 'MB', 'lower'],
  ['deltas end to end, wscat peak RSS', 'million.wscatPeakRssMb', 'MB', 'lower'],
  ['50 gates, serial', 'fiftyGates.serial.wallMs', 'ms', 'lower'],
  ['50 gates, --parallel 8', 'fiftyGates.parallel8.wallMs', 'ms', 'lower'],
  ['1 gate alone', 'fiftyGates.one.wallMs', 'ms', 'lower'],
];

/** The comparable figures of one results.json (those it holds). */
export function figuresOf(results: unknown): Figure[] {
  const out: Figure[] = [];
  for (const [name, path, unit, better] of FIGURES) {
    const s = spread(at(results, path));
    if (s) out.push({ name, unit, better, ...s });
  }
  const verdicts = at(results, 'timeToVerdict');
  if (Array.isArray(verdicts)) {
    for (const v of verdicts as { server: string; wallMs: unknown }[]) {
      const s = spread(v.wallMs);
      if (s) out.push({ name: `time to verdict, ${v.server}`, unit: 'ms', better: 'lower', ...s });
    }
  }
  return out;
}

export type Verdict = 'regression' | 'improvement' | 'same' | 'new';

export interface Comparison {
  name: string;
  unit: Figure['unit'];
  before?: Figure;
  now: Figure;
  /** now.median / before.median. */
  ratio?: number;
  verdict: Verdict;
}

/** Worse (or better) beyond noise: past TOLERANCE, and outside the recorded range when both runs have one. */
function beyondNoise(worse: boolean, before: Figure, now: Figure): boolean {
  const ratio = now.median / before.median;
  const lowerBetter = now.better === 'lower';
  const change = worse === lowerBetter ? ratio - 1 : 1 - ratio;
  if (change <= TOLERANCE) return false;
  if (before.n > 1 && now.n > 1) {
    // The ranges must not overlap: every repetition of one run on the wrong side of the other's.
    return worse === lowerBetter ? now.min > before.max : now.max < before.min;
  }
  return true;
}

export function compare(before: unknown, now: unknown): Comparison[] {
  const old = new Map(figuresOf(before).map((f) => [f.name, f]));
  return figuresOf(now).map((f): Comparison => {
    const b = old.get(f.name);
    if (!b || b.median === 0) return { name: f.name, unit: f.unit, now: f, verdict: 'new' };
    const ratio = f.median / b.median;
    const verdict: Verdict = beyondNoise(true, b, f) ? 'regression' : beyondNoise(false, b, f) ? 'improvement' : 'same';
    return { name: f.name, unit: f.unit, before: b, now: f, ratio, verdict };
  });
}

function show(f: Figure): string {
  const v = (x: number) =>
    f.unit === 'ms'
      ? `${(x / 1000).toFixed(2)} s`
      : f.unit === 'MB'
        ? `${Math.round(x)} MB`
        : `${Math.round(x).toLocaleString('en-US')} msg/s`;
  return f.n > 1 ? `${v(f.median)} (${v(f.min)}–${v(f.max)})` : v(f.median);
}

/** Rows for the bench's table: figure, recorded, now, change, verdict (REGRESSION in capitals). */
export function comparisonRows(cs: Comparison[]): string[][] {
  return [
    ['figure', 'recorded', 'now', 'change', 'verdict'],
    ...cs.map((c) => [
      c.name,
      c.before ? show(c.before) : '—',
      show(c.now),
      c.ratio === undefined ? '' : `${c.ratio >= 1 ? '+' : ''}${Math.round((c.ratio - 1) * 100)} %`,
      c.verdict === 'regression' ? 'REGRESSION' : c.verdict,
    ]),
  ];
}
