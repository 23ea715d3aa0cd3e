// expect (and expectations attached to send): selection by type + where, match checks, captures,
// collect, forbid, ordering, optional, deadlines, closes, non-JSON frames, raw, typeField, other
// connections and groups. Each server is a real `ws` server doing exactly what the test needs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { jsonReplies, lineOf, oneGate, wsServer } from '../helpers/servers.ts';

describe('expect', { concurrency: true }, () => {
  describe('where selects, match asserts', { concurrency: true }, () => {
    // A tool run: a read_file result (with an error), then the write_file result the test cares about.
    const toolServer = (writeError: string | null) =>
      jsonReplies((m) =>
        m.type === 'go'
          ? [
              { type: 'tool_result', tool: 'read_file', error: 'ENOENT' },
              {
                type: 'tool_result',
                tool: 'write_file',
                ...(writeError ? { error: writeError } : { result: 'Wrote 5 bytes' }),
              },
              { type: 'message_complete', messageId: 'm1', tokensUsed: 0 },
            ]
          : [],
      );
    const gate = oneGate(`
      - connect: main
      - send: {type: go}
        expect:
          - type: tool_result
            where: {tool: write_file}
            match:
              error: {absent: true}   # MATCH
              result: {startsWith: Wrote}
          - type: message_complete
            match: {tokensUsed: 0}
        within: 2s
    `);

    test('a tool_result for another tool is skipped; the selected one passes', async (t) => {
      const fx = await wsServer(t, toolServer(null));
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      const send = r.steps[1]!;
      assert.ok(
        send.checks.some((c) => c.name === 'main: tool_result.result' && c.actual === 'Wrote 5 bytes'),
        'checked the write_file result, not the read_file one',
      );
      assert.ok(
        send.checks.some((c) => c.name === 'main: message_complete.tokensUsed' && c.passed),
        'equals 0 holds of 0',
      );
    });

    test("the selected message's failing match fails, at the match line", async (t) => {
      const fx = await wsServer(t, toolServer('disk full'));
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.steps[1]!.status, 'failed');
      const failed = r.failedChecks;
      // The write_file result was selected (not skipped for the read_file one): both its matchers ran on it.
      assert.deepEqual(
        failed.map((c) => c.name),
        ['main: tool_result.error', 'main: tool_result.result'],
        JSON.stringify(failed),
      );
      assert.equal(failed[0]!.actual, 'disk full');
      assert.equal(failed[0]!.reason, 'expected the field to be absent, got "disk full"');
      assert.equal(failed[0]!.loc.line, lineOf(gate, '# MATCH'));
      assert.ok(
        r.steps[1]!.lastMessages?.some((f) => f.text.includes('disk full')),
        'a failure shows the last messages',
      );
    });
  });

  test('a capture is usable in a later step', async (t) => {
    const id = '6f1c1f2e-8f5b-4c0e-9a57-0d6b0f3c2a11';
    const fx = await wsServer(
      t,
      jsonReplies((m) => {
        if (m.type === 'init') return [{ type: 'session', session: { id, items: [{ n: 7 }] } }];
        if (m.type === 'resume') return [{ type: 'resumed', sessionId: m.sessionId, n: m.n }];
        return [];
      }),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: init}
        expect:
          - type: session
            match: {session.id: {format: uuid}}
            capture: {sid: session.id, first: "session.items[0].n"}
      - send: {type: resume, sessionId: "\${sid}", n: "\${first}", note: "s=\${sid}"}
        expect: [{type: resumed, match: {sessionId: "\${sid}", n: 7}}]
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const sent = JSON.parse(fx.received.items[1]!.text) as Record<string, unknown>;
    assert.deepEqual(
      sent,
      { type: 'resume', sessionId: id, n: 7, note: `s=${id}` },
      'a whole reference keeps its number type',
    );
  });

  test('a capture of an absent field fails, and the variable stays unset for the next step', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'init' ? [{ type: 'session' }] : [])),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: init}
        expect:
          - type: session
            capture: {sid: sessionId}   # CAPTURE
      - send: {type: resume, sessionId: "\${sid}"}
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks[0]!.name, 'main: capture sid from sessionId');
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# CAPTURE'));
    assert.equal(r.steps[2]!.status, 'skipped');
  });

  test('an optional capture (`field?`) is taken when the field is there, and its absence fails nothing', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'init' ? [{ type: 'session', ...(m.with ? { sessionId: 'abc' } : {}) }] : [])),
    );
    const yaml = (withId: boolean) =>
      oneGate(`
      - connect: main
      - send: {type: init, with: ${withId}}
        expect:
          - type: session
            capture: {sid: "sessionId?"}
      - send: {type: resume, sessionId: "\${sid}"}
    `);
    const present = await runGatesYaml(yaml(true), { url: fx.url });
    assert.equal(present.result.status, 'passed', JSON.stringify(present.failedChecks));
    assert.deepEqual(
      JSON.parse(fx.received.items[1]!.text),
      { type: 'resume', sessionId: 'abc' },
      'taken without the ?',
    );
    const absent = await runGatesYaml(yaml(false), { url: fx.url });
    assert.deepEqual(absent.failedChecks, [], 'an absent optional field is no failure');
    assert.equal(absent.steps[1]!.status, 'passed');
    assert.equal(absent.steps[2]!.status, 'unchecked', 'the step that needs it is not checked, not failed');
  });

  describe('collect', { concurrency: true }, () => {
    const streamer = (pieces: string[]) =>
      jsonReplies((m) =>
        m.type === 'chat'
          ? [...pieces.map((d) => ({ type: 'content_delta', delta: d })), { type: 'message_complete', messageId: 'x' }]
          : [],
      );
    const gate = oneGate(`
      - connect: main
      - send: {type: chat}
        expect:
          - collect: content_delta
            min: 2
            text: {contains: "Hello, world"}   # TEXT
            into: reply
          - type: message_complete
      - send: {type: echo, text: "\${reply}"}
    `);

    test('joins every piece until the next expectation and captures the text', async (t) => {
      const fx = await wsServer(t, streamer(['Hel', 'lo, ', 'world', '!']));
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      const pieces = r.steps[1]!.checks.find((c) => c.name === 'main: at least 2 content_delta')!;
      assert.equal(pieces.actual, 4);
      await fx.received.waitFor((x) => x.length === 2, 'the echo');
      assert.equal(JSON.parse(fx.received.items[1]!.text).text, 'Hello, world!');
    });

    test('fails when the joined text does not match', async (t) => {
      const fx = await wsServer(t, streamer(['Good', 'bye']));
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
      assert.equal(r.failedChecks[0]!.name, 'main: content_delta text');
      assert.match(String(r.failedChecks[0]!.actual), /^Goodbye/);
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# TEXT'));
    });

    test('fails when too few pieces arrive', async (t) => {
      const fx = await wsServer(t, streamer(['Hello, world']));
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.deepEqual(
        r.failedChecks.map((c) => c.name),
        ['main: at least 2 content_delta'],
      );
      assert.equal(r.failedChecks[0]!.actual, 1);
    });
  });

  test('forbid: [error] fails fast, well before the deadline', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'chat' ? [{ type: 'error', code: 'BOOM' }] : [])),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: chat}
        expect:
          - type: message_complete   # WAITED
        forbid: [error]
        within: 14s
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    const stepMs = r.steps[1]!.ms;
    assert.equal(r.result.status, 'failed');
    assert.ok(stepMs < 7000, `failed at the error, not at the 14 s deadline (${stepMs} ms)`);
    assert.equal(r.failedChecks.length, 1);
    assert.equal(r.failedChecks[0]!.name, 'main: no error while the step ran');
    assert.match(String(r.failedChecks[0]!.actual), /BOOM/);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, 'forbid: [error]'), 'the check points at the forbid rule');
  });

  test('forbid: a forbidden frame already there when the list is met fails the step; one after the step ends does not', async (t) => {
    // The first step waits for `last`, so `pong` and `error` are surely in the inbox (left for later
    // steps) when the standalone expect meets its `pong`: the error arrived while it ran.
    const fx = await wsServer(
      t,
      jsonReplies((m) =>
        m.type === 'burst'
          ? [{ type: 'pong' }, { type: 'error', code: 'LATE' }, { type: 'last' }]
          : m.type === 'quiet'
            ? [{ type: 'pong' }]
            : [],
      ),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: burst}
        expect: [{type: last}]
      - expect: [{type: pong}]
        forbid: [error]   # FORBID
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.deepEqual(
      r.failedChecks.map((c) => c.name),
      ['main: no error while the step ran'],
    );
    assert.match(String(r.failedChecks[0]!.actual), /LATE/);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# FORBID'));
    // The same forbid on a server whose error never comes passes.
    const fine = await runGatesYaml(
      oneGate(`
      - connect: main
      - send: {type: quiet}
        expect: [{type: pong}]
        forbid: [error]
    `),
      { url: fx.url },
    );
    assert.equal(fine.result.status, 'passed', JSON.stringify(fine.failedChecks));
  });

  test('out of order: message_complete before tool_result fails naming the arrival order, and both are still checked', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) =>
        m.type === 'chat'
          ? [
              { type: 'message_complete', tokens: 3 },
              { type: 'tool_result', tool: 'x', result: 'r1' },
            ]
          : [],
      ),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: chat}
        expect:
          - type: tool_result   # FIRST
            capture: {res: result}
          - type: message_complete
            match: {tokens: 3}
        within: 14s
      - send: {type: echo, res: "\${res}"}
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
    assert.equal(r.failedChecks[0]!.name, 'main: tool_result before message_complete');
    assert.match(
      String(r.failedChecks[0]!.actual),
      /^arrived in this order: #0 message_complete \(\+\d+ ms\), #1 tool_result \(\+\d+ ms\)$/,
    );
    assert.deepEqual(r.failedChecks[0]!.failure, { kind: 'order', first: 'tool_result', then: 'message_complete' });
    assert.equal(
      r.failedChecks[0]!.cause,
      'message_complete arrived before tool_result',
      'result.json keeps the words',
    );
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# FIRST'));
    assert.ok(
      r.steps[1]!.checks.some((c) => c.name === 'main: message_complete.tokens' && c.passed),
      'the early message was still checked',
    );
    assert.equal(r.steps[2]!.status, 'passed', 'the capture was made, so the next step runs');
    await fx.received.waitFor((x) => x.length === 2, 'the echo');
    assert.equal(JSON.parse(fx.received.items[1]!.text).res, 'r1');
  });

  test('out of order: a message listed before the last one that never comes fails soon after the last one', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'chat' ? [{ type: 'message_complete' }] : [])),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: chat}
        expect:
          - type: tool_result   # MISSING
          - type: message_complete
        within: 14s
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
    assert.match(
      String(r.failedChecks[0]!.actual),
      /^message_complete \(#0\) ended the exchange, and this had not arrived \d+ ms later$/,
    );
    assert.deepEqual(r.failedChecks[0]!.failure, { kind: 'late', what: 'tool_result', last: 'message_complete' });
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# MISSING'));
    assert.ok(r.steps[1]!.ms < 7000, `not the 14 s deadline (${r.steps[1]!.ms} ms)`);
  });

  test('optional: a missing optional message passes with a warning check', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'chat' ? [{ type: 'message_complete' }] : [])),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: chat}
        expect:
          - {type: tool_result, optional: true}   # OPTIONAL
          - type: message_complete
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const warn = r.steps[1]!.checks.filter((c) => c.warning);
    assert.equal(warn.length, 1);
    assert.equal(warn[0]!.passed, true);
    assert.match(warn[0]!.name, /optional tool_result did not arrive/);
    assert.equal(warn[0]!.loc.line, lineOf(yaml, '# OPTIONAL'));
  });

  // A trailing optional message missing at the deadline: test/matching/matcher.test.ts (no real wait needed).

  test('a timeout fails with "nothing matching within"', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) => (m.type === 'chat' ? [{ type: 'thinking' }] : [])),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: chat}
        expect:
          - type: thinking
          - type: message_complete   # NEVER
        within: 1s
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks.length, 1);
    assert.match(
      String(r.failedChecks[0]!.actual),
      /^nothing matching within 1000 ms of the last frame \(\+\d+ ms\)$/,
      'the thinking frame kept the wait alive',
    );
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# NEVER'));
    assert.ok(
      r.steps[1]!.ms >= 990 && r.steps[1]!.ms < 8000,
      `waited the 1 s deadline (stretched at most 3x on a busy machine), not the 15 s default (${r.steps[1]!.ms} ms)`,
    );
    assert.ok(r.steps[1]!.lastMessages?.some((f) => f.text.includes('thinking')));
  });

  test('a close by the server fails naming the close', async (t) => {
    const fx = await wsServer(t, (ws) =>
      ws.on('message', () => {
        ws.send(JSON.stringify({ type: 'content_delta', delta: 'a' }));
        ws.close(1011, 'crash');
      }),
    );
    const yaml = oneGate(`
      - connect: main
      - send: {type: chat}
        expect:
          - type: content_delta
          - type: message_complete   # LOST
        within: 14s
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
    assert.equal(r.failedChecks[0]!.actual, 'the server closed the connection (1011 "crash") before it arrived');
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# LOST'));
    assert.ok(r.steps[1]!.ms < 7000, `failed at the close, not at the 14 s deadline (${r.steps[1]!.ms} ms)`);
  });

  describe('non-JSON frames', { concurrency: true }, () => {
    const garbage = jsonReplies((m) => (m.type === 'hi' ? ['garbage: not json', { type: 'hello' }] : []));

    test('fail by default', async (t) => {
      const fx = await wsServer(t, garbage);
      const yaml = oneGate(`
        - connect: main
        - send: {type: hi}
          expect: [{type: hello}]   # HELLO
      `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks[0]!.name, 'main: every frame is JSON');
      assert.equal(r.failedChecks[0]!.actual, 'garbage: not json');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# HELLO'));
    });

    test('are skipped with defaults: {nonJson: ignore}', async (t) => {
      const fx = await wsServer(t, garbage);
      const yaml = oneGate(
        `
        - connect: main
        - send: {type: hi}
          expect: [{type: hello}]
      `,
        'defaults: {nonJson: ignore}\n',
      );
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    });

    test('raw: selects a non-JSON frame by a matcher', async (t) => {
      const fx = await wsServer(t, garbage);
      const yaml = oneGate(`
        - connect: main
        - send: {type: hi}
          expect:
            - raw: {startsWith: "garbage"}
            - type: hello
      `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.ok(r.steps[1]!.checks.some((c) => c.actual === 'garbage: not json' && c.passed));
    });

    test('raw: fails when no such frame arrives', async (t) => {
      const fx = await wsServer(
        t,
        jsonReplies((m) => (m.type === 'hi' ? ['nonsense', { type: 'hello' }] : [])),
      );
      const yaml = oneGate(`
        - connect: main
        - send: {type: hi}
          expect:
            - raw: {startsWith: "garbage"}   # RAW
          within: 400ms
      `);
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# RAW'));
    });
  });

  describe('a custom typeField', { concurrency: true }, () => {
    const head = 'defaults: {typeField: event}\n';
    const gate = oneGate(
      `
      - connect: main
      - send: {event: subscribe}
        expect:
          - event: subscribed   # TYPED
            match: {channel: news}
        within: 2s
    `.replace('event: subscribed   # TYPED', 'type: subscribed   # TYPED'),
      head,
    );

    test('selects by the `event` field', async (t) => {
      const fx = await wsServer(
        t,
        jsonReplies((m) =>
          m.event === 'subscribe'
            ? [
                { type: 'subscribed', channel: 'sports' },
                { event: 'subscribed', channel: 'news' },
              ]
            : [],
        ),
      );
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.equal(fx.received.items[0]!.text, '{"event":"subscribe"}');
    });

    test('a message with type (not event) is not selected', async (t) => {
      const fx = await wsServer(
        t,
        jsonReplies((m) => (m.event === 'subscribe' ? [{ type: 'subscribed', channel: 'news' }] : [])),
      );
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.match(
        String(r.failedChecks[0]!.actual),
        /^nothing matching within 2000 ms of the last frame \(\+\d+ ms\); a frame has type: "subscribed", but kinds are read from the value of `event`: set `defaults\.typeField: type`\?$/,
        'the failure hints at the field the awaited kind came under',
      );
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# TYPED'));
    });
  });

  describe('another named connection (broadcast)', { concurrency: true }, () => {
    const gate = oneGate(`
      - connect: a
      - connect: b
      - send: {type: say, text: hi}
        on: a
      - expect: [{type: said, match: {text: hi}}]   # ON B
        on: b
        within: 3s
    `);

    test('a message sent on A is awaited on B', async (t) => {
      const fx = await wsServer(t, (ws, _n, _req, f) =>
        ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as { text: string };
          for (const c of f.wss.clients) if (c !== ws) c.send(JSON.stringify({ type: 'said', text: m.text }));
        }),
      );
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.deepEqual(
        fx.received.items.map((x) => x.conn),
        [0],
        'the send went out on a only',
      );
    });

    test('fails when the server echoes to the sender only', async (t) => {
      const fx = await wsServer(t, (ws) =>
        ws.on('message', (d) =>
          ws.send(JSON.stringify({ type: 'said', text: (JSON.parse(d.toString()) as { text: string }).text })),
        ),
      );
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.steps[3]!.status, 'failed');
      assert.equal(r.failedChecks[0]!.actual, 'nothing matching within 3000 ms');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# ON B'));
    });

    test('a connection name with no connect step is refused before anything runs', async (t) => {
      const fx = await wsServer(t, () => undefined);
      const yaml = oneGate(`
        - connect: a
        - expect: [{type: x}]
          on: main   # NO MAIN
      `);
      await assert.rejects(
        runGatesYaml(yaml, { url: fx.url }),
        new RegExp(`${lineOf(yaml, '# NO MAIN')}:\\d+ .*no connection named "main"`),
      );
      assert.equal(fx.upgrades.length, 0, 'nothing ran');
    });
  });

  describe('a group of connections with distinct', { concurrency: true }, () => {
    const gate = oneGate(`
      - connect: {name: clients, count: 3}
      - send: {type: init}
        on: clients
        expect: [{type: session, capture: {sid: id}}]
        distinct: [sid]   # DISTINCT
    `);

    test('passes when each client gets its own id', async (t) => {
      const fx = await wsServer(t, (ws, n) =>
        jsonReplies((m) => (m.type === 'init' ? [{ type: 'session', id: `s-${n}` }] : []))(ws),
      );
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.equal(fx.received.items.length, 3, 'the send went out on every member');
      const d = r.steps[1]!.checks.find((c) => c.name.startsWith('sid differs'))!;
      assert.equal(d.actual, '3 distinct');
    });

    test('fails when the server gives every client the same id', async (t) => {
      const fx = await wsServer(
        t,
        jsonReplies((m) => (m.type === 'init' ? [{ type: 'session', id: 'same' }] : [])),
      );
      const r = await runGatesYaml(gate, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
      assert.equal(r.failedChecks[0]!.name, 'sid differs on each of 3 connections');
      assert.equal(r.failedChecks[0]!.actual, '1 distinct');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# DISTINCT'));
    });

    test('each member must meet the list: one silent member fails the step', async (t) => {
      const fx = await wsServer(t, (ws, n) =>
        jsonReplies((m) => (m.type === 'init' && n !== 1 ? [{ type: 'session', id: `s-${n}` }] : []))(ws),
      );
      const yaml = gate.replace('distinct: [sid]   # DISTINCT', 'within: 2s');
      const r = await runGatesYaml(yaml, { url: fx.url });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
      assert.match(r.failedChecks[0]!.name, /^clients#\d: session$/);
    });
  });
});

describe('collect followed by an optional expectation', { concurrency: true }, () => {
  const gate = oneGate(`
    - connect: main
    - send: {type: chat}
      expect:
        - collect: content_delta
          into: reply
        - {type: tool_result, optional: true}   # OPT AFTER COLLECT
        - type: message_complete
      within: 14s
  `);

  test('the optional message may be absent: message_complete ends the stream', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) =>
        m.type === 'chat'
          ? [{ type: 'content_delta', delta: 'a' }, { type: 'content_delta', delta: 'b' }, { type: 'message_complete' }]
          : [],
      ),
    );
    const r = await runGatesYaml(gate, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const w = r.steps[1]!.checks.filter((c) => c.warning);
    assert.equal(w.length, 1);
    assert.equal(w[0]!.loc.line, lineOf(gate, '# OPT AFTER COLLECT'));
  });

  test('a required message skipped after the collect still fails as out of order', async (t) => {
    const fx = await wsServer(
      t,
      jsonReplies((m) =>
        m.type === 'chat' ? [{ type: 'content_delta', delta: 'a' }, { type: 'message_complete' }] : [],
      ),
    );
    const strict = gate.replace('{type: tool_result, optional: true}', '{type: tool_result}');
    const r = await runGatesYaml(strict, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks.length, 1);
    assert.match(
      String(r.failedChecks[0]!.actual),
      /^message_complete \(#1\) ended the exchange, and this had not arrived/,
    );
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(strict, '# OPT AFTER COLLECT'));
    assert.ok(
      r.steps[1]!.ms < 7000,
      `fails soon after the last message, not at the 14 s deadline (${r.steps[1]!.ms} ms)`,
    );
  });
});
