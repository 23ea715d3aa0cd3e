// The rules that decide what a recorded value becomes (lib/record/values.ts), one by one, and that
// every inferred matcher passes on the very value it was inferred from (with wsgate's own matcher).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchValue } from '../../lib/matching/match.ts';
import { substitute } from '../../lib/util/vars.ts';
import type { Matcher } from '../../lib/gates/common-schema.ts';
import {
  escapeRefs,
  leafMatcher,
  machineDetail,
  numberMatcher,
  stringMatcher,
  withVariables,
  type ValueContext,
} from '../../lib/record/values.ts';

const PROJECT = '/tmp/wsgate-project-Ab12';
function ctx(extra: Partial<ValueContext> = {}): ValueContext {
  return {
    project: PROJECT,
    runId: '0c52e9ae',
    vars: [{ name: 'sessionId', value: '11b5808d-9e5e-4908-b867-08c250685af8', from: 2 }],
    step: 3,
    clientValues: new Set(),
    stats: new Map(),
    ...extra,
  };
}
/** The matcher as a run would use it (variables substituted), applied to the recorded value. */
function holds(m: Matcher, v: unknown, c = ctx()): boolean {
  const values: Record<string, unknown> = {
    PROJECT: c.project,
    RUN_ID: c.runId,
    ...Object.fromEntries(c.vars.map((b) => [b.name, b.value])),
  };
  return matchValue(
    substitute(m, (n) => (n in values ? { found: true, value: values[n] } : { found: false })),
    v,
  ).passed;
}

describe('recorded values', () => {
  const cases: [string, unknown, string, Matcher][] = [
    ['the project folder', PROJECT, 'projectPath', '${PROJECT}'],
    ['a captured id, once usable', '11b5808d-9e5e-4908-b867-08c250685af8', 'id', '${sessionId}'],
    ['another UUID', 'c530adea-a147-46e7-be63-ab945553ec96', 'messageId', { format: 'uuid' }],
    ['an ISO timestamp', '2026-11-28T19:17:31.549Z', 'timestamp', { format: 'iso-date' }],
    ['an id of no known shape', 'sess-17', 'sessionId', { type: 'string' }],
    ['a git hash', '5e423d0', 'head', { regex: '^[0-9a-f]{7,40}$' }],
    ['a path inside the project', `${PROJECT}/src/a.ts`, 'file', '${PROJECT}/src/a.ts'],
    [
      'text with a hash and the run id',
      '[main 5e423d0] wsgate commit 0c52e9ae',
      'result',
      { regex: '^\\[main [0-9a-f]{7,40}\\] wsgate commit ${RUN_ID}$' },
    ],
    [
      'text with an all-digit short hash',
      '[main 4021337] wsgate commit 0c52e9ae',
      'result',
      { regex: '^\\[main [0-9a-f]{7,40}\\] wsgate commit ${RUN_ID}$' },
    ],
    ['text holding ${ of its own', 'use ${HOME} here', 'result', { regex: '^use \\$\\{HOME\\} here$' }],
    ['stable text', 'Wrote 12 bytes to test.txt', 'result', 'Wrote 12 bytes to test.txt'],
    ['a stable small integer', 0, 'exitCode', 0],
    ['a counter', 3, 'messageCount', { type: 'number' }],
    ['tokens', 16, 'tokensUsed', { type: 'number' }],
    ['a plural noun counts', 11, 'sessions', { type: 'number' }],
    ['a measurement', 3.582, 'load', { type: 'number' }],
    ['epoch time', 1_764_357_451_000, 'when', { type: 'number' }],
    ['a stable list', ['.'], 'files', { equals: ['.'] }],
    ['a list of objects', [{ id: 1 }], 'sessions', { type: 'array' }],
    ['a boolean', false, 'hasContext', false],
  ];
  for (const [what, value, key, want] of cases) {
    test(`${what} → ${JSON.stringify(want)}`, () => {
      const m = leafMatcher(value, key, false, ctx());
      assert.deepEqual(m, want);
      assert.ok(holds(m, value), 'the inferred matcher passes on the recorded value');
    });
  }

  test('a number that took several values in the session varies, whatever its name', () => {
    assert.deepEqual(leafMatcher(7, 'code', true, ctx()), { type: 'number' });
    assert.equal(leafMatcher(7, 'code', false, ctx()), 7);
  });

  test('a capture is not used before the step after it, and a value the client sent stays literal', () => {
    assert.deepEqual(stringMatcher('11b5808d-9e5e-4908-b867-08c250685af8', 'sessionId', ctx({ step: 1 })), {
      format: 'uuid',
    });
    assert.equal(stringMatcher('sess-17', 'sessionId', ctx({ clientValues: new Set(['sess-17']) })), 'sess-17');
  });

  test('a short captured id is a variable as a whole value, never inside other text', () => {
    const c = ctx({ vars: [{ name: 'jobId', value: 'j42', from: 1 }] });
    assert.equal(stringMatcher('j42', 'jobId', c), '${jobId}');
    assert.equal(withVariables('j42', c), '${jobId}');
    assert.equal(stringMatcher('job j42 done', 'result', c), 'job j42 done');
  });

  test('sends keep their text and only name known values', () => {
    const c = ctx();
    assert.equal(withVariables(`Create ${PROJECT}/x.txt for 0c52e9ae`, c), 'Create ${PROJECT}/x.txt for ${RUN_ID}');
    assert.equal(c.stats.get('project'), 1);
    assert.equal(c.stats.get('run id'), 1);
    assert.equal(withVariables('no 5e423d0 pattern here', c), 'no 5e423d0 pattern here');
  });

  test('a project path with regex characters goes into a pattern as .+, not unescaped', () => {
    const c = ctx({ project: '/tmp/a+b (copy)' });
    const m = stringMatcher('/tmp/a+b (copy)/x at 2026-11-28T19:17:31Z', 'result', c);
    assert.deepEqual(m, { regex: '^.+/x at \\d{4}-\\d{2}-\\d{2}T[0-9:.]+(?:Z|[+-]\\d{2}:?\\d{2})?$' });
    assert.ok(holds(m, '/tmp/a+b (copy)/x at 2026-11-28T19:17:31Z', c));
  });
});

describe("machine detail, the client's numbers and its own ${", () => {
  test('a stack trace and a path of the recording machine are machine detail; a path inside the project and plain text are not', () => {
    assert.match(machineDetail('TypeError: x\n    at run (/srv/app/dist/a.js:10:5)', ctx()) ?? '', /stack trace/);
    assert.match(machineDetail('cannot open /var/lib/app/data.db', ctx()) ?? '', /absolute path/);
    assert.equal(machineDetail(`wrote ${PROJECT}/notes/a.txt`, ctx()), undefined);
    assert.equal(machineDetail('see ws://127.0.0.1:2022/trpc or notes/a.txt', ctx()), undefined);
  });
  test('a number the client sent stays literal even where it varies; others by the usual rules', () => {
    const c = ctx({ clientNumbers: new Set([3]) });
    assert.equal(numberMatcher(3, 'id', true, c), 3);
    assert.deepEqual(numberMatcher(4, 'id', false, c), { type: 'number' });
  });
  test("${ of the session's own text is written \\${, which a run reads back as the very text", () => {
    const text = 'token is ${env.AWS_SECRET_ACCESS_KEY}';
    assert.equal(escapeRefs(text), 'token is \\${env.AWS_SECRET_ACCESS_KEY}');
    assert.equal(
      substitute(escapeRefs(text), () => ({ found: true, value: 'LEAKED' })),
      text,
    );
  });
});
