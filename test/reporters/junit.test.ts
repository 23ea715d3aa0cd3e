import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { junitXml } from '../../lib/reporters/junit.ts';
import type { RunResult } from '../../lib/evidence/results.ts';
import { formatLoc } from '../../lib/loc.ts';
import { FAIL_GATES, FAULTS, PASS_GATES, failedChecks, wsgateRun, type CliRun } from './helpers.ts';
import { whyFailed } from '../../lib/evidence/describe-failure.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  textNodeName: '#text',
  isArray: (name, _path, _leaf, isAttribute) =>
    !isAttribute && ['testsuite', 'testcase', 'property', 'failure', 'skipped'].includes(name),
});

type Attrs = Record<string, string>;
type Case = Attrs & { failure?: (Attrs & { '#text'?: string })[]; skipped?: Attrs[] };
type Suite = Attrs & { testcase?: Case[]; properties?: { property: Attrs[] } };
type Doc = { testsuites: Attrs & { testsuite?: Suite[] } };

function parse(xml: string): Doc {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `not well-formed XML: ${JSON.stringify(valid)}`);
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites /);
  return parser.parse(xml) as Doc;
}

/** The structure and counts must match result.json, gate by gate and step by step. */
function checkAgainst(doc: Doc, r: RunResult): void {
  const suites = doc.testsuites.testsuite ?? [];
  assert.equal(suites.length, r.gates.length);
  const steps = r.gates.flatMap((g) => g.steps);
  assert.equal(doc.testsuites.tests, String(steps.length));
  assert.equal(doc.testsuites.failures, String(steps.filter((s) => s.status === 'failed').length));
  assert.equal(doc.testsuites.errors, '0');
  assert.equal(
    Object.hasOwn(doc.testsuites, 'skipped'),
    false,
    'junit-10.xsd allows no skipped attribute on <testsuites>',
  );
  r.gates.forEach((g, i) => {
    const s = suites[i]!;
    assert.equal(s.name, g.id);
    assert.equal(s.id, g.id);
    assert.equal(s.tests, String(g.steps.length));
    assert.equal(s.failures, String(g.steps.filter((x) => x.status === 'failed').length));
    assert.equal(s.skipped, String(g.steps.filter((x) => x.status === 'skipped' || x.status === 'pending').length));
    assert.equal(s.errors, '0');
    assert.match(s.time!, /^\d+\.\d{3}$/);
    assert.equal(Number(s.time), Number((g.ms / 1000).toFixed(3)));
    const cases = s.testcase ?? [];
    assert.equal(cases.length, g.steps.length);
    g.steps.forEach((step, j) => {
      const c = cases[j]!;
      assert.equal(c.classname, g.id);
      assert.equal(c.name, step.label);
      assert.equal(Number(c.time), Number((step.ms / 1000).toFixed(3)));
      assert.equal(Boolean(c.failure), step.status === 'failed', `${g.id} / ${step.label}: <failure> iff failed`);
      assert.equal(
        Boolean(c.skipped),
        step.status === 'skipped' || step.status === 'pending',
        `${g.id} / ${step.label}: <skipped> iff skipped or pending`,
      );
      if (c.skipped) assert.ok(c.skipped[0]!.message, 'a skipped step says why');
    });
  });
}

