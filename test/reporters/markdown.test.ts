import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { markdownSummary } from '../../lib/reporters/markdown.ts';
import type { RunResult } from '../../lib/evidence/results.ts';
import { FAIL_GATES, FAULTS, PASS_GATES, failedChecks, tempDir, wsgateRun, type CliRun } from './helpers.ts';
import { whyFailed } from '../../lib/evidence/describe-failure.ts';

/** Markdown text as it reads once backslash escapes and entities are resolved. */
const plain = (md: string) =>
  md
    .replace(/\\([\\`*_{}[\]()#+!|~])/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

function tableRows(md: string, header: RegExp): string[][] {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => header.test(l));
  assert.ok(start >= 0, `no table with header ${header}`);
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe('markdown reporter', () => {
  let pass: CliRun;
  let fail: CliRun;
  let summaryFile: string;
  let scratch: string;
  before(async () => {
    scratch = await tempDir();
    summaryFile = path.join(scratch, 'step-summary.md');
    await writeFile(summaryFile, 'earlier step output\n');
    [pass, fail] = await Promise.all([
      wsgateRun(() => [...PASS_GATES, '--reporter', 'markdown']),
      wsgateRun((dir) => [...FAIL_GATES, '--reporter', `markdown:${path.join(dir, 'summary.md')}`], {
        faults: FAULTS,
        env: { GITHUB_STEP_SUMMARY: summaryFile },
      }),
    ]);
  });
  after(async () => {
    await pass?.cleanup();
    await fail?.cleanup();
  });

  test('a passing run: wsgate-summary.md in the cwd has one passed row per gate and no failures section', async () => {
    assert.equal(pass.code, 0, pass.stderr);
    const md = await readFile(path.join(pass.dir, 'wsgate-summary.md'), 'utf8');
    assert.match(md, /^## wsgate ✅ PASS/);
    const rows = tableRows(md, /^\| Gate \| Status \| Steps passed \| ms \|$/);
    assert.equal(rows.length, pass.result.gates.length);
    for (const g of pass.result.gates) {
      const row = rows.find((r) => plain(r[0]!).startsWith(`**${g.id}**`));
      assert.ok(row, `row for ${g.id}`);
      assert.match(row[1]!, /passed/);
      assert.equal(row[2], `${g.steps.length}/${g.steps.length}`);
      assert.equal(row[3], String(g.ms));
    }
    assert.doesNotMatch(md, /### Failures/);
    const budgets = pass.result.gates.flatMap((g) =>
      g.steps.flatMap((s) => (s.timings ?? []).filter((t) => t.budgetMs !== undefined)),
    );
    if (budgets.length)
      assert.equal(
        tableRows(md, /^\| Gate \| Timing \| Measured ms \| Budget ms \| Result \|$/).length,
        budgets.length,
      );
  });

  test('a failing run: the failed gate, the check with expected/actual, appended to $GITHUB_STEP_SUMMARY', async () => {
    assert.equal(fail.code, 1, fail.stderr);
    const md = await readFile(path.join(fail.dir, 'summary.md'), 'utf8');
    assert.match(md, /^## wsgate ❌ FAIL/);
    const failed = failedChecks(fail.result);
    assert.ok(failed.length >= 1);
    const text = plain(md);
    const failures = text.slice(text.indexOf('### Failures'));
    assert.ok(text.includes('### Failures'));
    for (const { gate, step, check } of failed) {
      assert.ok(failures.includes(`#### ${gate.id} › ${step.label}`), `heading for ${gate.id} / ${step.label}`);
      assert.ok(
        failures.includes(`**${check.name}** at \`${check.loc.file}:${check.loc.line}:${check.loc.col}\``),
        `check ${check.name}`,
      );
      assert.ok(
        failures.includes(
          `expected: ${typeof check.expected === 'string' ? check.expected : JSON.stringify(check.expected)}`,
        ),
      );
      assert.ok(
        failures.includes(
          `actual:   ${typeof check.actual === 'string' ? check.actual : JSON.stringify(check.actual)}`,
        ),
      );
      const why = whyFailed(check);
      if (why) assert.ok(failures.includes(`why:      ${why}`), `why of ${check.name}`);
      const row = tableRows(md, /^\| Gate \| Status/).find((r) => plain(r[0]!).startsWith(`**${gate.id}**`));
      assert.match(row![1]!, /failed/);
    }
    const summary = await readFile(summaryFile, 'utf8');
    assert.equal(summary, `earlier step output\n${md}\n`);
  });

  test('odd data: markup in server text is escaped, huge values are cut, an empty run still renders', () => {
    const evil = '<img src=x onerror=alert(1)> | `code` **bold** [link](http://x)\n# heading';
    const r: RunResult = {
      schemaVersion: 1,
      runId: 'r',
      startedAt: '',
      ms: 1,
      url: 'ws://x',
      project: '',
      gatesFile: 'g.yaml',
      status: 'failed',
      exitCode: 1,
      warnings: [evil],
      totals: { gates: 1, passed: 0, failed: 1, pending: 0, skipped: 0, checks: 1, checksFailed: 1 },
      gates: [
        {
          id: 'g|1',
          title: evil,
          status: 'failed',
          ms: 1,
          loc: { file: 'g.yaml', line: 1, col: 1 },
          steps: [
            {
              kind: 'send',
              label: evil,
              status: 'failed',
              ms: 1,
              loc: { file: 'g.yaml', line: 2, col: 1 },
              checks: [
                {
                  name: evil,
                  expected: '```',
                  actual: 'y'.repeat(2_000_000),
                  passed: false,
                  loc: { file: 'g.yaml', line: 3, col: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    const md = markdownSummary(r);
    assert.doesNotMatch(md, /<img/);
    assert.ok(md.length < 100_000, `cut: ${md.length}`);
    const rows = tableRows(md, /^\| Gate \| Status/);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.length, 4, 'a | in an id does not split the cell');
    assert.match(md, /````\n {2}expected: ```/, 'a fence longer than the backticks inside');
    assert.match(markdownSummary({ ...r, gates: [] }), /No gates were run/);
    assert.doesNotThrow(() => markdownSummary({} as RunResult));
  });
});
