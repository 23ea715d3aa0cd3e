// The inbox (lib/matching/expectations.ts) against real `ws` servers through real wscat: a frame is consumed only
// by the expectation that selects it, so two operations in flight on one connection are each judged on
// their own frames; unordered lists, forbid selectors, silence windows, collect's where/join, and the
// frames left at the end of a gate.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WebSocket } from 'ws';
import { runGatesYaml } from './helpers/run-gates.ts';
import { jsonReplies, lineOf, oneGate, wsServer } from './helpers/servers.ts';

const STREAM = 30;

/**
 * A server with two kinds of operation on one socket: `subscribe` streams {type: next, id, n} for
 * n = 1..30, one every 5 ms; `query` answers {type: next, id, data} 200 ms later, then {type: complete}.
 * `drop` leaves one n out of the stream.
 */
function streamingServer(drop?: number) {
  return (ws: WebSocket) =>
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; id: string };
      if (m.type === 'subscribe') {
        let n = 0;
        const tick = setInterval(() => {
          n++;
          if (n !== drop && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'next', id: m.id, n }));
          if (n >= STREAM) clearInterval(tick);
        }, 5);
        ws.once('close', () => clearInterval(tick));
      }
      if (m.type === 'query') {
        setTimeout(() => {
          ws.send(JSON.stringify({ type: 'next', id: m.id, data: 42 }));
          ws.send(JSON.stringify({ type: 'complete', id: m.id }));
        }, 200);
      }
    });
}

/** Every n of the stream, in order, as expectations: a missing one is named by its own n. */
const everyN = Array.from(
  { length: STREAM - 1 },
  (_, i) => `          - {type: next, where: {id: s1, n: ${i + 2}}}`,
).join('\n');

const interleaved = oneGate(`
  - connect: main
  - send: {type: subscribe, id: s1}
    expect: [{type: next, where: {id: s1, n: 1}}]
  - name: the query is answered while the stream runs
    send: {type: query, id: q1}
    expect:
      - {type: next, where: {id: q1}, match: {data: 42}}
      - {type: complete, where: {id: q1}}
  - name: every frame of the stream, in order
    expect:
${everyN}
`);

