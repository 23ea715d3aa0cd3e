import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jsonReporter } from '../../lib/reporters/json.ts';
import type { RunResult } from '../../lib/evidence/results.ts';
import { FAIL_GATES, FAULTS, PASS_GATES, tempDir, wsgateRun, type CliRun } from './helpers.ts';

describe('json reporter', () => {
  let pass: CliRun;
  let fail: CliRun;
  before(async () => {
    [pass, fail] = await Promise.all([
      // Default FILE: wsgate-result.json in the current folder (the scratch folder here).
      wsgateRun(() => [...PASS_GATES, '--reporter', 'json']),
      // `-`: the JSON alone on stdout, the console output moved to stderr.
      wsgateRun(() => [...FAIL_GATES, '--reporter', 'json:-'], { faults: FAULTS }),
    ]);
  });
  after(async () => {
    await pass?.cleanup();
    await fail?.cleanup();
  });

  test('a passing run: wsgate-result.json in the cwd is exactly result.json', async () => {
    assert.equal(pass.code, 0, pass.stderr);
    const text = await readFile(path.join(pass.dir, 'wsgate-result.json'), 'utf8');
    assert.equal(text, pass.resultText);
    const r = JSON.parse(text) as RunResult;
    assert.equal(r.schemaVersion, 1);
    assert.equal(r.status, 'passed');
    assert.deepEqual(r.gates.map((g) => g.id).sort(), ['ping', 'write-file']);
    assert.match(pass.stdout, /PASS/, 'the console reporter still prints to stdout');
  });

  test('a failing run with json:- prints only the JSON on stdout, equal to result.json', () => {
    assert.equal(fail.code, 1, fail.stderr);
    assert.equal(fail.stdout, fail.resultText);
    const r = JSON.parse(fail.stdout) as RunResult;
    assert.equal(r.status, 'failed');
    assert.ok(r.totals.checksFailed >= 1);
    assert.match(fail.stderr, /FAIL/, 'human output went to stderr');
  });

  test('odd data: an empty run and a huge value are written, a cyclic value does not throw', async () => {
    const dir = await tempDir();
    const empty = {
      schemaVersion: 1,
      runId: 'x',
      startedAt: '',
      ms: 0,
      url: '',
      project: '',
      gatesFile: '',
      status: 'passed',
      exitCode: 0,
      gates: [],
      totals: { gates: 0, passed: 0, failed: 0, pending: 0, skipped: 0, checks: 0, checksFailed: 0 },
      warnings: [],
    } satisfies RunResult;
    const file = path.join(dir, 'deep', 'er', 'r.json');
    await jsonReporter({ file, quiet: true, verbose: false, color: false, out: process.stdout }).onRunEnd!(empty, {
      runId: 'x',
      url: '',
      project: '',
      gatesFile: '',
      embedded: true,
      version: '0',
      gateCount: 0,
      evidenceDir: null,
    });
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), empty);
    const huge = { ...empty, warnings: ['x'.repeat(5_000_000)] };
    await jsonReporter({ file, quiet: true, verbose: false, color: false, out: process.stdout }).onRunEnd!(huge, {
      runId: 'x',
      url: '',
      project: '',
      gatesFile: '',
      embedded: true,
      version: '0',
      gateCount: 0,
      evidenceDir: null,
    });
    assert.equal((JSON.parse(await readFile(file, 'utf8')) as RunResult).warnings[0]!.length, 5_000_000);
    const cyclic: Record<string, unknown> = { ...empty };
    cyclic.self = cyclic;
    await jsonReporter({ file, quiet: true, verbose: false, color: false, out: process.stdout }).onRunEnd!(
      cyclic as unknown as RunResult,
      {
        runId: 'x',
        url: '',
        project: '',
        gatesFile: '',
        embedded: true,
        version: '0',
        gateCount: 0,
        evidenceDir: null,
        redact: (t) => t,
      },
    );
    assert.match(await readFile(file, 'utf8'), /could not be serialized|schemaVersion/);
  });
});
