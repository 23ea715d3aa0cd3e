import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ensurePrivateDir, keepPrivate, mkdirPrivate } from '../../lib/os/private-dir.ts';

const mode = (p: string) => statSync(p).mode & 0o777;

test('mkdirPrivate makes a 0700 folder and says false, touching nothing, when something is already there', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wsgate-private-'));
  try {
    const dir = path.join(tmp, 'new');
    assert.equal(mkdirPrivate(dir), true);
    assert.equal(mode(dir), 0o700);
    chmodSync(dir, 0o755);
    assert.equal(mkdirPrivate(dir), false);
    assert.equal(mode(dir), 0o755, 'an existing folder is left for the caller to examine');
    assert.throws(() => mkdirPrivate(path.join(tmp, 'missing', 'child')), /ENOENT/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('keepPrivate and ensurePrivateDir: an open folder is closed; a link or a file is refused', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wsgate-private-'));
  try {
    const open = path.join(tmp, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    keepPrivate(open);
    assert.equal(mode(open), 0o700);
    const link = path.join(tmp, 'link');
    symlinkSync(open, link);
    assert.throws(() => ensurePrivateDir(link), /is a symbolic link/);
    const dangling = path.join(tmp, 'dangling');
    symlinkSync(path.join(tmp, 'nowhere'), dangling);
    assert.throws(() => ensurePrivateDir(dangling), /is a symbolic link/);
    const file = path.join(tmp, 'file');
    writeFileSync(file, 'x');
    assert.throws(() => ensurePrivateDir(file), /is not a folder/);
    const fresh = path.join(tmp, 'fresh');
    ensurePrivateDir(fresh);
    assert.equal(mode(fresh), 0o700);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