describe('two operations in flight on one connection', { concurrency: true }, () => {
  test('a correct server passes: the query step leaves the stream frames to the stream step', async (t) => {
    const fx = await wsServer(t, streamingServer());
    const r = await runGatesYaml(interleaved, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.equal(
      r.steps[3]!.checks.filter((c) => c.passed).length,
      STREAM - 1,
      'each stream frame met its own expectation',
    );
    assert.equal(r.result.gates[0]!.unconsumed, undefined, 'no frame was left over');
  });

  test('a server that drops one frame of the stream fails naming that frame, not another', async (t) => {
    const fx = await wsServer(t, streamingServer(17));
    const r = await runGatesYaml(interleaved, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.deepEqual(
      r.failedChecks.map((c) => c.name),
      ['main: next where id="s1", n=17'],
      JSON.stringify(r.failedChecks),
    );
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(interleaved, 'n: 17}'));
    assert.equal(r.steps[2]!.status, 'passed', 'the query step is not blamed');
  });
});

describe('ordered and unordered lists', { concurrency: true }, () => {
  const server = jsonReplies((m) => (m.type === 'both' ? [{ type: 'b' }, { type: 'a' }] : []));

  test('unordered: true accepts any arrival order', async (t) => {
    const fx = await wsServer(t, server);
    const r = await runGatesYaml(
      oneGate(`
      - connect: main
      - send: {type: both}
        expect: [{type: a}, {type: b}]
        unordered: true
    `),
      { url: fx.url },
    );
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
  });

  test('without it, the same frames fail as out of order, naming the arrival order', async (t) => {
    const fx = await wsServer(t, server);
    const yaml = oneGate(`
      - connect: main
      - send: {type: both}
        expect:
          - {type: a}   # A
          - {type: b}
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.deepEqual(
      r.failedChecks.map((c) => [c.name, c.loc.line]),
      [['main: a before b', lineOf(yaml, '# A')]],
    );
    assert.match(String(r.failedChecks[0]!.actual), /^arrived in this order: #0 b .*, #1 a /);
  });
});

describe('forbid selectors and silence', { concurrency: true }, () => {
  const errors = (code: string) =>
    jsonReplies((m) => (m.type === 'go' ? [{ type: 'error', code }, { type: 'done' }] : []));
  const forbidGate = oneGate(`
    - connect: main
    - send: {type: go}
      expect: [{type: done}]
      forbid: [{type: error, where: {code: FATAL}}]   # FORBID
  `);

  test('a forbid selector fails on the frame it selects', async (t) => {
    const fx = await wsServer(t, errors('FATAL'));
    const r = await runGatesYaml(forbidGate, { url: fx.url });
    assert.deepEqual(
      r.failedChecks.map((c) => c.name),
      ['main: no error where code="FATAL" while the step ran'],
    );
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(forbidGate, '# FORBID'));
  });

  test('and lets another frame of that kind through', async (t) => {
    const fx = await wsServer(t, errors('WARN'));
    const r = await runGatesYaml(forbidGate, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.equal(r.result.gates[0]!.unconsumed?.[0]?.count, 1, 'the WARN error is listed as unconsumed');
    assert.match(r.result.gates[0]!.unconsumed![0]!.frames[0]!.text, /WARN/);
  });

  // The window is long enough that a reply sent at once lands in it even on a starved machine.
  const quiet = oneGate(`
    - connect: main
    - send: {type: notify}
      expect:
        - none: {type: reply}   # NONE
          for: 3s
  `);

  // That a `none` passes after its whole window of silence is proven on the fake clock (test/matching/matcher.test.ts).

  test('none: fails naming the frame that arrived in the window', async (t) => {
    const fx = await wsServer(t, (ws) =>
      ws.on('message', () => ws.send(JSON.stringify({ type: 'reply', to: 'notify' }))),
    );
    const r = await runGatesYaml(quiet, { url: fx.url });
    assert.deepEqual(
      r.failedChecks.map((c) => c.name),
      ['main: no reply for 3000 ms'],
    );
    assert.match(String(r.failedChecks[0]!.actual), /"to":"notify"/);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(quiet, '# NONE'));
  });
});

/**
 * A server shaped like tRPC's WebSocket link: `{id, method: subscription}` is answered by
 * `{id, result: {type: started}}`, three `data` results, then `stopped`, with plain-text `PING`
 * keep-alives among them. `dataAfterStop` sends one more data result after `stopped`; `garbage`
 * sends a text frame that is no keep-alive.
 */
function trpcShaped(bug?: 'dataAfterStop' | 'garbage') {
  return (ws: WebSocket) =>
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { id: number; method: string };
      if (m.method !== 'subscription') return;
      const out: (object | string)[] = [{ id: m.id, result: { type: 'started' } }, 'PING'];
      for (const n of [1, 2, 3])
        out.push(
          { id: m.id, result: { type: 'data', data: n } },
          n === 2 && bug === 'garbage' ? 'oops: not a keep-alive' : 'PING',
        );
      out.push({ id: m.id, result: { type: 'stopped' } });
      for (const f of out) ws.send(typeof f === 'string' ? f : JSON.stringify(f));
      if (bug === 'dataAfterStop')
        setTimeout(() => ws.send(JSON.stringify({ id: m.id, result: { type: 'data', data: 4 } })), 50);
    });
}

describe('none: after the last expected frame, and text keep-alives (a tRPC-shaped server)', {
  concurrency: true,
}, () => {
  const gate = oneGate(
    `
    - connect: main
    - send: {id: 1, method: subscription, params: {path: onTick}}
      expect:
        - {type: started, where: {id: 1}}
        - {type: data, where: {id: 1}, match: {result.data: 1}}
        - {type: data, where: {id: 1}, match: {result.data: 2}}
        - {type: data, where: {id: 1}, match: {result.data: 3}}   # DATA 3
        - {type: stopped, where: {id: 1}}
        - {none: {where: {id: 1}}, for: 1s}   # NONE
  `,
    'defaults: {typeField: result.type, nonJson: {allow: [PING]}}\n',
  );

  test('a healthy server passes: the none watches what follows stopped, the PINGs are skipped', async (t) => {
    const fx = await wsServer(t, trpcShaped());
    const r = await runGatesYaml(gate, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.equal(
      r.steps[1]!.checks.filter((c) => c.passed && c.name.endsWith(' arrived')).length,
      5,
      'each frame met its own expectation',
    );
    assert.equal(r.result.gates[0]!.unconsumed, undefined, 'the keep-alives were skipped, not left over');
  });

  test('a server that sends data after stopped fails at the none, naming that frame', async (t) => {
    const fx = await wsServer(t, trpcShaped('dataAfterStop'));
    const r = await runGatesYaml(gate, { url: fx.url });
    assert.deepEqual(
      r.failedChecks.map((c) => [c.name, c.actual, c.loc.line]),
      [
        [
          'main: no message where id=1 for 1000 ms',
          '{"id":1,"result":{"type":"data","data":4}}',
          lineOf(gate, '# NONE'),
        ],
      ],
    );
  });

  test('a text frame the allow-list does not name fails the step', async (t) => {
    const fx = await wsServer(t, trpcShaped('garbage'));
    const r = await runGatesYaml(gate, { url: fx.url });
    assert.deepEqual(
      r.failedChecks.map((c) => [c.name, c.actual, c.loc.line]),
      [['main: every frame is JSON', 'oops: not a keep-alive', lineOf(gate, '# DATA 3')]],
    );
  });
});

describe('a standalone none', { concurrency: true }, () => {
  // `go` is answered by a, b, c; with `again`, by one more b 400 ms later (in the silence window).
  const server = (again: boolean) =>
    jsonReplies((m, ws) => {
      if (m.type !== 'go') return [];
      if (again) setTimeout(() => ws.send(JSON.stringify({ type: 'b', again: true })), 400);
      return [{ type: 'a' }, { type: 'b' }, { type: 'c' }];
    });
  const gate = oneGate(`
    - connect: main
    - send: {type: go}
      expect: [{type: a}, {type: c}]
    - expect: [{none: b, for: 1500ms}]   # QUIET
  `);

  test('does not count a frame that arrived before the step began', async (t) => {
    const fx = await wsServer(t, server(false));
    const r = await runGatesYaml(gate, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.equal(r.result.gates[0]!.unconsumed?.[0]?.count, 1, 'the early b is left over, not judged');
  });

  test('fails on one that arrives during its window', async (t) => {
    const fx = await wsServer(t, server(true));
    const r = await runGatesYaml(gate, { url: fx.url });
    assert.deepEqual(
      r.failedChecks.map((c) => [c.name, c.actual, c.loc.line]),
      [['main: no b for 1500 ms', '{"type":"b","again":true}', lineOf(gate, '# QUIET')]],
    );
  });
});

describe('a frame that comes after its exchange ended', { concurrency: true }, () => {
  // Messages are handled one at a time, like an agent backend: the first reply's message_complete
  // comes 1.5 s after its tool_result (past the step's 1 s of silence); the second reply follows it.
  const server = (ws: WebSocket) => {
    let n = 0;
    let queue = Promise.resolve();
    const send = (m: object) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    ws.on('message', () => {
      const i = ++n;
      queue = queue.then(async () => {
        if (i > 1) await pause(100);
        send({ type: 'tool_result', n: i });
        await pause(i === 1 ? 1500 : 50);
        send({ type: 'message_complete', n: i });
      });
    });
  };
  const gate = oneGate(`
    - connect: main
    - send: {type: go}
      expect: [{type: tool_result}, {type: message_complete}]   # FIRST
      within: 1s
    - send: {type: go}
      expect:
        - {type: tool_result, match: {n: 2}}
        - {type: message_complete, match: {n: 2}}
      within: 1s
  `);

  test('is named as late and handed back to it; the next exchange waits for its own', async (t) => {
    const fx = await wsServer(t, server);
    const r = await runGatesYaml(gate, { url: fx.url });
    assert.deepEqual(
      r.failedChecks.map((c) => [c.name, c.loc.line]),
      [['main: message_complete', lineOf(gate, '# FIRST')]],
      JSON.stringify(r.failedChecks),
    );
    const second = r.steps[2]!;
    assert.equal(second.status, 'passed', JSON.stringify(second.checks));
    const late = second.checks.filter((c) => c.warning);
    assert.equal(late.length, 1, JSON.stringify(second.checks));
    assert.match(late[0]!.name, /^main: late message_complete from step g#\d+$/);
    assert.match(String(late[0]!.actual), /"n":1/);
  });

  test('a reply that never comes costs one more step at most: the step that handed one back owes none', async (t) => {
    // The first `go` gets a tool_result and no message_complete at all; the others get both at once.
    let n = 0;
    const fx = await wsServer(t, (ws) =>
      ws.on('message', () => {
        const i = ++n;
        ws.send(JSON.stringify({ type: 'tool_result', n: i }));
        if (i > 1) ws.send(JSON.stringify({ type: 'message_complete', n: i }));
      }),
    );
    const step = `
    - send: {type: go}
      expect: [{type: tool_result}, {type: message_complete}]
      within: 500ms`;
    const r = await runGatesYaml(oneGate(`\n    - connect: main${step}${step}${step}`), { url: fx.url });
    assert.deepEqual(
      r.steps.slice(1).map((s) => s.status),
      ['failed', 'failed', 'passed'],
      JSON.stringify(r.failedChecks),
    );
  });
});

describe('collect', { concurrency: true }, () => {
  test('where picks the stream, join separates pieces that are not text', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) =>
        m.type === 'go'
          ? [
              { type: 'item', stream: 'a', v: 1 },
              { type: 'item', stream: 'b', v: 99 },
              { type: 'item', stream: 'a', v: 10 },
              { type: 'end' },
            ]
          : [],
      ),
    );
    const r = await runGatesYaml(
      oneGate(`
      - connect: main
      - send: {type: go}
        expect:
          - collect: item
            where: {stream: a}
            field: v
            join: ","
            text: "1,10"
            into: joined
          - type: end
      - expect: [{type: item, match: {v: 99}}]
    `),
      { url: fx.url },
    );
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
  });
});

describe('collect join in a version 1 file', { concurrency: true }, () => {
  test('numbers join with nothing unless join: says otherwise, and a failed text says how it was joined and names join:', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'go' ? [...[5, 4, 3].map((n) => ({ type: 'n', v: n })), { type: 'end' }] : [])),
    );
    const gate = (collect: string) =>
      oneGate(`
      - connect: main
      - send: {type: go}
        expect:
          - {collect: n, field: v, ${collect}}
          - type: end
    `);
    const plain = await runGatesYaml(gate('text: "543"'), { url: fx.url });
    assert.equal(plain.result.status, 'passed', JSON.stringify(plain.failedChecks));
    const comma = await runGatesYaml(gate('join: ",", text: "5,4,3"'), { url: fx.url });
    assert.equal(comma.result.status, 'passed', JSON.stringify(comma.failedChecks));
    const wrong = await runGatesYaml(gate('text: "5,4,3"'), { url: fx.url });
    assert.equal(wrong.failedChecks.length, 1);
    assert.equal(wrong.failedChecks[0]!.actual, '543');
    assert.match(
      wrong.failedChecks[0]!.reason ?? '',
      /3 pieces joined with "" \(the default; `join:` sets the text between pieces\)/,
    );
  });
});

describe('path alternatives and type lists', { concurrency: true }, () => {
  test('content|response checks whichever is present; type takes a list', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) =>
        m.type === 'one'
          ? [{ type: 'r', content: 'text', tokens: { input: 1, output: 2 } }]
          : m.type === 'two'
            ? [{ type: 'r', response: 'text', tokens: 3 }]
            : [],
      ),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: one}
        expect: [{type: r, match: {"content|response": {length: {gt: 0}}, tokens: {type: [number, object]}}}]
      - send: {type: two}
        expect: [{type: r, match: {"content|response": {length: {gt: 0}}, tokens: {type: [number, object]}}}]
      - send: {type: one}
        expect: [{type: r, match: {"response|missing": {exists: true}}}]   # NEITHER
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.deepEqual(
      r.failedChecks.map((c) => [c.name, c.loc.line]),
      [['main: r.response|missing', lineOf(yaml, '# NEITHER')]],
    );
  });
});

describe('variables', { concurrency: true }, () => {
  test('vars may use other variables, and step names are filled in', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => [{ type: 'echo', note: m.note }]),
    );
    const yaml = oneGate(
      `
      - connect: main
      - name: "send \${NOTE} (\${NOTE_BYTES} bytes)"
        send: {type: say, note: "\${NOTE}"}
        expect: [{type: echo, match: {note: "n-test-x"}}]
    `,
      'vars:\n  NOTE_BYTES: 8\n  NOTE: "n-${RUN_ID}-${SUFFIX}"\n  SUFFIX: x\n',
    );
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.equal(JSON.parse(fx.received.items[0]!.text).note, 'n-test-x', 'the value went out resolved');
    assert.equal(r.steps[1]!.label, 'send n-test-x (8 bytes)');
  });
});
