import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultDataDir } from '../../reference-server/index.ts';
import { SessionStore } from '../../reference-server/sessions.ts';
import { UUID, removeDirs, tempDir } from './helpers.ts';

describe('session store on a real data folder', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await tempDir('wsgate-rs-store-');
  });
  after(() => removeDirs(dataDir));

  test('changes are on disk at once, through a rename that leaves no temp file', async () => {
    const store = new SessionStore({ dataDir });
    const s = store.create('/project');
    assert.match(s.id, UUID);
    store.update(s.id, (x) => {
      x.messageCount = 5;
    });
    const onDisk = JSON.parse(await fs.readFile(path.join(dataDir, 'sessions.json'), 'utf8'));
    assert.equal(onDisk.sessions.find((x: { id: string }) => x.id === s.id).messageCount, 5);
    assert.deepEqual(
      (await fs.readdir(dataDir)).filter((f) => f.endsWith('.tmp')),
      [],
    );
    const reloaded = new SessionStore({ dataDir });
    assert.deepEqual(reloaded.get(s.id), { ...s, messageCount: 5 });
    assert.equal(reloaded.delete(s.id), true);
    assert.equal(new SessionStore({ dataDir }).get(s.id), undefined);
  });

  test('plain ids keep counting after a restart instead of reusing one', async () => {
    const dir = await tempDir('wsgate-rs-store-');
    try {
      const first = new SessionStore({ dataDir: dir, plainIds: true });
      assert.deepEqual([first.create('/a').id, first.create('/b').id], ['sess-1', 'sess-2']);
      const second = new SessionStore({ dataDir: dir, plainIds: true });
      assert.equal(second.create('/c').id, 'sess-3');
    } finally {
      await removeDirs(dir);
    }
  });

  test('a corrupt sessions.json is reported and the store starts empty instead of crashing', async () => {
    const dir = await tempDir('wsgate-rs-store-');
    try {
      await fs.writeFile(path.join(dir, 'sessions.json'), '{half');
      const errors: unknown[] = [];
      const store = new SessionStore({ dataDir: dir, onLoadError: (e) => errors.push(e) });
      assert.equal(store.size, 0);
      assert.equal(errors.length, 1);
    } finally {
      await removeDirs(dir);
    }
  });

  test('the default data folder is a new private folder outside the project on every start', () => {
    const dirs = [defaultDataDir(), defaultDataDir()];
    try {
      assert.notEqual(dirs[0], dirs[1], 'a fresh name each time: nobody can pre-create it');
      for (const dir of dirs) {
        assert.equal(path.dirname(dir), os.tmpdir());
        assert.match(path.basename(dir), /^wsgate-server-/);
        assert.equal(statSync(dir).mode & 0o777, 0o700);
      }
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});
