// The pure matcher (lib/matching/matcher.ts) on synthetic frames and node's fake clock: each rule of
// matching and timing is proven here without a server or a real wait; the end-to-end tests under
// test/steps and test/expectations.test.ts prove the same rules hold on real servers.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { parse } from 'yaml';
import { ExpectationMatcher, type MatchOptions, type WaitPhase } from '../../lib/matching/matcher.ts';
import { Kinds } from '../../lib/matching/kinds.ts';
import type { Expectation } from '../../lib/gates/common-schema.ts';
import type { Frame } from '../../lib/wscat/connection.ts';
import type { Failure } from '../../lib/evidence/failure.ts';

beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

/** A frame arriving now, on the fake clock. */
let seq = 0;
function frame(v: object | string): Frame {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return typeof v === 'string'
    ? { seq: seq++, at: Date.now(), text, json: undefined, isJson: false }
    : { seq: seq++, at: Date.now(), text, json: v, isJson: true };
}

const loc = { file: 'g.yaml', line: 1, col: 1 };

/** A matcher over a YAML expectation list, started now with a `within` of `withinMs`. */
function matcher(list: string, o: Partial<MatchOptions> = {}, withinMs = 3000): ExpectationMatcher {
  const now = Date.now();
  return new ExpectationMatcher(
    {
      expectations: parse(list) as Expectation[],
      forbid: [],
      deadline: now + withinMs,
      withinMs,
      kinds: Kinds.byField('type'),
      nonJson: 'fail',
      locOf: (p) => ({ ...loc, line: typeof p[0] === 'number' ? p[0] + 1 : 0 }),
      locOfForbid: () => loc,
      connLabel: 'main',
      unordered: false,
      lateGraceMs: 250,
      ...o,
    },
    now,
  );
}

/** Feeds the frames at the current fake time; returns which were consumed. */
function feed(m: ExpectationMatcher, ...frames: Frame[]): boolean[] {
  return frames.map((f) => m.feed(f, Date.now()));
}

/** Moves the fake clock on by `ms` and asks the matcher where the wait stands. */
function after(m: ExpectationMatcher, ms: number): WaitPhase {
  mock.timers.tick(ms);
  return m.advance(Date.now());
}

/** The typed failures of the checks the last `failed` call returned, in the same order. */
let failures: (Failure | undefined)[] = [];
const failed = (m: ExpectationMatcher) => {
  const f = m.finish(Date.now()).checks.filter((c) => !c.passed);
  failures = f.map((c) => c.failure);
  return f.map((c) => [c.name, c.actual]);
};

