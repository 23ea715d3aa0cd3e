// The console reporter through the real CLI: a matcher's reason is shown beside expected and actual,
// steps that could not run are listed with why, and one defect that breaks many gates is summed up
// as one cause with the gates it broke.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { wsgateRun } from './helpers.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { failuresByCause } from '../../lib/reporters/console.ts';
import type { CheckResult, Failure, GateResult } from '../../lib/evidence/results.ts';

const loc = { file: 'gates.yaml', line: 1, col: 1 };
const failedCheck = (name: string, failure?: Failure): CheckResult => ({
  name,
  expected: 'x',
  actual: 'y',
  passed: false,
  loc,
  ...(failure ? { failure } : {}),
});
const gate = (id: string, checks: CheckResult[]): GateResult => ({
  id,
  title: id,
  status: 'failed',
  ms: 1,
  loc,
  steps: [{ kind: 'send', label: 'send x', status: 'failed', checks, ms: 1, loc }],
});

describe('console reporter', { concurrency: true }, () => {
  test('failures are grouped by cause: a server that never sends tool_result', async () => {
    const r = await wsgateRun(() => [], { faults: ['no-tool-result'] });
    try {
      assert.equal(r.code, 1, r.stdout);
      const section = r.stdout.slice(r.stdout.indexOf('failures by cause'));
      assert.ok(r.stdout.includes('failures by cause'), r.stdout);
      const line = section
        .split('\n')
        .find((l) => l.includes('ended the exchange without tool_result where tool="write_file"'));
      assert.ok(line, section);
      const count = Number(/: (\d+) gates/.exec(line)![1]);
      const late = (f: Failure | undefined) => f?.kind === 'late' && f.what === 'tool_result where tool="write_file"';
      const expected = r.result.gates.filter((g) =>
        g.steps.some((s) => s.checks.some((c) => !c.passed && late(c.failure))),
      ).length;
      assert.ok(count >= 5 && count === expected, `${count} gates named, ${expected} in result.json`);
    } finally {
      await r.cleanup();
    }
  });

  test('failures by cause group by kind and subject, with whole field paths, never by the words of a name', () => {
    const groups = failuresByCause([
      gate('a', [
        failedCheck('main: no error while the step ran', { kind: 'forbidden', what: 'error' }),
        failedCheck('main: error.data.code', { kind: 'field', field: 'error.data.code', expected: 'BAD_REQUEST' }),
      ]),
      gate('b', [
        failedCheck('other: no error while the step ran', { kind: 'forbidden', what: 'error' }),
        failedCheck('main: tool_result.error', {
          kind: 'field',
          field: 'tool_result.error',
          expected: { absent: true },
        }),
      ]),
      gate('c', [
        failedCheck('main: tool_result before message_complete', {
          kind: 'order',
          first: 'tool_result',
          then: 'message_complete',
        }),
        failedCheck('an old check with no kind'),
      ]),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.kind, g.subject, g.cause, g.gates]),
      [
        ['forbidden', 'error', 'error arrived', ['a', 'b']],
        ['field', 'error.data.code', 'error.data.code: expected "BAD_REQUEST"', ['a']],
        ['field', 'tool_result.error', 'tool_result.error: expected absent', ['b']],
        ['order', 'message_complete before tool_result', 'message_complete arrived before tool_result', ['c']],
        ['check', 'an old check with no kind', 'an old check with no kind', ['c']],
      ],
    );
  });

  test("a matcher's reason is shown beside expected and actual", async () => {
    const r = await wsgateRun(() => ['--gate', 'session-init'], { faults: ['bad-session-id'] });
    try {
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stdout,
        /✗ main: session_initialized\.sessionId[^\n]*\n {10}\d+ \| +sessionId: \{format: uuid\}\n {10} +\| +\^\n\s+expected: \{"format":"uuid"\}\n\s+actual: +[^\n]+\n\s+why: +expected format uuid, got /,
      );
      // The caret stands under the matcher the check's location names.
      const frame = /\n {10}(\d+) \| ( +sessionId: .*)\n {10}( +)\| ( *)\^/.exec(r.stdout)!;
      assert.equal(frame[4]!.length, frame[2]!.indexOf('{format'));
    } finally {
      await r.cleanup();
    }
  });

  test('a long file that failed its content check shows the part that changed, in both expected and actual', async (t) => {
    const dir = tempDir('wsgate-console-window-');
    t.after(() => dir.remove());
    const lines = Array.from({ length: 200 }, (_, i) => `entry ${i + 1}`);
    const text = `${lines.join('\n')}\n`;
    mkdirSync(path.join(dir.path, 'project'));
    writeFileSync(path.join(dir.path, 'project', 'log.txt'), text);
    writeFileSync(path.join(dir.path, 'project', 'mid.txt'), text);
    // The commands play the server: one appends two lines, one changes line 150.
    const change =
      "require('fs').writeFileSync('mid.txt', require('fs').readFileSync('mid.txt', 'utf8').replace('entry 150\\n', 'entry 150 CHANGED\\n'))";
    const gates = `version: 1\ngates:\n  - id: window\n    title: long files\n    steps:\n      - run: [sh, -c, "printf 'appended one\\nappended two\\n' >> log.txt"]\n      - run: [node, -e, ${JSON.stringify(change)}]\n      - verify: {file: log.txt, content: ${JSON.stringify(text)}}\n      - verify: {file: mid.txt, content: ${JSON.stringify(text)}}\n`;
    writeFileSync(path.join(dir.path, 'gates.yaml'), gates);
    const r = await runCli([
      'run',
      'ws://127.0.0.1:9/unused',
      path.join(dir.path, 'project'),
      '--gates',
      path.join(dir.path, 'gates.yaml'),
      '--out',
      path.join(dir.path, 'ev'),
      '--no-color',
    ]);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const appended = r.stdout.slice(r.stdout.indexOf('✗ log.txt content'), r.stdout.indexOf('✗ verify file mid.txt'));
    assert.match(
      appended,
      /actual: {3}… \d+ lines before \(the first difference is on line 201\)\n(?: {10}entry \d+\n)+ {10}appended one\n {10}appended two\n/,
      appended,
    );
    assert.doesNotMatch(appended, /entry 1\n/, 'not the first lines');
    const mid = r.stdout.slice(r.stdout.indexOf('✗ mid.txt content'));
    assert.match(
      mid,
      /expected: … 145 lines before \(the first difference is on line 150\)\n {10}entry 146\n[\s\S]*\n {10}entry 150\n/,
      mid,
    );
    assert.match(
      mid,
      /actual: {3}… 145 lines before \(the first difference is on line 150\)\n {10}entry 146\n[\s\S]*\n {10}entry 150 CHANGED\n[\s\S]*… 36 more lines/,
      mid,
    );
  });

  test('a step that cannot run is listed, saying which input is missing', async () => {
    const r = await wsgateRun(() => ['--gate', 'sessions'], { faults: ['no-session'] });
    try {
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stdout,
        /- send get_session +0 ms +\(not run: needs \$\{sessionId\}, which no earlier step of this gate set/,
      );
      assert.match(r.stdout, /- send delete_session +0 ms +\(not run: needs \$\{sessionId\}/);
    } finally {
      await r.cleanup();
    }
  });
});
