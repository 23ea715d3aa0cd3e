// Data safety of what a run writes: `--out` must be new or empty and not a link (a user's result.json
// is never overwritten, their files never hashed into a manifest); evidence is 0700/0600; report
// files are never written through a link; the fallback evidence folder is per-user and private (a
// planted link or a folder of another user is refused), and evidence never lands inside wsgate's
// own package or a node_modules folder.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { makeTmp, timedCli, ROOT } from './helpers.ts';
import { runCli, SHARED_MACHINE } from '../helpers/cli.ts';
import { isInside } from '../../lib/util/paths.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));
const tmp = (prefix?: string) => makeTmp(cleanups, prefix);
const evidenceOf = (stdout: string) => /· evidence (\S+)/.exec(stdout)?.[1];
const ping = ['--gate', 'ping', ...SHARED_MACHINE];

describe('data safety: evidence and report files', { concurrency: true }, () => {
  test('--out that is not empty, a link or a file is refused with exit 2 before anything runs', async () => {
    const dir = tmp();
    const full = path.join(dir, 'full');
    mkdirSync(full);
    writeFileSync(path.join(full, 'result.json'), '{"mine": true}\n');
    const victim = path.join(dir, 'victim');
    mkdirSync(victim);
    const link = path.join(dir, 'link');
    symlinkSync(victim, link);
    const file = path.join(dir, 'file');
    writeFileSync(file, 'x');
    for (const [out, why] of [
      [full, /is not empty/],
      [link, /is a symbolic link/],
      [file, /is not a folder/],
    ] as const) {
      const r = await timedCli([path.join(dir, 'p'), ...ping, '--out', out]);
      assert.equal(r.exitCode, 2, `${out}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, '', 'nothing ran');
    }
    assert.equal(readFileSync(path.join(full, 'result.json'), 'utf8'), '{"mine": true}\n');
    assert.deepEqual(readdirSync(full), ['result.json']);
    assert.deepEqual(readdirSync(victim), []);
    assert.equal(existsSync(path.join(dir, 'p')), false, 'PATH was not even created');
  });

  test('an empty --out is used; evidence folders are 0700 and files 0600', async () => {
    const out = path.join(tmp(), 'empty');
    mkdirSync(out, { mode: 0o755 });
    const r = await timedCli([path.join(tmp(), 'p'), ...ping, '--out', out]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((n) =>
        statSync(path.join(d, n)).isDirectory() ? [path.join(d, n), ...walk(path.join(d, n))] : [path.join(d, n)],
      );
    const all = [out, ...walk(out)];
    assert.ok(
      all.some((p) => p.endsWith('manifest.json')) && all.some((p) => p.includes(`${path.sep}logs`)),
      all.join('\n'),
    );
    for (const p of all) assert.equal(statSync(p).mode & 0o777, statSync(p).isDirectory() ? 0o700 : 0o600, p);
  });

  test('report files are never written through a link; a regular one is replaced', async () => {
    const dir = tmp();
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, path.join(dir, 'wsgate-report.html'));
    writeFileSync(path.join(dir, 'wsgate-summary.md'), 'old summary\n');
    const r = await timedCli(
      [path.join(dir, 'p'), ...ping, '--out', path.join(dir, 'ev'), '--reporter', 'html', '--reporter', 'markdown'],
      { cwd: dir },
    );
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the link target was written');
    assert.match(r.stderr, /html reporter: cannot write .*wsgate-report\.html: .*is a symbolic link/);
    assert.match(readFileSync(path.join(dir, 'wsgate-summary.md'), 'utf8'), /^## wsgate /);
  });

  test('run from inside PATH: a planted link or a folder of another user as the private folder is refused', async () => {
    const project = tmp('wsgate-rel-proj-');
    const state = tmp('wsgate-rel-state-');
    const tmpdir = tmp('wsgate-rel-tmpdir-');
    const elsewhere = tmp('wsgate-rel-elsewhere-');
    // Someone planted the per-user state folder as a link, and the temp fallback too.
    symlinkSync(elsewhere, path.join(state, 'wsgate'));
    const uid = process.getuid!();
    symlinkSync(elsewhere, path.join(tmpdir, `wsgate-${uid}`));
    const r = await timedCli([project, ...ping], { cwd: project, env: { XDG_STATE_HOME: state, TMPDIR: tmpdir } });
    assert.equal(r.exitCode, 3, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /no private folder for the evidence: .*wsgate is a symbolic link; .*wsgate-\d+ is a symbolic link/,
    );
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing was written through the links');

    if (uid === 0) {
      // As root, a folder of another user can be made: it is refused the same way.
      const state2 = tmp('wsgate-rel-state-');
      mkdirSync(path.join(state2, 'wsgate'), { mode: 0o777 });
      chownSync(path.join(state2, 'wsgate'), 65534, 65534);
      const tmp2 = tmp('wsgate-rel-tmpdir-');
      const ok = await timedCli([project, ...ping], { cwd: project, env: { XDG_STATE_HOME: state2, TMPDIR: tmp2 } });
      assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
      const ev = evidenceOf(ok.stdout)!;
      assert.ok(isInside(ev, path.join(tmp2, `wsgate-${uid}`, 'runs')), `fell back past the foreign folder: ${ev}`);
      assert.deepEqual(readdirSync(path.join(state2, 'wsgate')), []);
      assert.equal(statSync(path.join(tmp2, `wsgate-${uid}`)).mode & 0o777, 0o700);
    }
  });

  test("a .wsgate in the current folder that is a link or another user's is refused with the reason; in an other-writable folder the private one is used", async () => {
    const here = tmp('wsgate-rel-cwd-');
    const elsewhere = tmp('wsgate-rel-elsewhere-');
    symlinkSync(elsewhere, path.join(here, '.wsgate'));
    const linked = await timedCli([path.join(here, 'p'), ...ping], { cwd: here });
    assert.equal(linked.exitCode, 2, linked.stdout + linked.stderr);
    assert.match(linked.stderr, /\.wsgate is a symbolic link: evidence is not written there, nor runs read from it/);
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing was written through the link');
    const status = await runCli(['status'], { cwd: here });
    assert.equal(status.exitCode, 2, 'status does not read runs through it either');

    if (process.getuid!() === 0) {
      const theirs = tmp('wsgate-rel-cwd-');
      mkdirSync(path.join(theirs, '.wsgate'), { mode: 0o755 });
      chownSync(path.join(theirs, '.wsgate'), 65534, 65534);
      const foreign = await timedCli([path.join(theirs, 'p'), ...ping], { cwd: theirs });
      assert.equal(foreign.exitCode, 2, foreign.stdout + foreign.stderr);
      assert.match(foreign.stderr, /\.wsgate belongs to another user \(uid 65534\)/);
      assert.deepEqual(readdirSync(path.join(theirs, '.wsgate')), []);
    }

    // A shared folder: another user could make .wsgate there first, or swap it; the private folder is used.
    const shared = path.join(tmp('wsgate-rel-shared-'), 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const state = tmp('wsgate-rel-state-');
    const ok = await timedCli([path.join(path.dirname(shared), 'p'), ...ping], {
      cwd: shared,
      env: { XDG_STATE_HOME: state },
    });
    assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
    assert.ok(isInside(evidenceOf(ok.stdout)!, path.join(state, 'wsgate', 'runs')), ok.stdout);
    assert.equal(existsSync(path.join(shared, '.wsgate')), false);
  });

  test("run from inside wsgate's own package or a node_modules folder: evidence goes to the per-user folder", async () => {
    const state = tmp('wsgate-rel-state-');
    const before = existsSync(path.join(ROOT, '.wsgate', 'runs'))
      ? readdirSync(path.join(ROOT, '.wsgate', 'runs')).length
      : 0;
    const inPackage = await timedCli([path.join(tmp(), 'p'), ...ping], { cwd: ROOT, env: { XDG_STATE_HOME: state } });
    assert.equal(inPackage.exitCode, 0, inPackage.stdout + inPackage.stderr);
    assert.ok(isInside(evidenceOf(inPackage.stdout)!, path.join(state, 'wsgate', 'runs')), inPackage.stdout);
    const after = existsSync(path.join(ROOT, '.wsgate', 'runs'))
      ? readdirSync(path.join(ROOT, '.wsgate', 'runs')).length
      : 0;
    assert.equal(after, before, "nothing new under wsgate's own .wsgate/runs");

    const nm = path.join(tmp(), 'node_modules', 'some-dep');
    mkdirSync(nm, { recursive: true });
    const inDeps = await timedCli([path.join(tmp(), 'p'), ...ping], { cwd: nm, env: { XDG_STATE_HOME: state } });
    assert.equal(inDeps.exitCode, 0, inDeps.stdout + inDeps.stderr);
    assert.ok(isInside(evidenceOf(inDeps.stdout)!, path.join(state, 'wsgate', 'runs')), inDeps.stdout);
    assert.equal(existsSync(path.join(nm, '.wsgate')), false);
  });
});
