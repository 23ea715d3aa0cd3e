// The words of each failure kind (lib/evidence/describe-failure.ts): one test per kind, so a change
// of wording is a deliberate one. Which kind a real misbehaving server produces is asserted by the
// tests of the steps and the matcher; these pin only what people read.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeFailure, failureSubject, whyFailed } from '../../lib/evidence/describe-failure.ts';
import type { Failure, FailureKind } from '../../lib/evidence/failure.ts';

const WORDS: { [K in FailureKind]: [Extract<Failure, { kind: K }>, string][] } = {
  missing: [
    [{ kind: 'missing', what: 'tool_result', ended: 'timeout' }, 'no tool_result arrived'],
    [{ kind: 'missing', what: 'error', ended: 'timeout' }, 'no error arrived'],
    [
      { kind: 'missing', what: 'tool_result', ended: 'timeout', toTime: true },
      'no tool_result arrived to time the budget by',
    ],
    [
      { kind: 'missing', what: 'tool_result', ended: 'closed', close: 'the server closed the connection (1011)' },
      'the server closed the connection (1011) before tool_result',
    ],
  ],
  late: [
    [
      { kind: 'late', what: 'tool_result', last: 'message_complete' },
      'message_complete ended the exchange without tool_result',
    ],
  ],
  order: [
    [{ kind: 'order', first: 'tool_result', then: 'message_complete' }, 'message_complete arrived before tool_result'],
  ],
  forbidden: [
    [{ kind: 'forbidden', what: 'error' }, 'error arrived'],
    [
      { kind: 'forbidden', what: 'message where id=1', forMs: 300 },
      'message where id=1 arrived within the 300 ms it must not',
    ],
  ],
  nonJson: [[{ kind: 'nonJson' }, 'a frame that is not JSON arrived']],
  field: [
    [{ kind: 'field', field: 'error.data.code', expected: 'BAD_REQUEST' }, 'error.data.code: expected "BAD_REQUEST"'],
    [
      { kind: 'field', field: 'session_initialized.sessionId', expected: { format: 'uuid' } },
      'session_initialized.sessionId: expected format uuid',
    ],
    [{ kind: 'field', field: 'tool_result.error', expected: { absent: true } }, 'tool_result.error: expected absent'],
    [{ kind: 'field', field: 'tokens', expected: { type: 'number', gt: 0 } }, 'tokens: expected a number and > 0'],
    [
      { kind: 'field', field: 'text', expected: { length: { gte: 1 }, not: '' } },
      'text: expected length >= 1 and not ""',
    ],
  ],
  capture: [
    [{ kind: 'capture', variable: 'sid', path: 'sessionId' }, 'nothing to capture into sid: no field sessionId'],
  ],
  count: [[{ kind: 'count', what: 'content_delta', min: 2 }, 'fewer than 2 content_delta']],
  content: [
    [{ kind: 'content', subject: 'the content of test.txt' }, 'the content of test.txt is not the one expected'],
  ],
  budget: [[{ kind: 'budget', budgetMs: 500 }, 'over its latency budget']],
  closed: [
    [
      { kind: 'closed', conn: 'main', close: 'the server closed the connection (1008 "Too many")' },
      'the server closed the connection (1008 "Too many")',
    ],
  ],
  close: [
    [{ kind: 'close', detail: 'not closed' }, 'the server did not close the connection'],
    [{ kind: 'close', detail: 'code', expected: 1008, actual: 1000 }, 'closed with 1000 instead of 1008'],
    [{ kind: 'close', detail: 'code', expected: 1008 }, 'closed with no code instead of 1008'],
    [{ kind: 'close', detail: 'reason', expected: 'bye', actual: '' }, 'close reason "" instead of "bye"'],
  ],
  connect: [
    [
      { kind: 'connect', target: 'ws://127.0.0.1:1', error: 'connection refused' },
      'ws://127.0.0.1:1 could not be reached: connection refused',
    ],
    [
      { kind: 'connect', target: 'ws://127.0.0.1:1', refusal: true },
      'a connection to ws://127.0.0.1:1 that must be refused opened',
    ],
  ],
  status: [
    [{ kind: 'status', request: 'GET /health', expected: 200, actual: 503 }, 'GET /health answered 503 instead of 200'],
  ],
  exit: [
    [
      { kind: 'exit', command: 'npm test', detail: 'exit code', expected: 0, actual: 1 },
      'npm test exited with 1 instead of 0',
    ],
    [{ kind: 'exit', command: 'npm test', detail: 'not started' }, 'npm test did not start'],
    [{ kind: 'exit', command: 'npm test', detail: 'timeout' }, 'npm test did not end within its timeout'],
    [{ kind: 'exit', command: 'node server.js', detail: 'not ready' }, 'node server.js did not get ready'],
  ],
  file: [
    [{ kind: 'file', path: 'test.txt', want: 'exists' }, 'test.txt does not exist'],
    [{ kind: 'file', path: 'test.txt', want: 'changed' }, 'test.txt was not written during the gate'],
    [{ kind: 'file', path: '../x', want: 'inside' }, '../x is outside the project folder'],
  ],
  git: [[{ kind: 'git', want: 'clean' }, 'the git working tree is dirty']],
  input: [[{ kind: 'input', what: 'the command line cannot be built' }, 'the command line cannot be built']],
  distinct: [[{ kind: 'distinct', variable: 'sid' }, 'sid is not different on every connection']],
  manual: [[{ kind: 'manual', question: 'Does the UI show it?' }, 'a person did not confirm: Does the UI show it?']],
  soak: [[{ kind: 'soak', detail: 'memory' }, "the server's memory grew beyond its limit during the soak"]],
  model: [
    [
      { kind: 'model', what: "write_file's result did not reach the model" },
      "write_file's result did not reach the model",
    ],
  ],
  protocol: [
    [
      { kind: 'protocol', direction: 'received', message: 'session_initialized', path: 'sessionId', rule: 'format' },
      'a received session_initialized breaks the protocol at sessionId (format)',
    ],
    [
      { kind: 'protocol', direction: 'sent', path: '', rule: 'unknown-type' },
      'a sent message breaks the protocol (unknown-type)',
    ],
  ],
};

