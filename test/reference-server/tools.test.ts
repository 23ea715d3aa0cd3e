import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runTool } from '../../reference-server/tools/run.ts';
import type { ToolContext } from '../../reference-server/tools/types.ts';
import { git, makeRepo, removeDirs, tempDir } from './helpers.ts';

describe('tools on a real project folder', () => {
  let project: string;
  let outside: string;
  let ctx: ToolContext;

  before(async () => {
    project = await makeRepo();
    outside = await tempDir('wsgate-rs-outside-');
    await fs.writeFile(path.join(outside, 'secret.txt'), 'secret');
    ctx = { projectPath: project, execTimeoutMs: 30_000 };
  });
  after(() => removeDirs(project, outside));

  test('write_file creates parent folders and writes the exact bytes', async () => {
    const outcome = await runTool(ctx, 'write_file', { path: 'deep/er/x.txt', content: 'héllo\n' });
    assert.deepEqual(outcome, { ok: true, result: 'Wrote 7 bytes to deep/er/x.txt' });
    assert.equal(await fs.readFile(path.join(project, 'deep/er/x.txt'), 'utf8'), 'héllo\n');
  });

  test('read_file returns the content, and a missing file is a tool error', async () => {
    await fs.writeFile(path.join(project, 'r.txt'), 'read me');
    assert.deepEqual(await runTool(ctx, 'read_file', { path: 'r.txt' }), { ok: true, result: 'read me' });
    assert.deepEqual(await runTool(ctx, 'read_file', { path: 'nope.txt' }), {
      ok: false,
      error: 'File not found: nope.txt',
    });
  });

  test('list_files is sorted, marks folders with / and hides .git', async () => {
    const dir = path.join(project, 'listing');
    await fs.mkdir(path.join(dir, 'sub'), { recursive: true });
    await fs.writeFile(path.join(dir, 'b.txt'), '');
    await fs.writeFile(path.join(dir, 'a.txt'), '');
    await fs.writeFile(path.join(dir, 'sub', 'c.txt'), '');
    assert.deepEqual(await runTool(ctx, 'list_files', { path: 'listing' }), { ok: true, result: 'a.txt\nb.txt\nsub/' });
    const recursive = await runTool(ctx, 'list_files', { path: 'listing', recursive: true });
    assert.deepEqual(recursive, { ok: true, result: 'a.txt\nb.txt\nsub/\nsub/c.txt' });
    const root = await runTool(ctx, 'list_files', {});
    assert.ok(root.ok && !root.result.split('\n').includes('.git/'));
  });

  test('search_files reports path:line:text', async () => {
    await fs.mkdir(path.join(project, 'src'), { recursive: true });
    await fs.writeFile(path.join(project, 'src', 'm.ts'), 'one\n// TODO fix (this)\nthree\n');
    assert.deepEqual(await runTool(ctx, 'search_files', { pattern: 'TODO fix (', path: 'src' }), {
      ok: true,
      result: 'src/m.ts:2:// TODO fix (this)',
    });
  });

  test('execute_command runs in the project and reports a non-zero exit', async () => {
    const outcome = await runTool(ctx, 'execute_command', { command: 'pwd; echo oops >&2; exit 3' });
    assert.deepEqual(outcome, { ok: true, result: `${project}\noops\nexit code 3` });
  });

  test('execute_command gets a minimal environment: a CI token of the caller is not visible', async () => {
    const secret = `ghp_${Math.random().toString(36).slice(2)}${Date.now()}`;
    process.env.WSGATE_TEST_CI_TOKEN = secret;
    try {
      const outcome = await runTool(ctx, 'execute_command', { command: 'env' });
      assert.equal(outcome.ok, true);
      const names = (outcome.ok ? outcome.result : '')
        .split('\n')
        .map((l) => l.split('=')[0])
        .filter(Boolean);
      assert.ok(!(outcome.ok && outcome.result.includes(secret)), 'the token is not in the command environment');
      assert.ok(names.includes('PATH') && names.includes('HOME'), names.join(','));
      // The control: the same variable is visible to a child that inherits the whole environment.
      assert.match(execFileSync('sh', ['-c', 'env'], { encoding: 'utf8' }), new RegExp(secret));
    } finally {
      delete process.env.WSGATE_TEST_CI_TOKEN;
    }
  });

  test('search_files does not follow a symlink out of the project', async () => {
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(project, 'looks-local.txt'));
    await fs.symlink(outside, path.join(project, 'outside-dir'));
    try {
      assert.deepEqual(await runTool(ctx, 'search_files', { pattern: 'secret' }), { ok: true, result: '' });
      assert.deepEqual(await runTool(ctx, 'search_files', { pattern: 'secret', path: 'looks-local.txt' }), {
        ok: false,
        error: 'Permission denied: looks-local.txt',
      });
      assert.deepEqual(await runTool(ctx, 'search_files', { pattern: 'secret', path: 'outside-dir' }), {
        ok: false,
        error: 'Permission denied: outside-dir',
      });
      assert.deepEqual(await runTool(ctx, 'read_file', { path: 'looks-local.txt' }), {
        ok: false,
        error: 'Permission denied: looks-local.txt',
      });
      assert.deepEqual(await runTool(ctx, 'list_files', { path: 'outside-dir' }), {
        ok: false,
        error: 'Permission denied: outside-dir',
      });
      // A link that stays inside is followed.
      await fs.writeFile(path.join(project, 'inner.txt'), 'secret inside\n');
      await fs.symlink(path.join(project, 'inner.txt'), path.join(project, 'inner-link.txt'));
      const inner = await runTool(ctx, 'search_files', { pattern: 'secret inside' });
      assert.deepEqual(inner, { ok: true, result: 'inner-link.txt:1:secret inside\ninner.txt:1:secret inside' });
    } finally {
      await Promise.all(
        ['looks-local.txt', 'outside-dir', 'inner.txt', 'inner-link.txt'].map((f) =>
          fs.rm(path.join(project, f), { force: true }),
        ),
      );
    }
  });

  test('list_files patterns are shell wildcards matched without backtracking blow-up', async () => {
    const dir = path.join(project, 'globs');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'a.test.ts'), '');
    await fs.writeFile(path.join(dir, 'b.ts'), '');
    await fs.writeFile(path.join(dir, `${'a'.repeat(200)}.txt`), '');
    assert.deepEqual(await runTool(ctx, 'list_files', { path: 'globs', pattern: '*.test.?s' }), {
      ok: true,
      result: 'a.test.ts',
    });
    assert.deepEqual(await runTool(ctx, 'list_files', { path: 'globs', pattern: '?.ts' }), {
      ok: true,
      result: 'b.ts',
    });
    const started = performance.now();
    // As a RegExp (^.*a.*a…b$) this pattern backtracks for minutes on a 200-character name.
    assert.deepEqual(await runTool(ctx, 'list_files', { path: 'globs', pattern: `${'*a'.repeat(12)}*b` }), {
      ok: true,
      result: '',
    });
    assert.ok(performance.now() - started < 2000);
  });

  test('execute_command kills a command that outlives its timeout', async () => {
    const started = Date.now();
    const outcome = await runTool({ ...ctx, execTimeoutMs: 300 }, 'execute_command', {
      command: 'sleep 20 & sleep 20',
    });
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? '' : outcome.error, /timed out after 300 ms/);
    assert.ok(Date.now() - started < 5000, 'returned long before the commands would have ended');
  });

  test('git_status is the exact porcelain text, git_commit makes a real commit, git_log shows it', async () => {
    const repo = await makeRepo();
    try {
      const c: ToolContext = { projectPath: repo, execTimeoutMs: 30_000 };
      await fs.writeFile(path.join(repo, 'f.txt'), 'x');
      assert.deepEqual(await runTool(c, 'git_status', {}), { ok: true, result: '?? f.txt\n' });
      assert.deepEqual(await runTool(c, 'git_commit', { message: 'nothing staged' }), {
        ok: false,
        error: 'Nothing to commit: the working tree has no staged changes',
      });
      assert.equal((await runTool(c, 'git_add', { files: ['f.txt'] })).ok, true);
      const commit = await runTool(c, 'git_commit', { message: 'Add f; rm -rf / "quoted"' });
      assert.match(
        commit.ok ? commit.result : commit.error,
        /^\[main \(root-commit\) [0-9a-f]{7}\] Add f; rm -rf \/ "quoted"/,
      );
      assert.equal(git(repo, ['log', '-1', '--format=%s']).trim(), 'Add f; rm -rf / "quoted"');
      const log = await runTool(c, 'git_log', { count: 1 });
      assert.equal(log.ok && log.result, git(repo, ['log', '--oneline', '-n', '1']));
      const diff = await runTool(c, 'git_diff', {});
      assert.deepEqual(diff, { ok: true, result: '' });
    } finally {
      await removeDirs(repo);
    }
  });

  test('bad parameters are tool errors, not crashes', async () => {
    assert.deepEqual(await runTool(ctx, 'write_file', { path: 'x.txt' }), {
      ok: false,
      error: 'Invalid parameter: content must be a string',
    });
    assert.deepEqual(await runTool(ctx, 'read_file', {}), { ok: false, error: 'Missing parameter: path' });
    assert.deepEqual(await runTool(ctx, 'git_log', { count: -1 }), {
      ok: false,
      error: 'Invalid parameter: count must be an integer from 1 to 1000',
    });
    assert.deepEqual(await runTool(ctx, 'no_such_tool', {}), { ok: false, error: 'Unknown tool: no_such_tool' });
  });

  describe('path confinement', () => {
    test('../ escapes are refused and nothing is written', async () => {
      const escapingPath = path.relative(project, path.join(outside, 'escaped.txt'));
      assert.deepEqual(await runTool(ctx, 'write_file', { path: escapingPath, content: 'x' }), {
        ok: false,
        error: `Permission denied: ${escapingPath}`,
      });
      await assert.rejects(fs.stat(path.join(outside, 'escaped.txt')), { code: 'ENOENT' });
    });

    test('absolute paths outside the project are refused', async () => {
      assert.deepEqual(await runTool(ctx, 'write_file', { path: '/etc/hosts', content: 'x' }), {
        ok: false,
        error: 'Permission denied: /etc/hosts',
      });
      assert.deepEqual(await runTool(ctx, 'read_file', { path: '/etc/hosts' }), {
        ok: false,
        error: 'Permission denied: /etc/hosts',
      });
    });

    test('absolute paths inside the project are allowed', async () => {
      const inside = path.join(project, 'abs.txt');
      assert.equal((await runTool(ctx, 'write_file', { path: inside, content: 'ok' })).ok, true);
      assert.equal(await fs.readFile(inside, 'utf8'), 'ok');
    });

    test('symlinks that resolve outside are refused, for reading and for writing through them', async () => {
      await fs.symlink(outside, path.join(project, 'link-out'));
      await fs.symlink(path.join(outside, 'not-yet.txt'), path.join(project, 'dangling'));
      assert.deepEqual(await runTool(ctx, 'read_file', { path: 'link-out/secret.txt' }), {
        ok: false,
        error: 'Permission denied: link-out/secret.txt',
      });
      assert.deepEqual(await runTool(ctx, 'write_file', { path: 'dangling', content: 'x' }), {
        ok: false,
        error: 'Permission denied: dangling',
      });
      await assert.rejects(fs.stat(path.join(outside, 'not-yet.txt')), { code: 'ENOENT' });
      assert.deepEqual(await runTool(ctx, 'git_add', { files: ['link-out/secret.txt'] }), {
        ok: false,
        error: 'Permission denied: link-out/secret.txt',
      });
    });
  });
});
