// The console reporter through the real CLI: a matcher's reason is shown beside expected and actual,
// steps that could not run are listed with why, and one defect that breaks many gates is summed up
// as one cause with the gates it broke.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { wsgateRun } from './helpers.ts';

describe('console reporter', { concurrency: true }, () => {
  test('failures are grouped by cause: a server that never sends tool_result', async () => {
    const r = await wsgateRun(() => [], { faults: ['no-tool-result'] });
    try {
      assert.equal(r.code, 1, r.stdout);
      const section = r.stdout.slice(r.stdout.indexOf('failures by cause'));
      assert.ok(r.stdout.includes('failures by cause'), r.stdout);
      const line = section.split('\n').find((l) => l.includes('ended the exchange without tool_result where tool="write_file"'));
      assert.ok(line, section);
      const count = Number(/: (\d+) gates/.exec(line)![1]);
      const expected = r.result.gates.filter((g) => g.steps.some((s) => s.checks.some((c) => !c.passed && c.cause?.includes('without tool_result where tool="write_file"')))).length;
      assert.ok(count >= 5 && count === expected, `${count} gates named, ${expected} in result.json`);
    } finally {
      await r.cleanup();
    }
  });

  test("a matcher's reason is shown beside expected and actual", async () => {
    const r = await wsgateRun(() => ['--gate', 'session-init'], { faults: ['bad-session-id'] });
    try {
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /✗ main: session_initialized\.sessionId[^\n]*\n\s+expected: \{"format":"uuid"\}\n\s+actual: +[^\n]+\n\s+why: +expected format uuid, got /);
    } finally {
      await r.cleanup();
    }
  });

  test('a step that cannot run is listed, saying which input is missing', async () => {
    const r = await wsgateRun(() => ['--gate', 'sessions'], { faults: ['no-session'] });
    try {
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /- send get_session +0 ms +\(not run: needs \$\{sessionId\}, which no earlier step of this gate set/);
      assert.match(r.stdout, /- send delete_session +0 ms +\(not run: needs \$\{sessionId\}/);
    } finally {
      await r.cleanup();
    }
  });
});
