// Data safety: temp folders the harness made are removed unless --keep, evidence is written outside
// PATH (to a private per-user folder when run from inside it), / or the home directory itself (however
// spelt) and a subfolder of a bigger repository are refused with exit 2.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTmp, timedCli } from './helpers.ts';
import { SHARED_MACHINE } from '../helpers/cli.ts';
import { isInside } from '../../lib/util/paths.ts';
import { userRepo, snapshot, git } from './user-repo.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));
const tmp = (prefix?: string) => makeTmp(cleanups, prefix);

describe('data safety: temp folders, evidence and refused paths', { concurrency: true }, () => {
  test('evidence goes outside PATH even when run from inside it without --out', async () => {
    const project = await userRepo(tmp('wsgate-rel-safety-'));
    const before = await snapshot(project);
    const state = tmp('wsgate-rel-state-');
    const r = await timedCli([project, '--gate', 'ping', ...SHARED_MACHINE], {
      cwd: project,
      env: { XDG_STATE_HOME: state },
    });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const evidence = /· evidence (\S+)/.exec(r.stdout)?.[1];
    assert.ok(evidence, r.stdout);
    assert.ok(!isInside(evidence, project), `evidence ${evidence} is inside ${project}`);
    // A private per-user folder, not a shared predictable one under $TMPDIR.
    assert.ok(
      isInside(evidence, path.join(state, 'wsgate', 'runs')),
      `evidence ${evidence} went to the per-user state folder`,
    );
    assert.ok(existsSync(path.join(evidence, 'result.json')));
    for (const d of [path.join(state, 'wsgate'), path.join(state, 'wsgate', 'runs'), evidence])
      assert.equal(statSync(d).mode & 0o777, 0o700, d);
    assert.deepEqual(await snapshot(project), before);
  });

  test('--out inside PATH is refused with exit 2 and nothing is written', async () => {
    const project = await userRepo(tmp('wsgate-rel-safety-'));
    const before = await snapshot(project);
    const r = await timedCli([project, '--gate', 'ping', '--out', path.join(project, 'evidence')]);
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /inside the project folder/);
    assert.deepEqual(await snapshot(project), before);
  });

  test('the temp project and server data folders are removed after a run, kept with --keep', async () => {
    const tmpRoot = tmp('wsgate-rel-tmpdir-');
    const ours = () =>
      readdirSync(tmpRoot)
        .filter((n) => n.startsWith('wsgate-'))
        .sort();
    const r = await timedCli(['--gate', 'write-file', ...SHARED_MACHINE, '--out', path.join(tmp(), 'ev')], {
      env: { TMPDIR: tmpRoot },
    });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.deepEqual(ours(), [], 'no temp folder of the run is left');

    const kept = await timedCli(
      ['--gate', 'write-file', ...SHARED_MACHINE, '--keep', '--out', path.join(tmp(), 'ev')],
      { env: { TMPDIR: tmpRoot } },
    );
    assert.equal(kept.exitCode, 0, kept.stdout + kept.stderr);
    const left = ours();
    assert.equal(left.length, 2, `kept: ${left.join(', ')}`);
    assert.match(left[0]!, /^wsgate-project-/);
    assert.match(left[1]!, /^wsgate-server-data-/);
    assert.equal(readFileSync(path.join(tmpRoot, left[0]!, 'test.txt'), 'utf8'), 'Test content');
    assert.match(kept.stderr, new RegExp(`kept project folder .*${left[0]}`));
  });

  test('/ and the home directory (however spelt) are refused with exit 2 before anything runs', async () => {
    // A private HOME: were the refusal broken, the harness would git-init this folder, not the real home.
    const home = tmp('wsgate-rel-home-');
    writeFileSync(path.join(home, '.profile'), 'mine\n');
    const link = path.join(tmp(), 'home-link');
    symlinkSync(home, link);
    const spellings = ['/', '/tmp/..', home, `${home}/`, `${home}/.`, link, path.join(home, '..', path.basename(home))];
    const runs = await Promise.all(spellings.map((p) => timedCli([p, '--gate', 'ping'], { env: { HOME: home } })));
    runs.forEach((r, i) => {
      assert.equal(r.exitCode, 2, `${spellings[i]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /refusing to use .* as the project folder/);
      assert.equal(r.stdout, '', `${spellings[i]}: nothing ran`);
    });
    assert.deepEqual(readdirSync(home), ['.profile'], 'the home folder was not touched');
    assert.equal(statSync(path.join(home, '.profile')).size, 5);
  });

  test('a PATH that is a subfolder of a repository is refused (exit 2, nothing staged or committed) unless --allow-subfolder', async () => {
    const repo = await userRepo(tmp('wsgate-rel-mono-'));
    const app = path.join(repo, 'packages', 'app');
    mkdirSync(app, { recursive: true });
    writeFileSync(path.join(repo, 'packages', 'other.txt'), 'work in progress\n');
    await git(repo, 'add', 'packages/other.txt');
    const before = await snapshot(repo);
    const r = await timedCli([app, '--gate', 'git-commit', ...SHARED_MACHINE]);
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /is a subfolder of the git repository .*my project: the server's git tools would see, stage and commit the whole repository/,
    );
    assert.match(r.stderr, /hint: .*--allow-subfolder/);
    assert.equal(r.stdout, '', 'nothing ran');
    assert.deepEqual(await snapshot(repo), before, 'the staged file is still staged, in no commit');
    assert.match(before.status, /^A {2}packages\/other\.txt$/m);

    const allowed = await timedCli([
      app,
      '--gate',
      'ping',
      '--allow-subfolder',
      ...SHARED_MACHINE,
      '--out',
      path.join(tmp(), 'ev'),
    ]);
    assert.equal(allowed.exitCode, 0, allowed.stdout + allowed.stderr);
    assert.equal(existsSync(path.join(app, '.git')), false, 'no nested repository was made');
    assert.deepEqual(await snapshot(repo), before);
  });
});
