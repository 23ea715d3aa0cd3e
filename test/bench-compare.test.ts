// bench/compare.ts: which changes between two bench runs are regressions beyond noise. Pure data in,
// verdicts out; the planted-slowdown run itself is recorded in docs/performance.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, comparisonRows, figuresOf, TOLERANCE } from '../bench/compare.ts';

const stats = (all: number[]) => {
  const s = [...all].sort((a, b) => a - b);
  return { median: s[s.length >> 1]!, min: s[0]!, max: s[s.length - 1]!, n: s.length, all };
};

/** A results.json holding the long-stream section only, in the shape bench/run.ts writes. */
const run = (walls: number[], rss: number[], parserMsgPerSec = 1_000_000) => ({
  million: { wallMs: stats(walls), cpuMs: stats(walls), cliPeakRssMb: stats(rss), wscatPeakRssMb: stats([170]) },
  parser: { deltas: { cpuMsgPerSec: parserMsgPerSec, peakRssMb: 48 } },
});

const verdictOf = (cs: ReturnType<typeof compare>, name: string) => cs.find((c) => c.name === name)?.verdict;

test('a 2x slower frame path is a regression', () => {
  const cs = compare(run([4000, 4200, 4400], [120, 122, 125]), run([8100, 8400, 8900], [121, 123, 124], 500_000));
  assert.equal(verdictOf(cs, 'deltas end to end, wall'), 'regression');
  assert.equal(verdictOf(cs, 'parser, deltas'), 'regression');
  assert.equal(verdictOf(cs, 'deltas end to end, CLI peak RSS'), 'same');
  assert.match(comparisonRows(cs).find((r) => r[0] === 'deltas end to end, wall')![4]!, /^REGRESSION$/);
});

test('a change within the tolerance is noise', () => {
  const cs = compare(run([4000, 4200, 4400], [120, 122, 125]), run([4600, 4700, 4800], [120, 122, 125]));
  assert.ok(4700 / 4200 - 1 < TOLERANCE);
  assert.equal(verdictOf(cs, 'deltas end to end, wall'), 'same');
});

test('past the tolerance but inside the recorded range is noise: a busy minute, not the code', () => {
  const cs = compare(run([4000, 5000, 9000], [120]), run([5500, 6400, 7000], [120]));
  assert.ok(6400 / 5000 - 1 > TOLERANCE);
  assert.equal(verdictOf(cs, 'deltas end to end, wall'), 'same');
});

test('a clear gain is an improvement, and a figure with no recorded value is new', () => {
  const before = { million: { wallMs: 20_000, cliPeakRssMb: 170 } };
  const cs = compare(before, run([4000, 4100, 4300], [120, 125, 130]));
  assert.equal(verdictOf(cs, 'deltas end to end, wall'), 'improvement');
  assert.equal(verdictOf(cs, 'deltas end to end, CLI peak RSS'), 'improvement');
  assert.equal(verdictOf(cs, 'parser, deltas'), 'new');
});

test('single numbers (no spread) compare by the tolerance alone', () => {
  assert.equal(
    verdictOf(compare({ million: { wallMs: 4000 } }, { million: { wallMs: 8000 } }), 'deltas end to end, wall'),
    'regression',
  );
  assert.equal(
    verdictOf(compare({ million: { wallMs: 4000 } }, { million: { wallMs: 4800 } }), 'deltas end to end, wall'),
    'same',
  );
});

test('figures are read from both shapes of results.json, and time-to-verdict rows are figures too', () => {
  const fs = figuresOf({
    million: { wallMs: 10_376 },
    timeToVerdict: [{ server: 'healthy', wallMs: stats([4200, 4300, 4400]) }],
  });
  assert.deepEqual(
    fs.map((f) => [f.name, f.median, f.n]),
    [
      ['deltas end to end, wall', 10_376, 1],
      ['time to verdict, healthy', 4300, 3],
    ],
  );
});
