// Git confined to the project (reference-server/tools/git.ts, tools/paths.ts): the project must be the top
// level of its own repository, pathspecs are literal, nothing named in the repository's config runs
// (hooks, fsmonitor, filters, signing, textconv), and the file tools cannot read or write .git.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runTool } from '../../reference-server/tools/run.ts';
import type { ToolContext } from '../../reference-server/tools/types.ts';
import { readResult, runCli, SHARED_MACHINE } from '../helpers/cli.ts';
import { Client, git, makeRepo, ofType, removeDirs, sessionFor, startTestServer, tempDir } from './helpers.ts';

const ctxFor = (projectPath: string): ToolContext => ({ projectPath, execTimeoutMs: 30_000 });
const exists = (file: string) =>
  fs.stat(file).then(
    () => true,
    () => false,
  );

/** An outer repository with one commit and the user's staged work-in-progress in packages/other/. */
async function monorepo(): Promise<{ outer: string; app: string; head: string }> {
  const outer = await makeRepo();
  await fs.writeFile(path.join(outer, 'README.md'), 'monorepo\n');
  git(outer, ['add', 'README.md']);
  git(outer, ['commit', '-q', '-m', 'initial']);
  await fs.mkdir(path.join(outer, 'packages', 'other'), { recursive: true });
  await fs.writeFile(path.join(outer, 'packages', 'other', 'wip.txt'), 'work in progress\n');
  git(outer, ['add', 'packages/other/wip.txt']);
  const app = path.join(outer, 'packages', 'app');
  await fs.mkdir(app);
  await fs.writeFile(path.join(app, 'app.txt'), 'app\n');
  return { outer, app, head: git(outer, ['rev-parse', 'HEAD']).trim() };
}

function assertOuterUntouched(m: { outer: string; head: string }): void {
  assert.equal(git(m.outer, ['rev-parse', 'HEAD']).trim(), m.head, 'no commit in the outer repository');
  assert.equal(
    git(m.outer, ['diff', '--cached', '--name-only']).trim(),
    'packages/other/wip.txt',
    "the user's file is still staged, and only it",
  );
}

describe('a project inside a bigger repository', () => {
  let m: Awaited<ReturnType<typeof monorepo>>;
  before(async () => {
    m = await monorepo();
  });
  after(() => removeDirs(m.outer));

  test('every git tool refuses with a tool error and the outer repository is untouched', async () => {
    const ctx = ctxFor(m.app);
    const calls: Array<[string, Record<string, unknown>]> = [
      ['git_status', {}],
      ['git_diff', { staged: true }],
      ['git_add', { files: ['.'] }],
      ['git_commit', { message: 'from app' }],
      ['git_log', {}],
    ];
    for (const [tool, input] of calls) {
      const outcome = await runTool(ctx, tool, input);
      assert.equal(outcome.ok, false, tool);
      assert.match(!outcome.ok ? outcome.error : '', /Not a git repository of its own/, tool);
      assert.doesNotMatch(!outcome.ok ? outcome.error : '', /wip\.txt/, `${tool} shows nothing of packages/other`);
    }
    assertOuterUntouched(m);
  });

  test('over the wire: "commit" answers with tool_result errors and commits nothing', async () => {
    const server = await startTestServer({ root: m.app });
    const client = await Client.ready(server.url);
    try {
      await sessionFor(client, m.app);
      const reply = await client.chat("Commit everything with message 'sneaky'");
      const results = ofType(reply, 'tool_result');
      assert.deepEqual(
        results.map((r) => r.tool),
        ['git_add', 'git_commit'],
      );
      assert.ok(
        results.every((r) => typeof r.error === 'string' && r.result === undefined),
        JSON.stringify(results),
      );
      assert.equal(reply.at(-1)?.type, 'message_complete');
      assertOuterUntouched(m);
    } finally {
      await client.close();
      await server.cleanup();
    }
  });

  test('through the harness: wsgate run packages/app --gate git-commit fails and commits nothing', async () => {
    const out = await tempDir('wsgate-rs-ev-');
    try {
      // The harness itself refuses a PATH inside a bigger repository (exit 2, test/reliability/
      // data-safety-paths.test.ts); --allow-subfolder lets the run reach the server's own confinement.
      const r = await runCli([
        m.app,
        '--gate',
        'git-commit',
        '--allow-subfolder',
        '--out',
        path.join(out, 'ev'),
        '--quiet',
        ...SHARED_MACHINE,
      ]);
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      assert.equal(readResult(path.join(out, 'ev')).status, 'failed');
      assertOuterUntouched(m);
    } finally {
      await removeDirs(out);
    }
  });
});