describe('an ordered list', () => {
  test('met in order: every expectation ends met, its checks pass, captures are made', () => {
    const m = matcher(`[{type: a, capture: {x: n}}, {type: b, match: {ok: true}}]`);
    assert.deepEqual(feed(m, frame({ type: 'a', n: 1 }), frame({ type: 'b', ok: true })), [true, true]);
    assert.equal(after(m, 0).phase, 'ended');
    const out = m.finish(Date.now());
    assert.deepEqual(
      m.states.map((s) => s.state),
      ['met', 'met'],
    );
    assert.equal(out.completed, true);
    assert.equal(out.captures.get('x'), 1);
  });

  test('a frame no expectation selects is left for later steps', () => {
    const m = matcher(`[{type: a}]`);
    assert.deepEqual(feed(m, frame({ type: 'other' }), frame({ type: 'a' })), [false, true]);
  });

  test('out of order: both are taken, the order is one failed check naming the arrival order', () => {
    const m = matcher(`[{type: a}, {type: b}]`);
    feed(m, frame({ type: 'b' }));
    assert.equal(after(m, 10).phase, 'late', 'the last arrived first: the others are late');
    feed(m, frame({ type: 'a' }));
    assert.equal(after(m, 0).phase, 'ended');
    const f = failed(m);
    assert.equal(f.length, 1);
    assert.equal(f[0]![0], 'main: a before b');
    assert.match(String(f[0]![1]), /^arrived in this order: #\d+ b \(\+0 ms\), #\d+ a \(\+10 ms\)$/);
    assert.deepEqual(failures, [{ kind: 'order', first: 'a', then: 'b' }]);
  });

  test('a message listed before the last that never comes fails after the late grace, not the deadline', () => {
    const m = matcher(`[{type: tool_result}, {type: message_complete}]`, {}, 14_000);
    feed(m, frame({ type: 'message_complete' }));
    assert.deepEqual(after(m, 0), { phase: 'late', since: Date.now(), until: Date.now() + 250 });
    assert.equal(after(m, 249).phase, 'late');
    assert.equal(after(m, 1).phase, 'ended');
    assert.deepEqual(failed(m), [
      [
        'main: tool_result',
        'message_complete (#' + (seq - 1) + ') ended the exchange, and this had not arrived 250 ms later',
      ],
    ]);
    assert.deepEqual(failures, [{ kind: 'late', what: 'tool_result', last: 'message_complete' }]);
  });

  test('optional: passed over by a later one, it is a warning; trailing, it is a warning at the deadline', () => {
    const m = matcher(
      `[{type: tool_result, optional: true}, {type: message_complete}, {type: usage, optional: true}]`,
      {},
      1500,
    );
    feed(m, frame({ type: 'message_complete' }));
    assert.equal(after(m, 1499).phase, 'waiting', 'the last of the list is optional: no late grace');
    assert.equal(after(m, 1).phase, 'ended');
    const out = m.finish(Date.now());
    assert.deepEqual(
      m.states.map((s) => s.state),
      ['passedOver', 'met', 'waiting'],
    );
    assert.equal(out.checks.filter((c) => c.warning && c.passed).length, 2);
    assert.equal(
      out.checks.every((c) => c.passed),
      true,
    );
  });

  test('a timeout names what is missing, with the deadline, at the deadline and not before', () => {
    const m = matcher(`[{type: thinking}, {type: message_complete}]`);
    feed(m, frame({ type: 'thinking' }));
    assert.equal(after(m, 2999).phase, 'waiting');
    assert.equal(after(m, 1).phase, 'ended');
    assert.deepEqual(failed(m), [
      ['main: message_complete', 'nothing matching within 3000 ms of the last frame (+0 ms)'],
    ]);
    assert.deepEqual(failures, [{ kind: 'missing', what: 'message_complete', ended: 'timeout' }]);
  });

  test('silence is judged at `within`', () => {
    const m = matcher(`[{type: message_complete}]`, { capMs: 60_000 });
    assert.equal(after(m, 2999).phase, 'waiting');
    assert.equal(after(m, 1).phase, 'ended');
    assert.deepEqual(failed(m), [['main: message_complete', 'nothing matching within 3000 ms']]);
  });

  test("frames still arriving keep the wait alive: a model's 2 s pauses pass", () => {
    const m = matcher(`[{type: tool_execution}, {type: tool_result}, {type: message_complete}]`, { capMs: 60_000 });
    mock.timers.tick(2000);
    feed(m, frame({ type: 'content_delta' }), frame({ type: 'tool_execution' }), frame({ type: 'tool_result' }));
    assert.deepEqual(
      after(m, 2900),
      { phase: 'waiting', until: Date.now() + 100 },
      'the deadline is 3 s after the last frame',
    );
    feed(m, frame({ type: 'content_delta' }));
    mock.timers.tick(2000);
    feed(m, frame({ type: 'message_complete' }));
    assert.equal(after(m, 0).phase, 'ended');
    assert.equal(m.finish(Date.now()).completed, true);
  });

  test('up to the cap: a server that keeps streaming without the awaited message is judged there', () => {
    const m = matcher(`[{type: message_complete}]`, { capMs: 10_000 });
    for (let t = 0; t < 10_000; t += 1000) {
      feed(m, frame({ type: 'content_delta' }));
      assert.equal(after(m, 1000).phase, t + 1000 < 10_000 ? 'waiting' : 'ended');
    }
    assert.deepEqual(failed(m), [
      [
        'main: message_complete',
        'nothing matching within 10000 ms (the cap of a wait that frames kept alive; the last came at +9000 ms); arrived instead: 10 content_delta',
      ],
    ]);
  });

  test('what a wait that ran out of time still owes is handed back when it comes', () => {
    const m = matcher(
      `[{collect: content_delta}, {type: tool_result}, {type: message_complete}, {type: usage, optional: true}]`,
    );
    feed(m, frame({ type: 'content_delta' }), frame({ type: 'tool_result' }));
    assert.equal(after(m, 3000).phase, 'ended');
    const owed = m.owed();
    assert.deepEqual(
      owed.map((o) => [o.label, o.pieces]),
      [
        ['content_delta pieces', true],
        ['message_complete', false],
      ],
      'the optional usage is not owed',
    );
    assert.equal(owed[1]!.claims(frame({ type: 'message_complete' })), true);
    assert.equal(owed[1]!.claims(frame({ type: 'tool_result' })), false);
    const done = matcher(`[{type: a}]`);
    feed(done, frame({ type: 'a' }));
    done.advance(Date.now());
    assert.deepEqual(done.owed(), [], 'a wait that ended met owes nothing');
  });

  test('a budget between two frames marks the first of each, `to` only after `from`', () => {
    const m = matcher(`[{type: tool_result}, {type: message_complete}]`, {
      span: { from: 'tool_execution', to: 'tool_result' },
    });
    feed(m, frame({ type: 'tool_result', stale: true }));
    mock.timers.tick(100);
    const from = frame({ type: 'tool_execution' });
    mock.timers.tick(40);
    const to = frame({ type: 'tool_result' });
    feed(m, from, to, frame({ type: 'message_complete' }));
    const out = m.finish(Date.now());
    assert.equal(out.spanTo!.at - out.spanFrom!.at, 40);
  });

  test("a stretched deadline (wsgate's own processes waited for a CPU) moves the end", () => {
    const m = matcher(`[{type: a}]`, { stretch: (planned) => planned + 500 });
    assert.equal(after(m, 3000).phase, 'waiting');
    assert.equal(after(m, 500).phase, 'ended');
  });

  test('a close before the list is met names the close', () => {
    const m = matcher(`[{type: a}]`);
    assert.equal(
      m.advance(Date.now(), { code: 1011, reason: 'crash', byClient: false, exitCode: null, signal: null }).phase,
      'ended',
    );
    assert.deepEqual(failed(m), [['main: a', 'the server closed the connection (1011 "crash") before it arrived']]);
    assert.deepEqual(failures, [
      { kind: 'missing', what: 'a', ended: 'closed', close: 'the server closed the connection (1011 "crash")' },
    ]);
  });
});

describe('failure words', () => {
  test('a field label does not repeat the kind, and its failure names the whole path', () => {
    const m = matcher(`[{type: result, match: {result.type: stopped}}]`, { kinds: Kinds.byField('kind') });
    feed(m, frame({ kind: 'result', result: { type: 'data' } }));
    const f = m.finish(Date.now()).checks.filter((c) => !c.passed);
    assert.deepEqual(
      f.map((c) => [c.name, c.failure]),
      [['main: result.type', { kind: 'field', field: 'result.type', expected: 'stopped' }]],
    );
    const e = matcher(`[{type: error, match: {error.data.code: BAD_REQUEST}}]`, { kinds: Kinds.byField('kind') });
    feed(e, frame({ kind: 'error', error: { data: { code: 'INTERNAL' } } }));
    const g = e.finish(Date.now()).checks.filter((c) => !c.passed);
    assert.deepEqual(
      g.map((c) => [c.name, c.failure]),
      [['main: error.data.code', { kind: 'field', field: 'error.data.code', expected: 'BAD_REQUEST' }]],
    );
  });

  test('a near miss counts only the frames no expectation of the step took, and its "first" is one of them', () => {
    const m = matcher(
      `[{type: r, where: {result.type: started}}, {type: r, where: {result.type: data}}, {type: r, where: {result.type: data}}, {type: r, where: {result.type: stopped}}]`,
      { kinds: Kinds.byField('kind') },
    );
    for (const t of ['started', 'data', 'data', 'data']) feed(m, frame({ kind: 'r', result: { type: t } }));
    after(m, 3000);
    assert.deepEqual(
      failed(m).map((x) => x[1]),
      [
        'nothing matching within 3000 ms of the last frame (+0 ms); 1 other r arrived, none where result.type="stopped" (first: result.type="data")',
      ],
    );
  });

  test('when every frame of the kind was taken by an expectation above, it says so', () => {
    const m = matcher(`[{type: a, where: {n: 1}}, {type: a, where: {n: 2}}]`);
    feed(m, frame({ type: 'a', n: 1 }));
    after(m, 3000);
    assert.match(
      String(failed(m)[0]![1]),
      /; the 1 a that arrived were each taken by an expectation listed before this one$/,
    );
  });

  test('a timeout names what arrived instead', () => {
    const m = matcher(`[{type: error}]`);
    const other = frame({ type: 'slash_command_response', content: 'Unknown command' });
    feed(m, other);
    after(m, 3000);
    assert.deepEqual(failed(m), [
      [
        'main: error',
        `nothing matching within 3000 ms of the last frame (+0 ms); arrived instead: slash_command_response (#${other.seq})`,
      ],
    ]);
  });

  test('replies to other requests are named as such, with their id', () => {
    const reply = new Kinds([{ has: 'result', kind: 'result' }], { field: 'id', kinds: ['result'] });
    const m = matcher(`[{type: result}]`, { kinds: reply, requestId: 7 });
    feed(m, frame({ id: 1, result: 'x' }), frame({ id: 2, result: 'y' }));
    after(m, 3000);
    assert.match(
      String(failed(m)[0]![1]),
      /; 2 result for other requests arrived \(first: id=1\), none for this one \(id=7\)$/,
    );
  });
});

describe('collect', () => {
  test('gathers the pieces until the next expectation arrives, and judges them then', () => {
    const m = matcher(`[{collect: content_delta, min: 2, into: reply}, {type: message_complete}]`);
    feed(
      m,
      frame({ type: 'content_delta', delta: 'Hel' }),
      frame({ type: 'content_delta', delta: 'lo' }),
      frame({ type: 'message_complete' }),
    );
    assert.equal(after(m, 0).phase, 'ended');
    const out = m.finish(Date.now());
    assert.equal(out.captures.get('reply'), 'Hello');
    assert.deepEqual(
      m.states.map((s) => s.state),
      ['collected', 'met'],
    );
    assert.equal(out.completed, true);
  });

  test('too few pieces, a text that does not hold and an absent capture are each their own kind', () => {
    const m = matcher(
      `[{collect: content_delta, min: 2, text: Hello}, {type: message_complete, capture: {id: messageId}}]`,
    );
    feed(m, frame({ type: 'content_delta', delta: 'Hi' }), frame({ type: 'message_complete' }));
    failed(m);
    assert.deepEqual(failures, [
      { kind: 'count', what: 'content_delta', min: 2 },
      { kind: 'content', subject: 'content_delta text' },
      { kind: 'capture', variable: 'id', path: 'messageId' },
    ]);
  });
});

describe('forbid', () => {
  test('a forbidden frame ends the wait at once and fails it', () => {
    const m = matcher(`[{type: message_complete}]`, { forbid: ['error'] }, 14_000);
    assert.deepEqual(feed(m, frame({ type: 'error', code: 'BOOM' })), [true]);
    assert.deepEqual(m.phase, { phase: 'ended', why: { kind: 'forbidden' } });
    assert.deepEqual(
      failed(m).map((x) => x[0]),
      ['main: no error while the step ran'],
    );
    assert.deepEqual(failures, [{ kind: 'forbidden', what: 'error' }]);
  });
});

describe('none: in a list', () => {
  test('passes when nothing matching arrives for the whole window; the wait lasts the window', () => {
    const m = matcher(`[{none: reply, for: 3s}]`);
    assert.equal(after(m, 0).phase, 'quiet');
    feed(m, frame({ type: 'other' }));
    assert.equal(after(m, 2999).phase, 'quiet');
    assert.equal(after(m, 1).phase, 'ended');
    assert.equal(m.finish(Date.now()).completed, true);
  });

  test('fails naming the frame that arrived in the window', () => {
    const m = matcher(`[{none: reply, for: 3s}]`);
    assert.deepEqual(feed(m, frame({ type: 'reply', to: 'notify' })), [true]);
    assert.deepEqual(
      m.states.map((s) => s.state),
      ['violated'],
    );
    assert.deepEqual(failed(m), [['main: no reply for 3000 ms', '{"type":"reply","to":"notify"}']]);
    assert.deepEqual(failures, [{ kind: 'forbidden', what: 'reply', forMs: 3000 }]);
  });
});

describe('none: after the last expected frame', () => {
  const list = `[{type: started, where: {id: 1}}, {type: data, where: {id: 1}}, {type: stopped, where: {id: 1}}, {none: {where: {id: 1}}, for: 300ms}]`;
  const kinds = new Kinds([{ field: 'result.type' }]);
  const rpc = (type: string, id = 1) => frame({ id, result: { type } });

  test('never takes a frame an expectation before it waits for: its window opens after the last one', () => {
    const m = matcher(list, { kinds });
    assert.equal(m.states[3]!.state, 'pending');
    assert.deepEqual(feed(m, rpc('started'), rpc('data'), rpc('data', 2), rpc('stopped')), [true, true, false, true]);
    assert.deepEqual(
      m.states.map((s) => s.state),
      ['met', 'met', 'met', 'watching'],
    );
    assert.equal(after(m, 299).phase, 'quiet');
    assert.equal(after(m, 1).phase, 'ended');
    assert.equal(m.finish(Date.now()).completed, true);
  });

  test('fails on a frame of that request after the last one, naming it', () => {
    const m = matcher(list, { kinds });
    feed(m, rpc('started'), rpc('data'), rpc('stopped'));
    mock.timers.tick(100);
    feed(m, rpc('data'));
    assert.equal(m.states[3]!.state, 'violated');
    assert.deepEqual(failed(m), [['main: no message where id=1 for 300 ms', '{"id":1,"result":{"type":"data"}}']]);
  });

  test('the window is its own: it opens when the frame before it arrives, and a frame after it closes is not counted', () => {
    const m = matcher(`[{type: a}, {none: b, for: 300ms}]`);
    mock.timers.tick(1000);
    feed(m, frame({ type: 'a' }));
    assert.deepEqual(m.states[1], { state: 'watching', since: Date.now(), until: Date.now() + 300 });
    mock.timers.tick(300);
    assert.deepEqual(feed(m, frame({ type: 'b' })), [false], 'after the window: left for later steps');
  });
});

describe('a standalone none', () => {
  test('counts only frames that arrived after the step began', () => {
    const old = frame({ type: 'b' });
    const m = matcher(`[{none: b, for: 1s}]`, { firstNewSeq: seq });
    assert.deepEqual(feed(m, old), [false], 'a leftover of an earlier step is not a frame of this window');
    assert.deepEqual(feed(m, frame({ type: 'b' })), [true]);
    assert.equal(failed(m).length, 1);
  });
});

describe('non-JSON frames', () => {
  test('nonJson: {allow: [...]}: the listed frames are skipped, any other fails', () => {
    const m = matcher(`[{type: hello}]`, { nonJson: { allow: ['PING', { startsWith: 'KEEP' }] } });
    assert.deepEqual(feed(m, frame('PING'), frame('KEEPALIVE 3'), frame('garbage'), frame({ type: 'hello' })), [
      true,
      true,
      true,
      true,
    ]);
    const f = m.finish(Date.now()).checks.filter((c) => !c.passed);
    assert.deepEqual(
      f.map((c) => [c.name, c.actual]),
      [['main: every frame is JSON', 'garbage']],
    );
    assert.match(String(f[0]!.expected), /nonJson\.allow names \("PING", \{"startsWith":"KEEP"\}\)/);
  });

  test('fail by default, and are what a raw expectation waits for', () => {
    const m = matcher(`[{type: hello}]`);
    assert.deepEqual(feed(m, frame('garbage'), frame({ type: 'hello' })), [true, true]);
    assert.deepEqual(failed(m), [['main: every frame is JSON', 'garbage']]);
    assert.deepEqual(failures, [{ kind: 'nonJson' }]);
    const r = matcher(`[{raw: {startsWith: PI}}, {type: hello}]`);
    feed(r, frame('PING'), frame({ type: 'hello' }));
    assert.equal(
      r.finish(Date.now()).checks.every((c) => c.passed),
      true,
    );
  });

  test('nonJson: ignore leaves them for nobody', () => {
    const m = matcher(`[{type: hello}]`, { nonJson: 'ignore' });
    assert.deepEqual(feed(m, frame('garbage'), frame({ type: 'hello' })), [false, true]);
    assert.deepEqual(failed(m), []);
  });
});