describe('junit reporter', () => {
  let pass: CliRun;
  let fail: CliRun;
  before(async () => {
    [pass, fail] = await Promise.all([
      wsgateRun(() => [...PASS_GATES, '--reporter', 'junit']),
      wsgateRun((dir) => [...FAIL_GATES, '--reporter', `junit:${path.join(dir, 'reports', 'junit.xml')}`], {
        faults: FAULTS,
      }),
    ]);
  });
  after(async () => {
    await pass?.cleanup();
    await fail?.cleanup();
  });

  test('a passing run: wsgate-junit.xml in the cwd, one suite per gate, one case per step, no failures', async () => {
    assert.equal(pass.code, 0, pass.stderr);
    const doc = parse(await readFile(path.join(pass.dir, 'wsgate-junit.xml'), 'utf8'));
    checkAgainst(doc, pass.result);
    assert.equal(doc.testsuites.failures, '0');
  });

  test('a failing run: <failure> lists each failed check with file:line:col, expected and actual', async () => {
    assert.equal(fail.code, 1, fail.stderr);
    const doc = parse(await readFile(path.join(fail.dir, 'reports', 'junit.xml'), 'utf8'));
    checkAgainst(doc, fail.result);
    const failed = failedChecks(fail.result);
    assert.ok(failed.length >= 1);
    for (const { gate, step, check } of failed) {
      const suite = doc.testsuites.testsuite!.find((s) => s.name === gate.id)!;
      const tc = suite.testcase!.find((c) => c.name === step.label)!;
      const f = tc.failure![0]!;
      assert.ok(f.type, 'failure has a type');
      assert.ok(f.message!.includes(check.name), `message names the check: ${f.message}`);
      const text = f['#text']!;
      assert.ok(text.includes(check.name), text);
      assert.ok(text.includes(formatLoc(check.loc)), `text has ${formatLoc(check.loc)}: ${text}`);
      assert.ok(
        text.includes(
          `expected: ${typeof check.expected === 'string' ? check.expected : JSON.stringify(check.expected)}`,
        ),
        text,
      );
      assert.ok(
        text.includes(`actual:   ${typeof check.actual === 'string' ? check.actual : JSON.stringify(check.actual)}`),
        text,
      );
      const why = whyFailed(check);
      if (why) assert.ok(text.includes(`why:      ${why}`), text);
    }
    assert.ok(
      failed.some(({ check }) => check.failure),
      'the failed checks carry typed failures',
    );
  });

  test('odd data: illegal XML characters, markup and quotes in names stay well-formed; an empty run is valid', () => {
    const nasty = 'a\u0000b\u0001c\u000bd\ufffe <x a="1"> & \'q\' ]]> \ud800 é 😀\ttab\nline';
    const r: RunResult = {
      schemaVersion: 1,
      runId: 'r1',
      startedAt: '2024-01-02T03:04:05.678Z',
      ms: 1234,
      url: 'ws://x',
      project: '/p',
      gatesFile: 'g.yaml',
      status: 'failed',
      exitCode: 1,
      warnings: [],
      totals: { gates: 1, passed: 0, failed: 1, pending: 0, skipped: 0, checks: 1, checksFailed: 1 },
      gates: [
        {
          id: `g${nasty}`,
          title: nasty,
          status: 'failed',
          ms: 5,
          loc: { file: 'g.yaml', line: 1, col: 1 },
          steps: [
            {
              kind: 'send',
              label: nasty,
              status: 'failed',
              ms: 5,
              loc: { file: 'g.yaml', line: 2, col: 3 },
              checks: [
                {
                  name: nasty,
                  expected: { deep: nasty },
                  actual: nasty.repeat(10_000),
                  passed: false,
                  loc: { file: 'g.yaml', line: 4, col: 5 },
                },
              ],
              lastMessages: [{ conn: 'main', seq: 1, at: 0, text: nasty }],
            },
            {
              kind: 'manual',
              label: 'look',
              status: 'pending',
              ms: 0,
              loc: { file: 'g.yaml', line: 9, col: 3 },
              checks: [],
            },
          ],
        },
      ],
    };
    const doc = parse(junitXml(r));
    const tc = doc.testsuites.testsuite![0]!.testcase!;
    assert.ok(
      tc[0]!.name!.includes('\\u0000b\\u0001c\\u000bd\\ufffe <x a="1"> & \'q\' ]]> \\ud800 é 😀\ttab\nline'),
      JSON.stringify(tc[0]!.name),
    );
    assert.equal(doc.testsuites.testsuite![0]!.skipped, '1');
    assert.match(tc[1]!.skipped![0]!.message!, /pending/);
    const empty = parse(junitXml({ ...r, gates: [], totals: { ...r.totals, gates: 0 } }));
    assert.equal(empty.testsuites.tests, '0');
    assert.doesNotThrow(() => junitXml({} as RunResult));
  });
});
