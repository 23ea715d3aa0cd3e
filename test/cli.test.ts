// The real CLI end to end: the default job, a closed port, PATH handling, evidence placement.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closedPort } from './helpers/servers.ts';
import { runCli, tempDir, readResult, ROOT, SHARED_MACHINE } from './helpers/cli.ts';
import { runProcess } from '../lib/os/process.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));
function tmp(prefix?: string) {
  const t = tempDir(prefix);
  cleanups.push(t.remove);
  return t.path;
}

describe('wsgate run (real CLI)', { concurrency: true }, () => {
  test('./scripts/test-websocket.sh with no URL passes every default gate against the embedded server', async () => {
    const out = path.join(tmp(), 'ev');
    const r = await runProcess(path.join(ROOT, 'scripts', 'test-websocket.sh'), ['--out', out, ...SHARED_MACHINE], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      timeoutMs: 90_000,
    });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS {2}20 gates: 20 passed, 0 failed/);
    const result = readResult(out);
    assert.equal(result.gates.length, 20);
    // The temp project the harness created is gone afterwards.
    assert.equal(existsSync(result.project), false, 'temp project should be removed without --keep');
  });

  test('a closed port exits 1 within seconds, naming the connection check', async () => {
    const port = await closedPort();
    const started = performance.now();
    const r = await runCli([
      `ws://127.0.0.1:${port}/ws`,
      tmp(),
      '--gate',
      'connection',
      '--out',
      path.join(tmp(), 'ev'),
    ]);
    const ms = performance.now() - started;
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    // ~1 s on an idle machine; the bound only shows it does not wait out a long sleep or hang.
    assert.ok(ms < 20_000, `took ${ms} ms`);
    assert.match(r.stdout, /✗ connect main/);
    assert.match(r.stdout, /REFUSED: connection refused/);
    assert.match(r.stdout, /first failure: gate connection, step "connect main" at gates\.yaml:\d+:\d+/);
  });

  test('--list prints every gate id and title and runs nothing', async () => {
    const r = await runCli(['--list']);
    assert.equal(r.exitCode, 0);
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    assert.equal(ids.length, 20);
    assert.ok(ids.includes('write-file') && ids.includes('concurrency'));
  });

  test('a PATH that is not a repository is created, and git-initialised only when a gate checks git or --git-init asks', async () => {
    const parent = tmp();
    const project = path.join(parent, 'new-project');
    const r = await runCli([project, '--gate', 'write-file', ...SHARED_MACHINE, '--out', path.join(tmp(), 'ev')]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(existsSync(path.join(project, '.git')), false, 'write-file checks no git: no git init');
    assert.equal(readFileSync(path.join(project, 'test.txt'), 'utf8'), 'Test content');
    // A PATH the user gave is never removed.
    assert.ok(existsSync(project));
    const forced = path.join(parent, 'forced');
    const f = await runCli([
      forced,
      '--gate',
      'ping',
      '--git-init',
      ...SHARED_MACHINE,
      '--out',
      path.join(tmp(), 'ev'),
    ]);
    assert.equal(f.exitCode, 0, f.stdout + f.stderr);
    assert.ok(existsSync(path.join(forced, '.git')), '--git-init ran git init');
    const withGit = path.join(parent, 'with-git');
    const g = await runCli([withGit, '--gate', 'git-commit', ...SHARED_MACHINE, '--out', path.join(tmp(), 'ev')]);
    assert.equal(g.exitCode, 0, g.stdout + g.stderr);
    assert.ok(existsSync(path.join(withGit, '.git')), 'a gate with git checks: git init ran');
    assert.equal(
      (await runProcess('git', ['config', 'user.email'], { cwd: withGit })).stdout.trim(),
      'wsgate@localhost',
    );
  });

  test('a single ws:// argument is the URL; an http:// one is a usage error', async () => {
    const r = await runCli(['http://127.0.0.1:1/ws']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /URL must start with ws:\/\/ or wss:\/\//);
  });

  test('PATH of / or the home directory is refused with exit 2', async () => {
    for (const p of ['/', os.homedir()]) {
      const r = await runCli([p, '--gate', 'connection']);
      assert.equal(r.exitCode, 2, `${p}: ${r.stderr}`);
      assert.match(r.stderr, /refusing to use/);
    }
  });

  test('--out inside PATH is refused; the default evidence folder lands outside PATH', async () => {
    const project = tmp();
    const r = await runCli([project, '--gate', 'ping', '--out', path.join(project, 'ev')]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /inside the project folder/);
    const cwd = tmp();
    const ok = await runCli([project, '--gate', 'ping', ...SHARED_MACHINE], { cwd });
    assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
    const runs = readdirSync(path.join(cwd, '.wsgate', 'runs'));
    assert.equal(runs.length, 1);
    assert.ok(existsSync(path.join(cwd, '.wsgate', 'runs', runs[0]!, 'manifest.json')));
    const status = await runProcess('git', ['status', '--porcelain'], { cwd: project });
    assert.equal(status.stdout, '', 'evidence must not show up in the project git status');
  });

  test('--keep keeps the temp project folder', async () => {
    const out = path.join(tmp(), 'ev');
    const r = await runCli(['--gate', 'ping', ...SHARED_MACHINE, '--keep', '--out', out]);
    assert.equal(r.exitCode, 0);
    const project = readResult(out).project;
    cleanups.push(() => rmSync(project, { recursive: true, force: true }));
    assert.ok(existsSync(project));
  });

  test('--bail skips the gates after the first failure', async () => {
    const port = await closedPort();
    const out = path.join(tmp(), 'ev');
    const r = await runCli([`ws://127.0.0.1:${port}/ws`, tmp(), '--bail', '--out', out]);
    assert.equal(r.exitCode, 1);
    const res = readResult(out);
    assert.equal(res.gates[0]!.status, 'failed');
    assert.ok(
      res.gates
        .slice(1)
        .filter((g) => g.steps.some((s) => s.kind === 'connect'))
        .every((g) => g.status === 'skipped'),
    );
  });

  test('--version and --help exit 0', async () => {
    const v = await runCli(['--version']);
    assert.equal(v.exitCode, 0);
    assert.match(v.stdout, /^wsgate \d+\.\d+\.\d+ \(wscat 6\./);
    const h = await runCli(['--help']);
    assert.equal(h.exitCode, 0);
    assert.match(h.stdout, /exit codes: 0 no check failed/);
    assert.match(h.stdout, /4 a gate was not checked and --require-checked is set/);
  });

  test('an unknown --gate id is a usage error with a suggestion', async () => {
    const r = await runCli(['--gate', 'writefile']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /did you mean "write-file"/);
  });

  test('an unknown --skip-gate id is a usage error with a suggestion; nothing runs', async () => {
    const r = await runCli(['--skip-gate', 'list-file']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /--skip-gate list-file: no such gate in gates\.yaml/);
    assert.match(r.stderr, /did you mean "list-files"/);
  });

  test('--skip-gate leaves a gate out, and the gates that need it, and the summary says so', async () => {
    const out = path.join(tmp(), 'ev');
    const r = await runCli([
      '--gate',
      'ping',
      '--gate',
      'error-recovery',
      '--gate',
      'health',
      '--skip-gate',
      'ping',
      '--skip-gate',
      'health',
      ...SHARED_MACHINE,
      '--out',
      out,
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = readResult(out);
    assert.deepEqual(
      result.gates.map((g) => [g.id, g.status, g.note]),
      [
        ['ping', 'skipped', 'left out by --skip-gate'],
        ['health', 'skipped', 'left out by --skip-gate'],
        ['error-recovery', 'skipped', 'needs ping, which did not run (left out by --skip-gate)'],
      ],
    );
    assert.match(r.stdout, /left out by --skip-gate: ping, health/);
    assert.match(r.stdout, /0 passed, 0 failed, 3 skipped/);
  });

  test('a user gates file with a variable from --var', async () => {
    const dir = tmp();
    const file = path.join(dir, 'g.yaml');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      file,
      'version: 1\ngates:\n  - id: v\n    title: var\n    steps:\n      - run: ["sh", "-c", "test \\"$0\\" = ok", "${WHO}"]\n',
    );
    const ok = await runCli(['--gates', file, '--var', 'WHO=ok', tmp(), '--out', path.join(tmp(), 'ev')]);
    assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
    const bad = await runCli(['--gates', file, '--var', 'WHO=no', tmp(), '--out', path.join(tmp(), 'ev')]);
    assert.equal(bad.exitCode, 1);
    const missing = await runCli(['--gates', file, tmp()]);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /g\.yaml:6:\d+: .*unknown variable \$\{WHO\}/);
  });
});