describe('describeFailure: the words of each kind', () => {
  for (const [kind, cases] of Object.entries(WORDS)) {
    test(kind, () => {
      for (const [f, words] of cases) assert.equal(describeFailure(f), words);
    });
  }

  test('a kind this version does not know (a result from another version) still reads', () => {
    assert.equal(describeFailure({ kind: 'from-the-future' } as unknown as Failure), 'failed (from-the-future)');
  });
});

describe('failureSubject and whyFailed', () => {
  test('a field failure is about its whole path, never a shortened one', () => {
    assert.equal(failureSubject({ kind: 'field', field: 'error.data.code', expected: -32600 }), 'error.data.code');
  });

  test("why a check failed: the matcher's reason when there is one, else the failure's words", () => {
    const loc = { file: 'g.yaml', line: 1, col: 1 };
    const field = {
      name: 'main: error.data.code',
      expected: 'X',
      actual: 'Y',
      passed: false,
      loc,
      reason: 'expected "X", got "Y"',
      failure: { kind: 'field', field: 'error.data.code', expected: 'X' },
    } as const;
    assert.equal(whyFailed(field), 'expected "X", got "Y"');
    assert.equal(
      whyFailed({
        name: 'main: a before b',
        expected: 'a, then b',
        actual: '…',
        passed: false,
        loc,
        failure: { kind: 'order', first: 'a', then: 'b' },
      }),
      'b arrived before a',
    );
    assert.equal(
      whyFailed({ name: 'n', expected: 1, actual: 2, passed: false, loc, cause: 'words of an older result' }),
      'words of an older result',
    );
    assert.equal(whyFailed({ name: 'n', expected: 1, actual: 2, passed: false, loc }), undefined);
  });
});
