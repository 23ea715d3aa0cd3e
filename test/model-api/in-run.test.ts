// The stand-in as a run holds it: each gate's model steps judge only that gate's newer requests, the
// environment a started backend gets, and the model's share of a time span.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelLog, type ModelRecord } from '../../lib/model-api/evidence-log.ts';
import { PLACEHOLDER_KEY, modelBusyMs, recordsFor, runModel } from '../../lib/model-api/in-run.ts';

/** A log holding records answered at the given wall times with the given durations. */
function logOf(spans: [endMs: number, totalMs: number][]): ModelLog {
  const log = new ModelLog();
  spans.forEach(([end, total], i) =>
    log.records.push({
      seq: i + 1,
      at: new Date(end).toISOString(),
      api: 'anthropic',
      path: '/v1/messages',
      status: 200,
      timing: { totalMs: total, pieces: 1, completed: true, ttftMs: 0, tokensPerSecond: 0 },
    } as ModelRecord),
  );
  return log;
}

test('a started backend gets both base URLs, MODEL_URL and placeholder keys', () => {
  const m = runModel('http://127.0.0.1:4010', new ModelLog());
  assert.deepEqual(m.env, {
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:4010',
    OPENAI_BASE_URL: 'http://127.0.0.1:4010/v1',
    MODEL_URL: 'http://127.0.0.1:4010',
    ANTHROPIC_API_KEY: PLACEHOLDER_KEY,
    OPENAI_API_KEY: PLACEHOLDER_KEY,
  });
});

test("a gate's model step judges the requests since the gate began, then only newer ones", () => {
  const t0 = Date.parse('2026-01-01T00:00:10Z');
  const log = logOf([
    [t0 - 5000, 10],
    [t0 + 1000, 10],
    [t0 + 2000, 10],
  ]);
  const m = runModel('http://x', log);
  assert.deepEqual(
    recordsFor(m, 'g', t0).map((r) => r.seq),
    [2, 3],
  );
  assert.deepEqual(
    recordsFor(m, 'g', t0).map((r) => r.seq),
    [],
  );
  log.records.push({ ...log.records[2]!, seq: 4 });
  assert.deepEqual(
    recordsFor(m, 'g', t0).map((r) => r.seq),
    [4],
  );
  assert.deepEqual(
    recordsFor(m, 'other', t0).map((r) => r.seq),
    [2, 3, 4],
    'another gate has its own window',
  );
});

test("the model's share of a span: requests clipped to it, overlaps counted once", () => {
  const log = logOf([
    [1000, 400],
    [1300, 500],
    [2500, 100],
    [5000, 1000],
  ]);
  // 600–1000 and 800–1300 overlap: 600–1300 = 700; 2400–2500 = 100; 4000–5000 clipped to 4000–4500 = 500.
  assert.equal(modelBusyMs(log, 0, 4500), 1300);
  assert.equal(modelBusyMs(log, 900, 1000), 100);
  assert.equal(modelBusyMs(log, 3000, 3500), 0);
});