describe('a project that is its own repository', () => {
  let project: string;
  let markers: string;
  before(async () => {
    project = await makeRepo();
    markers = await tempDir('wsgate-rs-markers-');
  });
  after(() => removeDirs(project, markers));

  test('pathspecs are literal: magic and globs match no file, nothing is staged', async () => {
    await fs.writeFile(path.join(project, 'a.txt'), 'a\n');
    await fs.writeFile(path.join(project, 'b.txt'), 'b\n');
    for (const spec of [':(glob)*.txt', '*.txt', ':(top)a.txt', ':!b.txt']) {
      const outcome = await runTool(ctxFor(project), 'git_add', { files: [spec] });
      assert.equal(outcome.ok, false, spec);
      assert.equal(git(project, ['diff', '--cached', '--name-only']), '', `${spec} staged nothing`);
    }
    // A file really named like magic is just a file.
    await fs.writeFile(path.join(project, ':(top)odd.txt'), 'odd\n');
    assert.equal((await runTool(ctxFor(project), 'git_add', { files: [':(top)odd.txt'] })).ok, true);
    assert.equal(git(project, ['diff', '--cached', '--name-only']).trim(), ':(top)odd.txt');
    git(project, ['reset', '-q']);
    await Promise.all(['a.txt', 'b.txt', ':(top)odd.txt'].map((f) => fs.rm(path.join(project, f))));
  });

  test('hooks, fsmonitor, clean filters, signing and textconv named in .git/config never run', async () => {
    const marker = (name: string) => path.join(markers, name);
    const script = async (name: string) => {
      const file = path.join(markers, `${name}.sh`);
      await fs.writeFile(file, `#!/bin/sh\ntouch '${marker(name)}'\ncat\n`, { mode: 0o755 });
      return file;
    };
    await fs.writeFile(path.join(project, '.git', 'hooks', 'pre-commit'), `#!/bin/sh\ntouch '${marker('hook')}'\n`, {
      mode: 0o755,
    });
    git(project, ['config', 'core.fsmonitor', await script('fsmonitor')]);
    git(project, ['config', 'filter.evil.clean', await script('filter')]);
    git(project, ['config', 'diff.evil.textconv', await script('textconv')]);
    git(project, ['config', 'commit.gpgSign', 'true']);
    git(project, ['config', 'gpg.program', await script('gpg')]);
    await fs.writeFile(path.join(project, '.gitattributes'), '*.txt filter=evil diff=evil\n');
    await fs.writeFile(path.join(project, 'f.txt'), 'one\n');

    const ctx = ctxFor(project);
    for (const [tool, input] of [
      ['git_add', { files: ['.'] }],
      ['git_commit', { message: 'guarded' }],
      ['git_status', {}],
      ['git_log', {}],
    ] as const) {
      const outcome = await runTool(ctx, tool, input);
      assert.equal(outcome.ok, true, `${tool}: ${JSON.stringify(outcome)}`);
    }
    await fs.writeFile(path.join(project, 'f.txt'), 'two\n');
    assert.equal((await runTool(ctx, 'git_diff', {})).ok, true);
    assert.equal(git(project, ['log', '-1', '--format=%s']).trim(), 'guarded');
    const ran = [];
    for (const name of ['hook', 'fsmonitor', 'filter', 'textconv', 'gpg'])
      if (await exists(marker(name))) ran.push(name);
    assert.deepEqual(ran, [], 'no program named in the repository ran');

    // The traps are real: plain git in the same repository runs them.
    execFileSync('git', ['add', 'f.txt'], { cwd: project });
    execFileSync('git', ['-c', 'commit.gpgSign=false', 'commit', '-q', '-m', 'plain'], { cwd: project });
    assert.equal(await exists(marker('filter')), true, 'plain git add runs the clean filter');
    assert.equal(await exists(marker('hook')), true, 'plain git commit runs the hook');
  });
});

