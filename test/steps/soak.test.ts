// soak: connections repeating exchanges for a number of rounds (or a time), each exchange judged as an
// ordinary step; with `memory`, the started backend's RSS is sampled and its growth from a baseline
// after warm-up is checked. The leak is the reference server's `leak` fault in a real process.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { freePort, jsonReplies, lineOf, oneGate, wsServer } from '../helpers/servers.ts';
import { BIN } from '../helpers/cli.ts';

/** A real HTTP server on 127.0.0.1 that answers 200 `{"rss": 1000000}` and keeps each raw request path. */
async function pathRecorder(t: TestContext): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"rss": 1000000}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, paths };
}

describe('soak', { concurrency: true }, () => {
  test('memory.http percent-encodes a value, as an http step does: the server sees one path segment', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'ping' ? [{ type: 'pong' }] : [])),
    );
    const rec = await pathRecorder(t);
    const yaml = oneGate(
      `
      - soak:
          rounds: 6
          steps:
            - send: {type: ping}
              expect: [{type: pong}]
        memory: {http: "http://127.0.0.1:${rec.port}/metrics/\${seg}", field: rss, maxGrowth: 20%, warmup: 1, every: 10ms}
    `,
      `vars: {seg: "x/../../admin?evil=1#f"}\n`,
    );
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.ok(rec.paths.length > 0, 'the memory URL was asked');
    assert.deepEqual([...new Set(rec.paths)], ['/metrics/x%2F..%2F..%2Fadmin%3Fevil%3D1%23f']);
  });

  test('two connections × 20 rounds of a ping pass, every exchange counted', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'ping' ? [{ type: 'pong' }] : [])),
    );
    const r = await runGatesYaml(
      oneGate(`
      - soak:
          connections: 2
          rounds: 20
          steps:
            - send: {type: ping}
              expect: [{type: pong}]
    `),
      { url: fx.url },
    );
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.equal(r.steps[0]!.label, 'soak 2 connections × 20 rounds');
    assert.deepEqual(r.steps[0]!.observations, { rounds: 20, exchanges: 40 });
    assert.equal(r.steps[0]!.checks[0]!.actual, '40 of 40');
    assert.deepEqual(
      r.steps[0]!.checks.slice(1).map((c) => [c.name, c.passed]),
      [['every connection lasts the soak (20 rounds)', true]],
    );
  });

  test('a server that drops the connection early fails the soak: its length is checked, not only the exchanges run', async (t) => {
    const fx = await wsServer(t, (ws) => {
      ws.once('message', () => {
        ws.send(JSON.stringify({ type: 'pong' }));
        ws.close(1001, 'going away');
      });
    });
    const yaml = oneGate(`
      - soak:
          rounds: 5   # ROUNDS
          steps:
            - send: {type: ping}
              expect: [{type: pong}]
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    const lasts = r.steps[0]!.checks.find((c) => c.name === 'every connection lasts the soak (5 rounds)');
    assert.ok(lasts, JSON.stringify(r.steps[0]!.checks));
    assert.equal(lasts.passed, false);
    assert.match(String(lasts.actual), /^soak#1 was closed after [12] rounds? \(close 1001\)$/);
    assert.equal(lasts.loc.line, lineOf(yaml, '# ROUNDS'));
  });

  test('a server that stops answering fails, naming how many exchanges failed and the first', async (t) => {
    const fx = await wsServer(t, (ws) => {
      let n = 0;
      ws.on('message', () => (++n <= 5 ? ws.send(JSON.stringify({ type: 'pong' })) : undefined));
    });
    const yaml = oneGate(`
      - soak:
          rounds: 8
          steps:
            - send: {type: ping}
              expect: [{type: pong}]   # PONG
              within: 300ms
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.match(
      String(r.failedChecks[0]!.actual),
      /^3 of 8 failed; first: soak#1: pong: nothing matching within 300 ms/,
    );
  });

  describe('memory of a started backend', { concurrency: true }, () => {
    const gate = (port: number, fault: string) =>
      oneGate(`
      - start: "node ${BIN} serve --no-token --host 127.0.0.1 --port ${port} --root \${PROJECT}${fault ? ` --fault ${fault}` : ''}"
        name: backend
        ready: {port: ${port}}
      - soak:
          rounds: 60
          steps:
            - send: {type: ping, pad: "${'x'.repeat(2000)}"}
              expect: [{type: pong}]
        memory: {of: backend, maxGrowth: 20%, warmup: 5, every: 200ms}   # MEMORY
    `);

    test('a healthy backend stays within 20% growth', async () => {
      const port = await freePort();
      const r = await runGatesYaml(gate(port, ''), { url: `ws://127.0.0.1:${port}/ws` });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      const mem = r.steps[1]!.checks.find((c) => c.name.startsWith('memory of backend'))!;
      assert.match(String(mem.actual), /MB after warm-up → .* MB at the end/);
    });

    test('the leak fault (1 MB kept per message) fails the growth check', async () => {
      const port = await freePort();
      const yaml = gate(port, 'leak');
      const r = await runGatesYaml(yaml, { url: `ws://127.0.0.1:${port}/ws` });
      assert.equal(r.result.status, 'failed');
      assert.deepEqual(
        r.failedChecks.map((c) => c.name),
        ['memory of backend grows at most 20%'],
      );
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# MEMORY'));
      const growth = Number(/\(\+([\d.]+)%\)/.exec(String(r.failedChecks[0]!.actual))![1]);
      assert.ok(growth > 20, String(r.failedChecks[0]!.actual));
    });
  });
});
