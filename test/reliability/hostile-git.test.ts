// A project whose .git/config was written by a hostile server (the reference server's write_file
// reaches .git/): fsmonitor, hooks, pager, clean/smudge/process filters, diff drivers, all set to run
// a command. The harness's own `git status`/`log`/`rev-parse` must run none of them, and still read
// the project (not whatever GIT_DIR the caller's environment names).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTmp, writeGates, timedCli, assertNoStackTrace } from './helpers.ts';
import { readResult } from '../helpers/cli.ts';
import { closedPort } from '../helpers/servers.ts';
import { runProcess } from '../../lib/os/process.ts';
import { git } from './user-repo.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));
const tmp = (prefix?: string) => makeTmp(cleanups, prefix);

/** A committed repository, then a config that runs `touch MARKS/<name>` from every place git allows. */
async function plantedRepo(parent: string, marks: string): Promise<string> {
  const dir = path.join(parent, 'project');
  mkdirSync(dir);
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'config', 'user.name', 'U');
  await git(dir, 'config', 'user.email', 'u@example.com');
  writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
  writeFileSync(path.join(dir, 'b.md'), '# beta\n');
  writeFileSync(path.join(dir, '0.inc'), 'gamma\n');
  writeFileSync(path.join(dir, '.gitattributes'), '* filter=evil diff=evil\n*.md filter=Evil2\n*.inc filter=inc\n');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'project commit');
  const touch = (name: string) => `touch '${path.join(marks, name)}'`;
  const hooks = path.join(dir, '.git', 'evil-hooks');
  mkdirSync(hooks);
  for (const h of ['post-index-change', 'pre-commit', 'post-checkout', 'reference-transaction']) {
    writeFileSync(path.join(hooks, h), `#!/bin/sh\n${touch(`hook-${h}`)}\n`);
    chmodSync(path.join(hooks, h), 0o755);
  }
  writeFileSync(path.join(dir, '.git', 'included.cfg'), `[filter "inc"]\n\tclean = ${touch('filter-included')}; cat\n`);
  writeFileSync(
    path.join(dir, '.git', 'config'),
    (await import('node:fs')).readFileSync(path.join(dir, '.git', 'config'), 'utf8') +
      [
        '[core]',
        `\tfsmonitor = ${touch('fsmonitor')}; false`,
        '\thooksPath = .git/evil-hooks',
        `\tpager = ${touch('pager')}; cat`,
        '[pager]',
        `\tstatus = ${touch('pager-status')}; cat`,
        '[diff]',
        `\texternal = ${touch('diff-external')}`,
        '[filter "evil"]',
        `\tclean = ${touch('filter-clean')}; cat`,
        `\tsmudge = ${touch('filter-smudge')}; cat`,
        '[filter "Evil2"]',
        `\tprocess = ${touch('filter-process')}`,
        '[diff "evil"]',
        `\ttextconv = ${touch('textconv')}; cat`,
        `\tcommand = ${touch('diff-command')}`,
        '[include]',
        '\tpath = included.cfg',
        '',
      ].join('\n'),
  );
  // Newer mtimes than the index records: git must read (and so filter) the contents to compare.
  const later = new Date(Date.now() + 60_000);
  for (const f of ['a.txt', 'b.md', '0.inc']) utimesSync(path.join(dir, f), later, later);
  return dir;
}

const GATES = `version: 1
gates:
  - id: git-reads
    title: the harness reads git in a repository whose config runs commands
    steps:
      - verify: {git: {clean: true}}
      - verify: {git: {status: ""}}
      - verify: {git: {lastMessage: "project commit", headMoved: false}}
`;

describe('git run by the harness', () => {
  test('a planted .git/config runs nothing; the checks still read the real project', async () => {
    const base = tmp('wsgate-rel-git-');
    const marks = path.join(base, 'marks');
    mkdirSync(marks);
    const project = await plantedRepo(base, marks);

    // The plant works: plain git, as the harness used to call it, runs it (on a copy, so the copy's
    // refreshed index cannot spare the real run from reading the files).
    const control = path.join(base, 'control');
    cpSync(project, control, { recursive: true });
    await runProcess('git', ['status', '--porcelain=v1', '-z', '-uall'], { cwd: control, timeoutMs: 20_000 });
    const planted = readdirSync(marks).sort();
    assert.ok(
      planted.includes('fsmonitor') &&
        planted.includes('filter-clean') &&
        planted.includes('filter-process') &&
        planted.includes('filter-included'),
      `plain git status ran: ${planted.join(', ')}`,
    );
    for (const m of planted) rmSync(path.join(marks, m));

    // Another repository named by the caller's environment (as inside a git hook): it must be ignored.
    const other = path.join(base, 'other');
    mkdirSync(other);
    await git(other, 'init', '-q');
    await git(
      other,
      '-c',
      'user.name=O',
      '-c',
      'user.email=o@example.com',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'other commit',
    );
    writeFileSync(path.join(other, 'dirty.txt'), 'x');

    const port = await closedPort();
    const out = path.join(base, 'ev');
    const r = await timedCli(
      [`ws://127.0.0.1:${port}/ws`, project, '--gates', writeGates(base, GATES), '--no-pool', '--out', out],
      {
        env: {
          GIT_DIR: path.join(other, '.git'),
          GIT_WORK_TREE: other,
          GIT_INDEX_FILE: path.join(other, '.git', 'index'),
        },
      },
    );
    assertNoStackTrace(r.stdout + r.stderr);
    assert.deepEqual(readdirSync(marks), [], 'a command from the planted config ran');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const steps = readResult(out).gates[0]!.steps;
    assert.deepEqual(
      steps.map((s) => s.status),
      ['passed', 'passed', 'passed'],
    );
  });

  test('a file really changed still shows: blanking the filters does not hide changes', async () => {
    const base = tmp('wsgate-rel-git-');
    const marks = path.join(base, 'marks');
    mkdirSync(marks);
    const project = await plantedRepo(base, marks);
    writeFileSync(path.join(project, 'a.txt'), 'changed\n');
    const port = await closedPort();
    const out = path.join(base, 'ev');
    const r = await timedCli([
      `ws://127.0.0.1:${port}/ws`,
      project,
      '--gates',
      writeGates(base, GATES),
      '--no-pool',
      '--out',
      out,
    ]);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const check = readResult(out).gates[0]!.steps[0]!.checks[0]!;
    assert.equal(check.passed, false);
    assert.equal(check.actual, 'dirty: a.txt');
    assert.deepEqual(readdirSync(marks), []);
  });
});
