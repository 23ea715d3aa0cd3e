// lib/os/process.ts: results as data, deadlines that kill whole trees, and no survivors even when a
// program moves its children into a process group of their own.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { isAlive, waitGone } from './helpers/servers.ts';
import { runProcess, runShell, spawnChild, stopTree, descendants, liveChildren } from '../lib/os/process.ts';

// A node script that starts a grandchild in a NEW process group (detached), prints its pid, then waits.
const ESCAPER = `
const { spawn } = require('node:child_process');
const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
console.log(g.pid);
setInterval(() => {}, 1000);
`;

describe('lib/process', { concurrency: true }, () => {
  test('a run is data: exit code, stdout, stderr, ms; a non-zero exit is information', async () => {
    const r = await runShell('echo out; echo err >&2; exit 3');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.timedOut, false);
    assert.ok(r.ms >= 0);
  });

  test('a program that cannot start is reported, not thrown', async () => {
    const r = await runProcess('/no/such/program', []);
    assert.equal(r.exitCode, 127, 'the shell zx runs it with answers 127');
    assert.match(r.spawnError ?? '', /ENOENT/);
    const onPath = await runProcess('wsgate-no-such-program', ['x']);
    assert.match(onPath.spawnError ?? '', /^ENOENT: wsgate-no-such-program is not a program on PATH/);
  });

  test('a deadline kills the whole tree, grandchildren included', async () => {
    const started = performance.now();
    const r = await runShell('sleep 30 & sleep 30; wait', { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.ok(performance.now() - started < 10_000, 'the deadline ended it');
    assert.ok(r.signal !== null || r.exitCode !== 0);
  });

  test('output beyond the cap is dropped and said so', async () => {
    const r = await runShell('head -c 100000 /dev/zero | tr "\\\\0" x', { maxOutputBytes: 1000 });
    assert.equal(r.exitCode, 0);
    assert.ok(r.stdout.startsWith('x'.repeat(1000)));
    assert.match(r.stdout, /99000 more bytes not kept/);
  });

  test('descendants() walks /proc from a pid', async () => {
    const child = spawnChild('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    try {
      assert.ok(descendants(child.pid!).includes(Number(String(line).trim())));
    } finally {
      await stopTree(child, 500);
    }
  });

  test('stopTree also kills a descendant that moved to a process group of its own', async () => {
    const child = spawnChild(process.execPath, ['-e', ESCAPER], { stdio: ['ignore', 'pipe', 'ignore'] });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const grandchild = Number(String(line).trim());
    try {
      assert.ok(grandchild > 0 && isAlive(grandchild), 'the escaper started its grandchild');
      assert.ok(liveChildren().includes(child.pid!));
      await stopTree(child, 1000);
      assert.ok(await waitGone(grandchild, 5000), `grandchild ${grandchild} survived stopTree`);
      assert.equal(isAlive(child.pid!), false);
    } finally {
      // Whatever the verdict, leave nothing behind.
      for (const pid of [child.pid!, grandchild]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    assert.ok(!liveChildren().includes(child.pid!));
  });
});
