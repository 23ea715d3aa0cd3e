// send: one text frame through the real wscat, byte-exact at a real `ws` server; attached
// expectations, budgets, and a send on a connection the server has closed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Reporter } from '../../lib/reporters/types.ts';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { jsonReplies, lineOf, oneGate, WAIT_FOR_FILE, wsServer } from '../helpers/servers.ts';

describe('send', { concurrency: true }, () => {
  test('JSON and raw sends reach the server byte-exact', async (t) => {
    const fx = await wsServer(t, () => undefined);
    const yaml = oneGate(`
      - connect: main
      - send: {type: hello, n: 1, f: 1.5, ok: false, z: null, s: "a  b", u: "héllo ✓ 😀", nested: {list: [1, "two", {three: 3}]}}
      - send: "{this is not json"
      - send: '  spaced raw line with "quotes" and \\\\ backslash  '
      - send: {type: who, project: "\${PROJECT}", run: "\${RUN_ID}"}
      - send: 'raw \${RUN_ID}'
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const got = await fx.received.waitFor((x) => x.length === 5, 'five frames');
    assert.equal(
      got[0]!.text,
      '{"type":"hello","n":1,"f":1.5,"ok":false,"z":null,"s":"a  b","u":"héllo ✓ 😀","nested":{"list":[1,"two",{"three":3}]}}',
    );
    assert.equal(got[1]!.text, '{this is not json');
    assert.equal(got[2]!.text, '  spaced raw line with "quotes" and \\\\ backslash  ');
    assert.equal(got[3]!.text, JSON.stringify({ type: 'who', project: r.project, run: 'test' }));
    assert.deepEqual(
      r.steps.slice(1, 5).map((s) => s.label.slice(0, 12)),
      ['send hello', 'send raw "{t', 'send raw "  ', 'send who'],
    );
    assert.equal(r.steps[5]!.label, 'send raw "raw test"', 'a raw send is labelled with what it sent');
  });

  test('distinct across named connections: two chargers given one session fail, each its own passes; a connection that captured nothing fails', async (t) => {
    const server = async (shared: boolean) => {
      let n = 0;
      return wsServer(
        t,
        jsonReplies(() => [{ type: 'welcome', sid: shared ? 'S1' : `S${++n}` }]),
      );
    };
    const yaml = oneGate(`
      - connect: cp1
      - connect: cp2
      - connect: {name: fleet, count: 2}
      - send: {type: hello}
        on: cp1
        expect: [{type: welcome, capture: {sid: sid}}]
      - send: {type: hello}
        on: cp2
        expect: [{type: welcome, capture: {sid: sid}}]
        distinct: [{var: sid, across: [cp1, cp2]}]   # DISTINCT
      - send: {type: hello}
        on: fleet
        expect: [{type: welcome, capture: {sid: sid}}]
        distinct: [sid, {var: sid, across: [cp1, cp2, fleet]}]   # FLEET
    `);
    const good = await runGatesYaml(yaml, { url: (await server(false)).url });
    assert.equal(good.result.status, 'passed', JSON.stringify(good.failedChecks));
    assert.deepEqual(good.steps[4]!.checks.at(-1)!.name, 'sid differs across cp1, cp2');
    assert.equal(good.steps[4]!.checks.at(-1)!.actual, 'cp1: "S1", cp2: "S2"');
    const bad = await runGatesYaml(yaml, { url: (await server(true)).url });
    assert.deepEqual(
      bad.failedChecks.map((c) => [c.name, c.actual, c.loc.line]),
      [
        ['sid differs across cp1, cp2', 'cp1 and cp2 both hold "S1"', lineOf(yaml, '# DISTINCT')],
        ['sid differs on each of 2 connections', '1 distinct', lineOf(yaml, '# FLEET')],
        [
          'sid differs across cp1, cp2, fleet',
          'cp1 and cp2 both hold "S1"; cp1 and fleet#1 both hold "S1"; cp1 and fleet#2 both hold "S1"',
          lineOf(yaml, '# FLEET'),
        ],
      ],
    );
    // cp2 never captured sid here: the gate's own sid (cp1's) must not stand in for it.
    const none = await runGatesYaml(
      yaml.replace(
        'on: cp2\n        expect: [{type: welcome, capture: {sid: sid}}]',
        'on: cp2\n        expect: [{type: welcome}]',
      ),
      { url: (await server(false)).url },
    );
    assert.deepEqual(
      none.failedChecks.map((c) => c.actual),
      ['not captured on cp2 (captured no sid)', 'not captured on cp2 (captured no sid)'],
    );
  });

  test('an attached expect is awaited after the send and passes on the reply', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'ping' ? [{ type: 'pong', echo: m.id }] : [])),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: ping, id: 0}
        expect: [{type: pong, match: {echo: {equals: 0}}}]
        within: 2s
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.equal(r.steps[1]!.timings?.length, 1);
  });

  test('fails when the reply is wrong, at the matcher line', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'ping' ? [{ type: 'pong', echo: 1 }] : [])),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: ping, id: 0}
        expect:
          - type: pong
            match:
              echo: 0   # ECHO
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.steps[1]!.status, 'failed');
    assert.equal(r.failedChecks.length, 1);
    assert.equal(r.failedChecks[0]!.name, 'main: pong.echo');
    assert.equal(r.failedChecks[0]!.actual, 1);
    assert.equal(r.failedChecks[0]!.reason, 'expected 0, got 1');
    assert.deepEqual(r.failedChecks[0]!.failure, { kind: 'field', field: 'pong.echo', expected: 0 });
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# ECHO'));
  });

  test('a raw malformed line gets its error reply', async (t) => {
    const fx = await wsServer(t, (ws) =>
      ws.on('message', (d) => {
        try {
          JSON.parse(d.toString());
          ws.send(JSON.stringify({ type: 'ok' }));
        } catch {
          ws.send(JSON.stringify({ type: 'error', code: 'INVALID_JSON' }));
        }
      }),
    );
    const yaml = oneGate(`
      - connect: main
      - send: "{this is not json"
        expect: [{type: error, match: {code: INVALID_JSON}}]
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
  });

  describe('budget', { concurrency: true }, () => {
    // The server answers 200 ms after the request: a timer in the server under test.
    const slow = jsonReplies(() => []);
    const slowServer = (ws: import('ws').WebSocket) => {
      slow(ws);
      ws.on('message', () => setTimeout(() => ws.send(JSON.stringify({ type: 'pong' })), 200));
    };

    test('over a hard budget fails the latency check', async (t) => {
      const fx = await wsServer(t, slowServer);
      const yaml = oneGate(`
        - connect: main
        - send: {type: ping}
          expect: [{type: pong}]
          budget: 50ms   # BUDGET
      `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1);
      assert.equal(r.failedChecks[0]!.name, 'latency within 50 ms');
      assert.ok(Number.parseInt(String(r.failedChecks[0]!.actual), 10) >= 190, String(r.failedChecks[0]!.actual));
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# BUDGET'));
    });

    test("the harness's own stall is not the server's latency: timed at wscat's socket, a fast reply meets its budget", async (t) => {
      // The server answers at once (ws writes it to the socket before send returns), then holds this
      // process (the harness runs in it) for 1.5 s before the harness can read the reply: the harness's
      // clock says 1.5 s, wscat's socket says a few ms (less than the budget even on a loaded machine).
      const fx = await wsServer(t, (ws) =>
        ws.on('message', () => {
          ws.send(JSON.stringify({ type: 'pong' }));
          const until = performance.now() + 1500;
          while (performance.now() < until) {
            // busy: the harness cannot run
          }
        }),
      );
      const yaml = oneGate(`
        - connect: main
        - send: {type: ping}
          expect: [{type: pong}]
          budget: 1s
      `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      const timing = r.steps[1]!.timings![0]!;
      assert.ok(timing.ms < 1000, `timed at the socket: ${timing.ms} ms`);
      assert.ok(r.steps[1]!.ms >= 1450, `the step itself waited out the stall (${r.steps[1]!.ms} ms)`);
    });

    test('over a soft budget passes with a warning', async (t) => {
      const fx = await wsServer(t, slowServer);
      const yaml = oneGate(`
        - connect: main
        - send: {type: ping}
          expect: [{type: pong}]
          budget: {max: 50ms, soft: true}
      `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      const w = r.steps[1]!.checks.find((c) => c.warning)!;
      assert.equal(w.name, 'latency within 50 ms (soft)');
      assert.equal(r.steps[1]!.timings![0]!.passed, false);
    });
  });

  test('a send on a connection whose close a step already checked is skipped, naming the close', async (t) => {
    const fx = await wsServer(t, (ws) =>
      ws.on('message', (d) => (JSON.parse(d.toString()).type === 'bye' ? ws.close(1000, 'bye') : undefined)),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: bye}
      - close: {on: main, by: server}
        within: 3s
      - send: {type: after}   # AFTER
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.deepEqual(
      r.steps.map((s) => s.status),
      ['passed', 'passed', 'passed', 'skipped'],
    );
    assert.equal(
      r.steps[3]!.note,
      'not run: connection main is closed (the server closed the connection (1000 "bye")), as an earlier step reported',
    );
    assert.equal(r.steps[3]!.loc.line, lineOf(yaml, '# AFTER'));
    assert.equal(fx.received.items.length, 1, 'nothing after bye reached the server');
  });
  test('the expectations of a send are met by what arrives after it, not by leftovers of an earlier exchange', async (t) => {
    // "first" gets a reply and a done; "second" gets its done only after 200 ms. A send that took the
    // leftover done of the first exchange would fail its match n: 2 before the second answer came.
    // The leftover must have reached the harness before "second" is sent, or the case proves nothing
    // (a frame still in flight is indistinguishable from an answer): a reporter sees it arrive and
    // touches a file, and a run step between the sends waits for that file.
    const fx = await wsServer(t, (ws) =>
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString('utf8')) as { type: string };
        if (msg.type === 'first') {
          ws.send(JSON.stringify({ type: 'reply', n: 1 }));
          ws.send(JSON.stringify({ type: 'done', n: 1 }));
        } else setTimeout(() => ws.send(JSON.stringify({ type: 'done', n: 2 })), 200);
      }),
    );
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wsgate-leftover-'));
    t.after(() => fs.rm(dir, { recursive: true, force: true }));
    const marker = path.join(dir, 'leftover-arrived');
    const sawLeftover: Reporter = {
      onFrame: (_conn, direction, text) => {
        if (direction === 'in' && text.includes('"done"') && text.includes('"n":1')) writeFileSync(marker, '');
      },
    };
    const yaml = oneGate(`
      - connect: main
      - send: {type: first}
        expect: [{type: reply}]
      - run: [node, "${WAIT_FOR_FILE}", "\${MARKER}"]
      - send: {type: second}
        expect: [{type: done, match: {n: 2}}]
    `);
    const r = await runGatesYaml(yaml, { url: fx.url, vars: { MARKER: marker }, reporters: [sawLeftover] });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.ok(r.steps[3]!.ms >= 150, `the second send waited for its own reply (${r.steps[3]!.ms} ms)`);
  });

  test('a structured send of an array, a number or a boolean goes as one line of JSON', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (Array.isArray(m) && m[0] === 2 ? [[3, m[1], { ok: true }]] : [])),
    );
    const yaml = oneGate(`
      - connect: main
      - send: [2, "c1", BootNotification, {vendor: "\${RUN_ID}"}]
        expect: [{where: {"[0]": 3, "[1]": c1}, match: {"[2].ok": true}}]
      - send: 42
      - send: false
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const got = await fx.received.waitFor((x) => x.length === 3, 'three frames');
    assert.deepEqual(
      got.map((f) => f.text),
      ['[2,"c1","BootNotification",{"vendor":"test"}]', '42', 'false'],
    );
    assert.equal(
      r.steps[1]!.label,
      'send [2,"c1","BootNotification",{"vendor":"test"}]',
      'labelled with the variables filled in',
    );
  });

  test('a variable inside a JSON string of a raw line is JSON-escaped; one that breaks the JSON fails the step, sending nothing', async (t) => {
    const fx = await wsServer(t, () => undefined);
    const yaml = oneGate(`
      - connect: main
      - send: '[2, "\${ID}", "Heartbeat", {"note": "id \${ID} ok", "n": \${N}}]'
      - send: 'say "\${ID}" as text'
      - send: '{"n": \${ID}}'
    `);
    const hostile = 'q"uo\\te';
    const r = await runGatesYaml(yaml, { url: fx.url, vars: { ID: hostile, N: '7' } });
    assert.equal(r.result.status, 'failed');
    const got = await fx.received.waitFor((x) => x.length === 2, 'two frames');
    assert.deepEqual(JSON.parse(got[0]!.text), [2, hostile, 'Heartbeat', { note: `id ${hostile} ok`, n: 7 }]);
    assert.equal(got[1]!.text, `say "${hostile}" as text`, 'a line that is not JSON is substituted as it was');
    assert.deepEqual(
      r.failedChecks.map((c) => [c.name, c.actual]),
      [['main: raw line is the JSON it is written as', `{"n": ${hostile}}`]],
    );
    assert.equal(r.steps[3]!.status, 'failed');
  });
});
