// close: the client's close reaches a real `ws` server with its code and reason; `by: server`
// passes only when the server really closes the socket within the deadline.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
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
    assert.deepEqual(
      r.steps.map((s) => s.status),
      ['passed', 'passed', 'failed'],
    );
    assert.equal(r.failedChecks[0]!.name, 'main: closes cleanly');
    assert.equal(r.failedChecks[0]!.actual, 'the server closed the connection (1001 "going away")');
    assert.deepEqual(r.failedChecks[0]!.failure, {
      kind: 'closed',
      conn: 'main',
      close: 'the server closed the connection (1001 "going away")',
    });
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# CLOSE'));
  });

  describe('by: server', { concurrency: true }, () => {
    // A passing close gets time to spare on a loaded machine; the failing one waits out a short deadline.
    const gate = (within: string) =>
      oneGate(`
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
      assert.equal(r.steps[2]!.checks[0]!.actual, 'the server closed the connection (1000 "bye")');
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

  describe('close codes and reasons, as the server sent them', { concurrency: true }, () => {
    const codeGate = (close: string) =>
      oneGate(`
      - connect: main
      - send: {type: subscribe, token: bad}
      - close: ${close}   # CODE
    `);

    test('a code the server did not send fails, naming the code and reason it did send', async (t) => {
      const fx = await wsServer(t, (ws) => ws.on('message', () => ws.close(4403, 'Forbidden')));
      const yaml = codeGate('{on: main, by: server, code: 4999}');
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
      assert.equal(r.failedChecks[0]!.name, 'main: close code');
      assert.equal(r.failedChecks[0]!.expected, 4999);
      assert.equal(r.failedChecks[0]!.actual, '4403 "Forbidden"');
      assert.deepEqual(r.failedChecks[0]!.failure, { kind: 'close', detail: 'code', expected: 4999, actual: 4403 });
      assert.equal(r.failedChecks[0]!.cause, 'closed with 4403 instead of 4999');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# CODE'));
      const events = readFileSync(path.join(r.evidenceDir, 'transcript.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.dir === 'event');
      assert.deepEqual(
        events.map((e) => [e.event, e.code, e.reason]),
        [
          ['open', undefined, undefined],
          ['close', 4403, 'Forbidden'],
        ],
        'the transcript records the open and the close',
      );
    });

    test('the right code and a reason matcher pass', async (t) => {
      const fx = await wsServer(t, (ws) => ws.on('message', () => ws.close(4403, 'Forbidden: bad token')));
      const r = await runGatesYaml(codeGate('{on: main, by: server, code: 4403, reason: {startsWith: Forbidden}}'), {
        url: fx.url,
      });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.deepEqual(
        r.steps[2]!.checks.map((c) => [c.name, c.passed]),
        [
          ['main: the server closes the connection', true],
          ['main: close code', true],
          ['main: close reason', true],
        ],
      );
    });

    test('a reason that does not match fails with the reason given', async (t) => {
      const fx = await wsServer(t, (ws) => ws.on('message', () => ws.close(1000, 'normal')));
      const r = await runGatesYaml(codeGate('{on: main, by: server, code: 1000, reason: "session over"}'), {
        url: fx.url,
      });
      assert.equal(r.result.status, 'failed');
      assert.deepEqual(
        r.failedChecks.map((c) => [c.name, c.actual]),
        [['main: close reason', 'normal']],
      );
    });

    test('a close met while expecting names its code and reason', async (t) => {
      const fx = await wsServer(t, (ws) => ws.on('message', () => ws.close(1011, 'internal error')));
      const yaml = oneGate(`
      - connect: main
      - send: {type: hello}
        expect: [{type: welcome}]
      - send: {type: again}
    `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
      assert.equal(
        r.failedChecks[0]!.actual,
        'the server closed the connection (1011 "internal error") before it arrived',
      );
      assert.equal(r.steps[2]!.status, 'skipped', 'the next send on the closed connection is not run again');
      assert.match(
        r.steps[2]!.note ?? '',
        /connection main is closed \(the server closed the connection \(1011 "internal error"\)\)/,
      );
    });

    test('a connection limit closed right after the handshake fails the connect with 1008 and its reason', async (t) => {
      const fx = await wsServer(t, (ws) => ws.close(1008, 'Too many connections'));
      const yaml = oneGate(`
      - connect: main   # LIMIT
    `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.match(
        String(r.failedChecks[0]!.actual),
        /^CLOSED: the server closed the connection right after the WebSocket handshake: 1008 "Too many connections"$/,
      );
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# LIMIT'));
    });

    test('a close at the server between steps fails the next send, naming it', async (t) => {
      const fx = await wsServer(t, (ws) =>
        ws.on('message', (m) =>
          String(m).includes('first')
            ? (ws.send('{"type":"ok"}'), setImmediate(() => ws.close(4001, 'kicked')))
            : undefined,
        ),
      );
      const yaml = oneGate(`
      - connect: main
      - send: {type: first}
        expect: [{type: ok}]
      - close: {on: main, by: server, code: 4001}
      - send: {type: second}   # SECOND
    `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.deepEqual(
        r.steps.map((s) => s.status),
        ['passed', 'passed', 'passed', 'skipped'],
        JSON.stringify(r.failedChecks),
      );
      const yaml2 = oneGate(`
      - connect: main
      - send: {type: first}
        expect: [{type: ok}]
      - send: {type: second}   # SECOND
        expect: [{type: ok}]
    `);
      const r2 = await runGatesYaml(yaml2, { url: fx.url });
      assert.equal(r2.steps[2]!.status, 'failed', 'the first step to meet an unexpected close fails');
      assert.match(String(r2.failedChecks[0]!.actual), /4001 "kicked"/);
      // The close may reach wscat before the send (the send fails) or after it (the wait fails).
      assert.ok(
        [lineOf(yaml2, '# SECOND'), lineOf(yaml2, '# SECOND') + 1].includes(r2.failedChecks[0]!.loc.line),
        JSON.stringify(r2.failedChecks[0]),
      );
    });
  });
});
