import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { escapeData, escapeProperty, githubAnnotations } from '../../lib/reporters/github.ts';
import type { RunResult } from '../../lib/evidence/results.ts';
import { FAIL_GATES, FAULTS, PASS_GATES, ROOT, failedChecks, wsgateRun, type CliRun } from './helpers.ts';
import { whyFailed } from '../../lib/evidence/describe-failure.ts';

interface Annotation {
  kind: string;
  props: Record<string, string>;
  message: string;
}

const unescapeCommand = (s: string) =>
  s.replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

/** Parses `::kind k=v,k=v::message` lines the way the Actions runner does. */
function annotations(text: string): Annotation[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('::'))
    .map((l) => {
      const m = /^::(\w+) ([^:]*)::(.*)$/.exec(l);
      assert.ok(m, `malformed workflow command: ${l}`);
      const props: Record<string, string> = {};
      for (const kv of m[2]!.split(',')) {
        const i = kv.indexOf('=');
        props[kv.slice(0, i)] = unescapeCommand(kv.slice(i + 1));
      }
      return { kind: m[1]!, props, message: unescapeCommand(m[3]!) };
    });
}

describe('github reporter', () => {
  let fail: CliRun;
  let failFile: CliRun;
  let pass: CliRun;
  before(async () => {
    [fail, failFile, pass] = await Promise.all([
      // Run from a scratch folder: annotation paths are made relative to GITHUB_WORKSPACE.
      wsgateRun(() => [...FAIL_GATES, '--reporter', 'github'], {
        faults: FAULTS,
        env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: ROOT },
      }),
      // Run from the repository root: paths stay as the gates loader wrote them.
      wsgateRun((dir) => [...FAIL_GATES, '--reporter', `github:${path.join(dir, 'gh.txt')}`], {
        faults: FAULTS,
        cwd: ROOT,
      }),
      wsgateRun(() => [...PASS_GATES, '--reporter', 'github']),
    ]);
  });
  after(async () => {
    await Promise.all([fail?.cleanup(), failFile?.cleanup(), pass?.cleanup()]);
  });

  function expectErrors(list: Annotation[], r: RunResult): void {
    const failed = failedChecks(r);
    assert.ok(failed.length >= 1);
    const errors = list.filter((a) => a.kind === 'error');
    assert.equal(errors.length, failed.length);
    failed.forEach(({ gate, step, check }, i) => {
      const a = errors[i]!;
      assert.equal(
        path.resolve(ROOT, a.props.file!),
        path.resolve(r === fail.result ? fail.dir : ROOT, check.loc.file),
      );
      assert.equal(a.props.file, 'gates.yaml', 'relative to the repository root');
      assert.equal(a.props.line, String(check.loc.line));
      assert.equal(a.props.col, String(check.loc.col));
      assert.equal(a.props.title, `wsgate ${gate.id} › ${step.label}`);
      assert.ok(a.message.startsWith(check.name), a.message);
      assert.ok(
        a.message.includes(
          `expected: ${typeof check.expected === 'string' ? check.expected : JSON.stringify(check.expected)}`,
        ),
      );
      assert.ok(
        a.message.includes(
          `actual:   ${typeof check.actual === 'string' ? check.actual : JSON.stringify(check.actual)}`,
        ),
      );
      const why = whyFailed(check);
      if (why) assert.ok(a.message.includes(`why:      ${why}`), a.message);
    });
  }

  test('GITHUB_ACTIONS set: one ::error per failed check on stdout, at its gates.yaml line and column', () => {
    assert.equal(fail.code, 1, fail.stderr);
    expectErrors(annotations(fail.stdout), fail.result);
  });

  test('with FILE the annotations are written there even outside Actions, and not to stdout', async () => {
    assert.equal(failFile.code, 1, failFile.stderr);
    expectErrors(annotations(await readFile(path.join(failFile.dir, 'gh.txt'), 'utf8')), failFile.result);
    assert.deepEqual(annotations(failFile.stdout), []);
  });

  test('outside Actions without FILE, and for a passing run: no workflow commands at all', () => {
    assert.equal(pass.code, 0, pass.stderr);
    assert.doesNotMatch(pass.stdout, /^::/m);
  });

  test('escaping follows the workflow command rules', () => {
    assert.equal(escapeData('100% a\r\nb: c, d'), '100%25 a%0D%0Ab: c, d');
    assert.equal(escapeProperty('dir,x/a:b%\n'), 'dir%2Cx/a%3Ab%25%0A');
    const r: RunResult = {
      schemaVersion: 1,
      runId: 'r',
      startedAt: '',
      ms: 1,
      url: '',
      project: '',
      gatesFile: 'g.yaml',
      status: 'failed',
      exitCode: 1,
      warnings: ['w\n2'],
      totals: { gates: 1, passed: 0, failed: 1, pending: 0, skipped: 0, checks: 1, checksFailed: 1 },
      gates: [
        {
          id: 'g',
          title: '',
          status: 'failed',
          ms: 1,
          loc: { file: 'my dir,1/g:x.yaml', line: 1, col: 1 },
          steps: [
            {
              kind: 'k',
              label: 'a::b,c',
              status: 'failed',
              ms: 1,
              loc: { file: 'my dir,1/g:x.yaml', line: 2, col: 1 },
              checks: [
                {
                  name: 'n\n::error::fake',
                  expected: 'e%',
                  actual: 'x'.repeat(100_000),
                  passed: false,
                  loc: { file: 'my dir,1/g:x.yaml', line: 7, col: 9 },
                },
                {
                  name: 'soft',
                  expected: 1,
                  actual: 2,
                  passed: true,
                  warning: true,
                  loc: { file: 'my dir,1/g:x.yaml', line: 8, col: 2 },
                },
              ],
            },
          ],
        },
      ],
    };
    const lines = githubAnnotations(r);
    assert.equal(lines.length, 3, 'error, warning, run warning: one line each, newlines escaped');
    const [err, warn] = annotations(lines.join('\n'));
    assert.deepEqual(err!.props, { file: 'my dir,1/g:x.yaml', line: '7', col: '9', title: 'wsgate g › a::b,c' });
    assert.ok(err!.message.startsWith('n\n::error::fake\nexpected: e%'));
    assert.ok(lines[0]!.length < 5000, 'huge values are cut');
    assert.equal(warn!.kind, 'warning');
    assert.deepEqual(githubAnnotations({} as RunResult), []);
  });
});
