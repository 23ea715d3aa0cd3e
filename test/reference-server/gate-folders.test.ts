import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isGateFolder } from '../../reference-server/gate-folders.ts';

test('a gate folder is below a private wsgate-parallel-* folder of this user in the temp folder, nothing else', async () => {
  const tmp = await realpath(os.tmpdir());
  const parallel = await mkdtemp(path.join(tmp, 'wsgate-parallel-test-'));
  const other = await mkdtemp(path.join(tmp, 'wsgate-other-'));
  try {
    const gate = path.join(parallel, 'gate-a');
    await mkdir(gate);
    assert.equal(isGateFolder(gate), true);
    assert.equal(isGateFolder(path.join(other, 'gate-a')), false, 'another temp folder');
    assert.equal(
      isGateFolder(path.join(path.dirname(tmp), 'wsgate-parallel-x', 'g')),
      false,
      'outside the temp folder',
    );
    await chmod(parallel, 0o755);
    assert.equal(isGateFolder(gate), false, 'a folder others can read is not private');
  } finally {
    await rm(parallel, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  }
});

test('given a root (wsgate run --parallel-root DIR), a gate folder is below a private .wsgate-parallel-* folder of DIR', async () => {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'wsgate-gate-root-')));
  try {
    const parallel = await mkdtemp(path.join(root, '.wsgate-parallel-run-'));
    const gate = path.join(parallel, 'gate-a');
    await mkdir(gate);
    assert.equal(isGateFolder(gate, root), true);
    assert.equal(isGateFolder(gate), false, 'not under the temp folder itself');
    const other = await mkdtemp(path.join(root, 'elsewhere-'));
    assert.equal(isGateFolder(path.join(other, 'gate-a'), root), false, 'another folder of DIR');
    await chmod(parallel, 0o755);
    assert.equal(isGateFolder(gate, root), false, 'a folder others can read is not private');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
