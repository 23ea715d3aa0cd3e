// close: the client's close reaches a real `ws` server with its code and reason; `by: server`
// passes only when the server really closes the socket within the deadline.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { lineOf, oneGate, wsServer } from '../helpers/servers.ts';

describe('close', { concurrency: true }, () => {
  test('a client close reaches the server with its code and reason', async (t) => {
    const fx = await wsServer(t, () => undefined);
    const yaml = oneGate(`
      - connect: a
      - connect: b
      - close: {on: a, code: 4000, reason: done}
      - close: b
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const closes = await fx.closes.waitFor((c) => c.length === 2, 'both closes');
    const byConn = new Map(closes.map((c) => [c.conn, c]));
    assert.deepEqual(byConn.get(0), { conn: 0, code: 4000, reason: 'done' });
    assert.deepEqual(byConn.get(1), { conn: 1, code: 1000, reason: '' });
    assert.equal(r.steps[2]!.checks[0]!.actual, 'closed by the harness');
  });

  test('closing a connection the server already closed fails', async (t) => {
    const fx = await wsServer(t, (ws) => ws.on('message', () => ws.close(1001, 'going away')));
    const yaml = oneGate(`
      - connect: main
      # The optional reply never comes: the wait ends at the server's close, which is then known.
      - send: {type: bye}
        expect: [{type: ack, optional: true}]
      - close: main   # CLOSE
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.deepEqual(r.steps.map((s) => s.status), ['passed', 'passed', 'failed']);
    assert.equal(r.failedChecks[0]!.name, 'main: closes cleanly');
    assert.equal(r.failedChecks[0]!.actual, 'closed by the server');
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# CLOSE'));
  });

  describe('by: server', { concurrency: true }, () => {
    // A passing close gets time to spare on a loaded machine; the failing one waits out a short deadline.
    const gate = (within: string) => oneGate(`
      - connect: main
      - send: {type: logout}
      - close: {on: main, by: server}   # BY SERVER
        within: ${within}
    `);

    test('passes when the server closes (after a delay of its own)', async (t) => {
      const fx = await wsServer(t, (ws) => ws.on('message', () => setTimeout(() => ws.close(1000, 'bye'), 100)));
      const r = await runGatesYaml(gate('15s'), { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.equal(r.steps[2]!.label, 'expect the server to close main');
      assert.equal(r.steps[2]!.checks[0]!.actual, 'closed by the server');
    });

    test('fails when the server keeps the socket open', async (t) => {
      const fx = await wsServer(t, (ws) => ws.on('message', () => ws.send(JSON.stringify({ type: 'still here' }))));
      const yaml = gate('2s');
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1);
      assert.equal(r.failedChecks[0]!.name, 'main: the server closes the connection');
      assert.equal(r.failedChecks[0]!.actual, 'still open');
      assert.equal(r.failedChecks[0]!.expected, 'closed within 2000 ms');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# BY SERVER'));
      assert.ok(r.steps[2]!.ms >= 1950 && r.steps[2]!.ms < 10_000, `waited the deadline (${r.steps[2]!.ms} ms)`);
      assert.ok(r.steps[2]!.lastMessages?.some((f) => f.text.includes('still here')));
    });
  });
});
