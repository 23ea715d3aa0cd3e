// lib/os/heap-shape.ts: under a stream of short-lived allocations with a window of survivors (a
// frame stream through an inbox), the young generation stops growing at its cap, and the same load
// without it grows past the cap (so the check can fail). Each case runs in a fresh node process: the
// flags are process-wide and V8 sizes its heap once.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { YOUNG_CAP_BYTES } from '../lib/os/heap-shape.ts';

const MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../lib/os/heap-shape.ts');

// ~1 KB of garbage per "frame", 20,000 frames kept in a window: the shape of 1,000,000 deltas.
// Prints the largest new space and old space seen.
const churn = (shaped: boolean) => `
import v8 from 'node:v8';
${shaped ? `import { shapeHeap } from ${JSON.stringify(MODULE)}; shapeHeap();` : ''}
const space = (name) => v8.getHeapSpaceStatistics().find((s) => s.space_name === name).space_size;
let window = [];
let largest = 0;
let oldLargest = 0;
for (let i = 0; i < 300000; i++) {
  const text = JSON.stringify({ type: 'content_delta', delta: 'x', i, pad: 'y'.repeat(900 + (i % 7)) });
  const frame = { seq: i, text: text.slice(0, 40), json: JSON.parse(text).type };
  window.push(frame);
  if (window.length > 20000) window = window.slice(5000);
  if (i % 1000 === 0) {
    largest = Math.max(largest, space('new_space'));
    oldLargest = Math.max(oldLargest, space('old_space'));
    await new Promise((r) => setImmediate(r)); // lets the GC observer run, as the CLI's I/O turns do
  }
}
console.log(JSON.stringify({ largest, oldLargest }));
`;

interface Churned {
  /** The largest new space and old space seen (bytes). */
  largest: number;
  oldLargest: number;
}

async function run(shaped: boolean): Promise<Churned> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', churn(shaped)],
    { timeout: 120_000 },
  );
  return JSON.parse(stdout) as Churned;
}

// A stream, a quiet spell until V8's memory reducer shrinks the new space (it starts ~8 s after the
// allocation rate falls), then a second stream: the new space must grow back to the cap, not stay small.
const twoStreams = `
import v8 from 'node:v8';
import { shapeHeap } from ${JSON.stringify(MODULE)};
shapeHeap();
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
async function stream() {
  let window = [];
  let largest = 0;
  for (let i = 0; i < 150000; i++) {
    const text = JSON.stringify({ type: 'content_delta', i, pad: 'y'.repeat(900) });
    window.push({ seq: i, text: text.slice(0, 40) });
    if (window.length > 20000) window = window.slice(5000);
    if (i % 1000 === 0) {
      largest = Math.max(largest, newSpace());
      await new Promise((r) => setImmediate(r));
    }
  }
  return largest;
}
const first = await stream();
const quietUntil = Date.now() + 40000;
while (newSpace() >= first && Date.now() < quietUntil) {
  for (let j = 0; j < 2000; j++) JSON.stringify({ j });
  await new Promise((r) => setTimeout(r, 200));
}
const shrunk = newSpace();
console.log(JSON.stringify({ first, shrunk, second: await stream() }));
`;

describe('lib/os/heap-shape', () => {
  let shaped: Churned;
  let unshaped: Churned;
  before(async () => {
    [shaped, unshaped] = await Promise.all([run(true), run(false)]);
  });

  test('the young generation stops at its cap; without it the same stream grows it past the cap', () => {
    assert.ok(shaped.largest > 0, 'the new space was measured');
    assert.ok(
      shaped.largest <= YOUNG_CAP_BYTES,
      `new space reached ${shaped.largest} bytes, over the cap of ${YOUNG_CAP_BYTES}`,
    );
    assert.ok(
      unshaped.largest > YOUNG_CAP_BYTES,
      `unshaped, the new space reached only ${unshaped.largest} bytes: the check above could not fail`,
    );
  });

  test('after V8 shrinks the young generation in a quiet spell, the next stream grows it back to the cap', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', twoStreams],
      { timeout: 120_000 },
    );
    const { first, shrunk, second } = JSON.parse(stdout) as { first: number; shrunk: number; second: number };
    assert.equal(first, YOUNG_CAP_BYTES, 'the first stream grew it to the cap');
    assert.ok(
      shrunk < first,
      `the quiet spell shrank it (${shrunk} bytes), so the second stream shows whether growth is back`,
    );
    assert.equal(second, YOUNG_CAP_BYTES, 'the second stream grew it to the cap again');
  });

  test('dead promoted frames pile up in the old space far less', () => {
    assert.ok(
      shaped.oldLargest < unshaped.oldLargest * 0.75,
      `old space peaked at ${shaped.oldLargest} bytes shaped, ${unshaped.oldLargest} unshaped`,
    );
  });
});
