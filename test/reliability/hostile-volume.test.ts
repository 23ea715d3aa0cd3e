// Volume from a hostile server, through the real CLI: a single 10 MB frame and a flood of 100k
// messages. The harness must neither hang, crash nor dump megabytes on the console.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  makeTmp,
  writeGates,
  timedCli,
  spawnCli,
  assertNoStackTrace,
  wsServer,
  slack,
  type WsFixture,
} from './helpers.ts';
import { readResult } from '../helpers/cli.ts';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const TEN_MB = 10 * 1024 * 1024;
const FLOOD = 100_000;

const gatesText = (expect: string, within: string) => `version: 1
gates:
  - id: volume
    title: a server that sends a lot
    steps:
      - connect: main
        within: 15s
      - send: {type: hello}
        expect: ${expect}
        within: ${within}
`;

async function ws(onHello: (send: (text: string) => void) => void): Promise<WsFixture> {
  const fx = await wsServer((s) => s.on('message', () => onHello((t) => s.send(t))));
  cleanups.push(() => fx.close());
  return fx;
}

async function run(url: string, gates: string) {
  const dir = makeTmp(cleanups as (() => void)[]);
  const outDir = path.join(dir, 'ev');
  const r = await timedCli([url, '--gates', writeGates(dir, gates), '--out', outDir], { timeoutMs: 120_000 });
  const out = r.stdout + r.stderr;
  assert.equal(r.timedOut, false, `the CLI hung:\n${out.slice(0, 4000)}`);
  assertNoStackTrace(out);
  return { code: r.exitCode, out, wallMs: r.wallMs, outDir };
}

const bigFrame = (type: string) => JSON.stringify({ type, data: 'x'.repeat(TEN_MB) });

// One at a time: the flood keeps both cores busy for ~20 s, and the first test times an 8 s deadline
// (in CI, run beside the flood, its connect once failed and the run never reached that deadline).
describe('volume through the real CLI', { concurrency: false }, () => {
  test('a 10 MB frame instead of the expected message: a clear timeout, and the console is not flooded', async () => {
    const fx = await ws((send) => send(bigFrame('big')));
    const r = await run(fx.url, gatesText('[{type: welcome}]', '8s'));
    assert.equal(r.code, 1, r.out.slice(0, 4000));
    const step = readResult(r.outDir).gates[0]!.steps[1]!;
    assert.ok(
      step.ms >= 7990 && step.ms < 8000 + slack(1500),
      `the expect step took ${step.ms} ms for its 8 s deadline:\n${r.out.slice(0, 3000)}`,
    );
    assert.ok(r.wallMs < readResult(r.outDir).ms + slack(6000), `took ${r.wallMs} ms`);
    assert.match(r.out, /✗ main: welcome[\s\S]*actual: +nothing matching within 8000 ms/);
    assert.ok(r.out.length < 64 * 1024, `the console got ${r.out.length} characters`);
    // Reports keep at most 2000 characters of a frame; when the frame arrived before the deadline (on a
    // busy machine it may not have), the console shows it cut short and the transcript keeps it whole.
    const shown = step.lastMessages ?? [];
    for (const m of shown) assert.ok(m.text.length <= 2001, `a last message of ${m.text.length} characters`);
    if (shown.length) {
      assert.match(r.out, /main #0: \{"type":"big","data":"x{100,}…/, 'the big frame is shown, cut short');
      assert.ok(statSync(path.join(r.outDir, 'transcript.jsonl')).size > TEN_MB);
    }
  });

  test('a 10 MB frame is received whole: its length is checked exactly', async () => {
    const fx = await ws((send) => {
      send(bigFrame('big'));
      send(JSON.stringify({ type: 'welcome' }));
    });
    // Generous: ten megabytes through wscat's pipe while other test files share the two cores.
    const r = await run(fx.url, gatesText(`[{type: big, match: {data: {length: ${TEN_MB}}}}, {type: welcome}]`, '40s'));
    assert.equal(r.code, 0, r.out.slice(0, 4000));
    assert.ok(r.out.length < 64 * 1024, `the console got ${r.out.length} characters`);
  });

  test(`a flood of ${FLOOD} messages: the message at its end is still found`, async () => {
    const fx = await ws((send) => {
      for (let i = 0; i < FLOOD; i++) send(JSON.stringify({ type: 'tick', n: i }));
      send(JSON.stringify({ type: 'end', count: FLOOD }));
    });
    const r = await run(fx.url, gatesText(`[{type: end, match: {count: ${FLOOD}}}]`, '30s'));
    const result = readResult(r.outDir);
    const step = result.gates[0]!.steps[1]!;
    // Recorded for the README/report: the flood's wall time through the CLI and the step's own time.
    console.log(`# flood of ${FLOOD}: CLI wall ${r.wallMs} ms, expect step ${step.ms} ms, exit ${r.code}`);
    if (r.code === 0) {
      assert.match(r.out, /✓ send hello/);
    } else {
      // The only acceptable failure is a clear timeout, never a crash.
      assert.equal(r.code, 1, r.out.slice(0, 4000));
      assert.match(r.out, /✗ main: end[\s\S]*nothing matching within 30000 ms/);
    }
    assert.ok(r.out.length < 64 * 1024, `the console got ${r.out.length} characters`);
  });

  test("1 MB frames flooding every connection (the pool's spares too): one budget for the run bounds the CLI, and the flood is named", async () => {
    const MB = 1024 * 1024;
    const frame = JSON.stringify({ type: 'flood', data: 'x'.repeat(MB) });
    // Every connection, spares included, is flooded from its first moment, with the socket's own
    // backpressure (one frame in flight at a time), until the harness stops reading it.
    const fx = await wsServer(async (s) => {
      for (let sent = 0; sent < 3000 && s.readyState === s.OPEN; sent++)
        await new Promise<void>((r) => s.send(frame, () => r()));
    });
    cleanups.push(() => fx.close());
    const dir = makeTmp(cleanups as (() => void)[]);
    const gates = `version: 1
gates:
  - id: flood
    title: a server that floods every connection
    steps:
      - connect: main
        within: 15s
      - connect: second
        within: 15s
      - send: {type: hello}
        expect: [{type: welcome}]
        within: 60s
`;
    const cli = spawnCli([fx.url, '--gates', writeGates(dir, gates), '--out', path.join(dir, 'ev')]);
    // VmHWM is the process's peak resident set so far: the last reading before it exits is its peak.
    let peakKb = 0;
    const hwm = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${cli.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 20);
    const timer = setTimeout(() => void cli.kill(), 110_000);
    const ended = await cli.exited;
    clearTimeout(timer);
    clearInterval(hwm);
    const out = cli.stdout() + cli.stderr();
    assert.equal(ended.code, 1, out.slice(0, 4000));
    assertNoStackTrace(out);
    assert.match(out, /more than \d+ MB of frames that no step has read yet \(one budget for the whole run/);
    // 128 MB of text held (a JSON frame counted twice) plus node and the modules (~70 MB) and the frames
    // in flight; per connection it was 256 MB each, and four connections took the CLI past 2 GB.
    assert.ok(peakKb > 0 && peakKb < 600 * 1024, `the CLI's peak RSS was ${Math.round(peakKb / 1024)} MB`);
    console.log(
      `# 1 MB-frame flood on every connection: CLI peak RSS ${Math.round(peakKb / 1024)} MB, wall ${ended.wallMs} ms`,
    );
  });
});
