// scripts/flake.mjs: N runs of the real CLI, a summary with passes/failures, slowest and median,
// and each failed run with its first failure line; exit 1 when any run failed.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runProcess } from '../../lib/os/process.ts';
import { ROOT } from './helpers.ts';
import { closedPort } from '../helpers/servers.ts';

const kept: string[] = [];
after(() => kept.forEach((d) => rmSync(d, { recursive: true, force: true })));

const flake = (args: string[]) =>
  runProcess(process.execPath, [path.join(ROOT, 'scripts', 'flake.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    timeoutMs: 120_000,
  });

describe('scripts/flake.mjs', { concurrency: true }, () => {
  test('two passing runs: counts, median and slowest, exit 0, nothing left behind', async () => {
    const r = await flake(['--runs', '2', '--', '--gate', 'ping']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^run 1\/2 {2}pass {2}\d+\.\d\d s$/m);
    assert.match(r.stdout, /^run 2\/2 {2}pass/m);
    assert.match(r.stdout, /^flake: 2 runs: 2 passed, 0 failed$/m);
    assert.match(r.stdout, /^median \d+\.\d\d s · slowest \d+\.\d\d s \(run [12]\) · fastest/m);
    assert.doesNotMatch(r.stdout, /failures:|evidence kept/);
  });

  test('failing runs are listed with their first failure line, evidence kept, exit 1', async () => {
    const port = await closedPort();
    const r = await flake(['--runs', '2', '--', `ws://127.0.0.1:${port}/ws`, '--gate', 'ping']);
    const dir = /evidence kept in (\S+)/.exec(r.stdout)?.[1];
    if (dir) kept.push(dir);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^flake: 2 runs: 0 passed, 2 failed$/m);
    assert.match(r.stdout, /^failures:$/m);
    for (const i of [1, 2]) {
      assert.match(
        r.stdout,
        new RegExp(
          `^  run ${i} \\(exit 1, \\d+\\.\\d\\d s\\): first failure: gate ping, step "connect main" at gates\\.yaml:\\d+:\\d+$`,
          'm',
        ),
      );
    }
    assert.match(r.stdout, /REFUSED: connection refused/);
    assert.ok(dir && existsSync(path.join(dir, 'run-001', 'result.json')), 'the failed run keeps its evidence');
  });

  test('--expect fail with a hog beside: a caught fault counts as right, and the hog is gone after', async () => {
    const port = await closedPort();
    const r = await flake([
      '--runs',
      '1',
      '--hogs',
      '1',
      '--expect',
      'fail',
      '--',
      `ws://127.0.0.1:${port}/ws`,
      '--gate',
      'ping',
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /with 1 CPU hogs/);
    assert.match(r.stdout, /^flake: 1 run: 0 passed, 1 failed \(caught 1 of 1\) · 1 hogs beside them$/m);
    assert.doesNotMatch(r.stdout, /not caught:|evidence kept/);
    const left = spawnSync('pgrep', ['-f', 'for \\(;;\\) \\{\\}'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no hog outlives the script');
  });

  test('a bad --runs is a usage error', async () => {
    const r = await flake(['--runs', '0']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /--runs expects a whole number >= 1/);
  });
});
