// Which gates file a run picks up by itself: one in the current folder runs its commands as you, so it
// must be yours, in a folder only you may write to. Real files, real modes and owners, the real CLI.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from './helpers/cli.ts';

const dirs: { remove(): void }[] = [];
after(() => dirs.forEach((d) => d.remove()));

/** A folder with a wsgate.yaml whose one gate would create MARK. */
function planted(mode: number): { dir: string; mark: string; file: string } {
  const t = tempDir('wsgate-discovery-');
  dirs.push(t);
  const dir = path.join(t.path, 'shared');
  mkdirSync(dir);
  chmodSync(dir, mode);
  const mark = path.join(t.path, 'planted-ran');
  const file = path.join(dir, 'wsgate.yaml');
  writeFileSync(
    file,
    `version: 1\ngates:\n  - id: planted\n    title: planted\n    steps:\n      - run: [touch, ${JSON.stringify(mark)}]\n`,
  );
  return { dir, mark, file };
}

const isRoot = process.getuid?.() === 0;

describe('gates file discovery', { concurrency: true }, () => {
  test('a wsgate.yaml in an other-writable folder is refused with the reason; its command never runs', async () => {
    const p = planted(0o777);
    const r = await runCli(['run', path.join(path.dirname(p.dir), 'project')], { cwd: p.dir });
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /its folder .*shared can be written by other users \(mode 777\): a gates file found in the current folder runs its commands as you/,
    );
    assert.match(r.stderr, /hint: read it, then name it with --gates wsgate\.yaml if you trust it/);
    assert.equal(existsSync(p.mark), false);
    // Named explicitly, it is the user's choice, and it runs.
    const named = await runCli(
      [
        'run',
        path.join(path.dirname(p.dir), 'project'),
        '--gates',
        'wsgate.yaml',
        '--out',
        path.join(path.dirname(p.dir), 'ev'),
      ],
      { cwd: p.dir },
    );
    assert.equal(named.exitCode, 0, named.stdout + named.stderr);
    assert.equal(existsSync(p.mark), true);
  });

  test('a wsgate.yaml of another user is refused, even in a folder of yours', {
    skip: !isRoot && 'needs root to give a file away',
  }, async () => {
    const p = planted(0o755);
    chownSync(p.file, 65534, 65534);
    const r = await runCli(['status'], { cwd: p.dir });
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /\.\/wsgate\.yaml belongs to another user \(uid 65534\)/);
    const run = await runCli(['run', path.join(path.dirname(p.dir), 'project')], { cwd: p.dir });
    assert.equal(run.exitCode, 2);
    assert.equal(existsSync(p.mark), false);
  });

  test('a wsgate.yaml of yours in a folder of yours is found and runs', async () => {
    const p = planted(0o755);
    const r = await runCli(
      ['run', path.join(path.dirname(p.dir), 'project'), '--out', path.join(path.dirname(p.dir), 'ev')],
      { cwd: p.dir },
    );
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /wsgate\.yaml \(found in the current folder\)/);
    assert.equal(existsSync(p.mark), true);
  });
});
