// Data safety: a PATH the user gave is left byte-for-byte and status-for-status as it was (apart from
// what the server itself did), and the server's own additions are the only differences.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { makeTmp, timedCli, assertNoStackTrace, ROOT } from './helpers.ts';
import { runProcess } from '../../lib/os/process.ts';
import { readResult } from '../helpers/cli.ts';
import { userRepo, snapshot, git } from './user-repo.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));
const tmp = (prefix?: string) => makeTmp(cleanups, prefix);

describe('data safety', { concurrency: true }, () => {
  test('a dirty user repository is byte-for-byte and status-for-status the same after a run that writes nothing', async () => {
    const project = await userRepo(tmp('wsgate-rel-safety-'));
    const before = await snapshot(project);
    assert.match(before.status, /^ M src\/app\.js$/m, 'the fixture really is dirty');
    assert.match(before.status, /^A {2}staged\.txt$/m);
    assert.match(before.status, /^MM README\.md$/m);
    assert.match(before.status, /^\?\? untracked\.txt$/m);
    const out = path.join(tmp(), 'ev');
    // ping and connection only speak the protocol (health has a 50 ms budget a loaded machine can miss).
    const r = await timedCli([project, '--gate', 'ping', '--gate', 'connection', '--out', out]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assertNoStackTrace(r.stdout + r.stderr);
    assert.deepEqual(await snapshot(project), before);
    assert.equal(readResult(out).project, project);
  });

  test('the full default gates leave every pre-existing user file byte-identical; only the server adds files', async () => {
    const project = await userRepo(tmp('wsgate-rel-safety-'));
    const before = await snapshot(project);
    const out = path.join(tmp(), 'ev');
    // --timeout-scale: this test is about data, not speed, and the machine may be busy.
    const r = await timedCli([project, '--out', out, '--timeout-scale', '4']);
    // On a loaded 2-core machine a hard latency budget (health: 50 ms) can be missed; that is about
    // speed, not data. Any other failed check fails this test.
    const failed = readResult(out).gates.flatMap((g) =>
      g.steps.flatMap((s) => s.checks.filter((c) => !c.passed).map((c) => `${g.id}: ${c.name}`)),
    );
    assert.deepEqual(
      failed.filter((f) => !/: latency within \d+ ms$/.test(f)),
      [],
      r.stdout,
    );
    assert.ok(r.exitCode === 0 || (r.exitCode === 1 && failed.length > 0), r.stdout + r.stderr);
    const afterRun = await snapshot(project);
    for (const [file, hash] of Object.entries(before.files))
      assert.equal(afterRun.files[file], hash, `${file} changed`);
    const added = Object.keys(afterRun.files)
      .filter((f) => !(f in before.files))
      .sort();
    // What the default gates ask the server to write, and nothing else (no evidence, no session data).
    // The files the default gates name (test.txt, wsgate-*.txt), read from gates.yaml so new gates count.
    const allowed = [
      ...new Set(
        readFileSync(path.join(ROOT, 'gates.yaml'), 'utf8').match(/\b(?:test|wsgate-[a-z0-9-]+)\.txt\b/g) ?? [],
      ),
    ].sort();
    assert.ok(allowed.includes('test.txt') && allowed.length >= 5, `gates.yaml names ${allowed.join(', ')}`);
    assert.deepEqual(
      added,
      allowed.filter((f) => added.includes(f)),
      `the run added ${added.join(', ')}`,
    );
    assert.ok(added.includes('test.txt') && added.includes('wsgate-commit.txt'), `added: ${added.join(', ')}`);
    // The server's commit went on top of the user's history; nothing was rewritten or reset.
    const runId = readResult(out).runId;
    const newCommits = (await git(project, 'log', '--format=%s', `${before.head}..HEAD`)).trim().split('\n');
    assert.ok(newCommits.includes(`wsgate commit ${runId}`), newCommits.join('\n'));
    for (const c of newCommits)
      assert.match(c, new RegExp(`^wsgate [a-z]+ ${runId}$`), 'only the commits the gates asked the server for');
    const anc = await runProcess('git', ['merge-base', '--is-ancestor', before.head, 'HEAD'], {
      cwd: project,
      timeoutMs: 10_000,
    });
    assert.equal(anc.exitCode, 0, 'the user commit is still an ancestor of HEAD');
    assert.equal(
      (await git(project, 'config', 'user.email')).trim(),
      'user@example.com',
      'the user git config is untouched',
    );
    assert.equal((await git(project, 'rev-parse', '--abbrev-ref', 'HEAD')).trim(), 'trunk');
    assert.match(afterRun.status, /^!! ignored\.log$/m);
  });
});