test('a filter defined in a file the repository config includes is switched off too', async () => {
  const project = await makeRepo();
  const markers = await tempDir('wsgate-rs-markers-');
  try {
    const included = path.join(markers, 'included.gitconfig');
    const script = path.join(markers, 'clean.sh');
    await fs.writeFile(script, `#!/bin/sh\ntouch '${path.join(markers, 'ran')}'\ncat\n`, { mode: 0o755 });
    await fs.writeFile(included, `[filter "included"]\n\tclean = ${script}\n`);
    git(project, ['config', 'include.path', included]);
    await fs.writeFile(path.join(project, '.gitattributes'), '*.md filter=included\n');
    await fs.writeFile(path.join(project, 'notes.md'), 'notes\n');
    const outcome = await runTool(ctxFor(project), 'git_add', { files: ['.'] });
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.equal(await exists(path.join(markers, 'ran')), false, 'the included filter did not run');
    git(project, ['reset', '-q']);
    execFileSync('git', ['add', 'notes.md'], { cwd: project });
    assert.equal(await exists(path.join(markers, 'ran')), true, 'plain git add runs it: the trap is real');
  } finally {
    await removeDirs(project, markers);
  }
});

describe('.git is closed to the file tools', () => {
  let project: string;
  before(async () => {
    project = await makeRepo();
    await fs.mkdir(path.join(project, 'sub'));
    await fs.symlink(path.join(project, '.git'), path.join(project, 'gitlink'));
  });
  after(() => removeDirs(project));

  test('write_file, read_file, list_files and search_files refuse paths in .git, however spelled', async () => {
    const ctx = ctxFor(project);
    const config = await fs.readFile(path.join(project, '.git', 'config'), 'utf8');
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['write_file', { path: '.git/hooks/pre-commit', content: '#!/bin/sh\necho owned\n' }],
      ['write_file', { path: 'sub/../.git/config', content: '[core]\n\tfsmonitor = touch /tmp/x\n' }],
      ['write_file', { path: 'gitlink/config', content: 'x' }],
      ['write_file', { path: path.join(project, '.git', 'description'), content: 'x' }],
      ['read_file', { path: '.git/config' }],
      ['read_file', { path: 'gitlink/config' }],
      ['list_files', { path: '.git' }],
      ['list_files', { path: 'gitlink' }],
      ['search_files', { pattern: 'repositoryformatversion', path: '.git' }],
    ];
    for (const [tool, input] of attempts) {
      const outcome = await runTool(ctx, tool, input);
      assert.equal(outcome.ok, false, `${tool} ${JSON.stringify(input)}`);
      assert.match(!outcome.ok ? outcome.error : '', /Permission denied/);
    }
    assert.equal(await fs.readFile(path.join(project, '.git', 'config'), 'utf8'), config, '.git/config unchanged');
    assert.equal(await exists(path.join(project, '.git', 'hooks', 'pre-commit')), false);
    const everywhere = await runTool(ctx, 'search_files', { pattern: 'repositoryformatversion' });
    assert.deepEqual(
      everywhere,
      { ok: true, result: '' },
      'a search of the whole project does not look into .git, nor through a link to it',
    );
  });

  test('over the wire: writing a hook is a tool_result error and no file appears', async () => {
    const server = await startTestServer({ root: project });
    const client = await Client.ready(server.url);
    try {
      await sessionFor(client, project);
      const reply = await client.chat("Create a .git/hooks/post-commit file with 'touch owned'");
      const [result] = ofType(reply, 'tool_result');
      assert.match(result.error, /^Permission denied: \.git\/hooks\/post-commit/);
      assert.equal(await exists(path.join(project, '.git', 'hooks', 'post-commit')), false);
    } finally {
      await client.close();
      await server.cleanup();
    }
  });
});
