// A large frame arrives from wscat in 64 KB pipe chunks. The stream parser used to re-copy the whole
// frame so far on every chunk (quadratic: 10 MB took ~2.3 s of CPU, 100 MB minutes); it must be
// linear, and exact, for a JSON frame and for a raw line alike.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WscatStreamParser, type StreamItem } from '../../lib/wscat/stream.ts';

function parseInChunks(text: string, chunk = 65536): { items: StreamItem[]; ms: number } {
  const items: StreamItem[] = [];
  const p = new WscatStreamParser((it) => items.push(it));
  // CPU time of this process, not wall time: other processes on a shared machine do not count.
  const t0 = process.cpuUsage();
  for (let i = 0; i < text.length; i += chunk) p.push(text.slice(i, i + chunk));
  const used = process.cpuUsage(t0);
  return { items, ms: (used.user + used.system) / 1000 };
}

const stream = (mb: number) => {
  const n = mb * 1024 * 1024;
  return { n, text: `${JSON.stringify({ type: 'big', data: 'x'.repeat(n) })}\n${'y'.repeat(n)}\n{"type":"after"}\n` };
};

describe('large frames in the wscat stream parser', () => {
  test('a 16 MB JSON frame and a 16 MB raw line come out whole, then the next frame', () => {
    const { n, text } = stream(16);
    const { items } = parseInChunks(text);
    assert.equal(items.length, 3);
    const [big, raw, next] = items as Extract<StreamItem, { kind: 'frame' }>[];
    assert.equal(big!.isJson, true);
    assert.equal((big!.json as { data: string }).data.length, n);
    assert.equal(raw!.isJson, false);
    assert.equal(raw!.text.length, n);
    assert.deepEqual(next!.json, { type: 'after' });
  });

  test('time grows linearly with frame size (4× the size, well under 16× the time)', () => {
    // CPU time, best of two runs each, so a busy machine's noise does not decide the ratio.
    const best = (mb: number) => Math.min(parseInChunks(stream(mb).text).ms, parseInChunks(stream(mb).text).ms);
    const small = best(4);
    const large = best(16);
    process.stdout.write(`# parser: 2×4 MB in ${Math.round(small)} ms CPU, 2×16 MB in ${Math.round(large)} ms CPU\n`);
    assert.ok(
      large < small * 9 + 200,
      `4 MB frames: ${Math.round(small)} ms, 16 MB frames: ${Math.round(large)} ms (quadratic growth)`,
    );
  });
});
