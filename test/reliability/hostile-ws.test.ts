// Hostile or broken WebSocket servers, driven through the real CLI with a small gates file: each
// ends in a clear failed check within its deadline (exit 1), never a hang, never a stack trace.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { makeTmp, writeGates, timedCli, assertNoStackTrace, wsServer, slack, type WsFixture } from './helpers.ts';
import { readResult } from '../helpers/cli.ts';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/**
 * connect (15 s: wscat is a node process and starts slowly on a busy 2-core machine; a healthy
 * handshake must not be what fails, and a server that answers costs nothing of that deadline) then
 * send hello and expect welcome (1 s).
 */
const gatesText = (connectWithin = '15s') => `version: 1
defaults:
  timeout: 1s
gates:
  - id: hostile
    title: a server that misbehaves
    steps:
      - connect: main
        within: ${connectWithin}
      - send: {type: hello}
        expect: [{type: welcome}]
        within: 1s
`;
// The failing step ends within its own deadline plus this (scaled by machine load).
const STEP_SLACK_MS = 1500;
// Node + tsx start-up of the CLI itself while other test files run; a hang would blow far past this.
const SLACK_MS = 5000;

async function runAgainst(
  url: string,
  connectWithin?: string,
): Promise<{ out: string; wallMs: number; code: number | null; failed: string[]; stepMs: Record<string, number> }> {
  const dir = makeTmp(cleanups as (() => void)[]);
  const gates = writeGates(dir, gatesText(connectWithin));
  const outDir = path.join(dir, 'ev');
  const r = await timedCli([url, '--gates', gates, '--out', outDir], { timeoutMs: 90_000 });
  const out = r.stdout + r.stderr;
  assert.equal(r.timedOut, false, `the CLI hung:\n${out}`);
  assertNoStackTrace(out);
  // The evidence says the same as the console.
  const result = readResult(outDir);
  const failed = result.gates.flatMap((g) =>
    g.steps.flatMap((s) => s.checks.filter((c) => !c.passed).map((c) => `${s.label}: ${c.name}: ${String(c.actual)}`)),
  );
  const stepMs = Object.fromEntries(result.gates.flatMap((g) => g.steps.map((s) => [s.label, s.ms])));
  return { out, wallMs: r.wallMs, code: r.exitCode, failed, stepMs };
}

function assertClearFailure(res: Awaited<ReturnType<typeof runAgainst>>, step: RegExp, text: RegExp): void {
  assert.equal(res.code, 1, res.out);
  // Bounded by what the steps really waited (each within its deadline, checked per test) plus start-up.
  const stepsMs = Object.values(res.stepMs).reduce((a, b) => a + b, 0);
  assert.ok(res.wallMs < stepsMs + slack(SLACK_MS), `took ${res.wallMs} ms, its steps ${stepsMs} ms:\n${res.out}`);
  assert.ok((res.stepMs['connect main'] ?? 0) < 15_000 + slack(STEP_SLACK_MS), 'connect ended within its deadline');
  assert.match(res.out, step, res.out);
  assert.match(res.out, text, res.out);
  assert.match(res.out, /^FAIL {2}1 gates: 0 passed, 1 failed/m, res.out);
  assert.match(res.out, /first failure: gate hostile, step "[^"]+" at .*gates\.yaml:\d+:\d+/, res.out);
  assert.ok(res.failed.length >= 1, 'result.json names the failed check');
}

async function ws(onConn: Parameters<typeof wsServer>[0]): Promise<WsFixture> {
  const fx = await wsServer(onConn);
  cleanups.push(() => fx.close());
  return fx;
}

describe('hostile WebSocket servers through the real CLI', { concurrency: true }, () => {
  test('TCP accepted, then silence (no handshake answer): the connect check fails at its deadline', async () => {
    const sockets: net.Socket[] = [];
    const srv = net.createServer((s) => sockets.push(s)); // reads nothing, answers nothing
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    cleanups.push(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), srv.close(() => r()))));
    const res = await runAgainst(`ws://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, '1s');
    assertClearFailure(res, /✗ connect main/, /the socket did not open within 1000 ms/);
    assert.ok(
      res.stepMs['connect main']! < 1000 + slack(STEP_SLACK_MS),
      `the connect step ran ${res.stepMs['connect main']} ms for its 1 s deadline`,
    );
  });

  test('handshake completed, then silence: the expect check fails at its deadline naming what was awaited', async () => {
    const fx = await ws(() => undefined);
    const res = await runAgainst(fx.url);
    assertClearFailure(res, /✗ send hello/, /welcome[\s\S]*nothing matching within 1000 ms/);
    const ms = res.stepMs['send hello']!;
    assert.ok(ms >= 990 && ms < 1000 + slack(STEP_SLACK_MS), `the expect step waited ${ms} ms for a 1 s deadline`);
    assert.deepEqual(fx.received, ['{"type":"hello"}'], 'the hello really reached the server');
  });

  test('the server closes right after the handshake: a failed check that says the connection closed', async () => {
    const fx = await ws((s) => s.close(1000, 'go away'));
    const res = await runAgainst(fx.url);
    // The close usually beats the ping probe (then the connect step fails), but may follow it.
    assertClearFailure(
      res,
      /✗ (connect main|send hello)/,
      /the server closed the connection (right after the WebSocket handshake|before it arrived)/,
    );
    assert.doesNotMatch(
      res.out,
      /before the socket opened/,
      'the handshake did complete: do not send people looking for a handshake problem',
    );
    assert.ok(fx.upgrades.length >= 1);
  });

  test('close 1011 mid-stream: the missing message is reported as lost to a server close', async () => {
    const fx = await ws((s) => {
      s.on('message', () => {
        s.send(JSON.stringify({ type: 'progress', n: 1 }));
        s.send(JSON.stringify({ type: 'progress', n: 2 }));
        s.close(1011, 'server crashed');
      });
    });
    const res = await runAgainst(fx.url);
    assertClearFailure(
      res,
      /✗ send hello/,
      /the server closed the connection \(1011 "server crashed"\) before it arrived/,
    );
    // The last messages before the close are shown, so a person sees where the stream stopped.
    assert.match(res.out, /main #1: \{"type":"progress","n":2\}/, res.out);
  });

  test('non-JSON text frames: the check says the frame is not JSON and shows it', async () => {
    const fx = await ws((s) => s.on('message', () => s.send('<html>definitely not json</html>')));
    const res = await runAgainst(fx.url);
    assertClearFailure(
      res,
      /✗ send hello/,
      /every frame is JSON[\s\S]*expected: a JSON text frame[\s\S]*actual: +<html>definitely not json<\/html>/,
    );
  });

  test('binary frames: a clear failed check, not a crash', async () => {
    const fx = await ws((s) =>
      s.on('message', () => s.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]), { binary: true })),
    );
    const res = await runAgainst(fx.url);
    // wscat prints a binary frame like a text one, so the harness sees bytes that are not JSON.
    assertClearFailure(res, /✗ send hello/, /every frame is JSON[\s\S]*expected: a JSON text frame/);
  });
});
