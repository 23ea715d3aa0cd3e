// Folders only this user may read: the evidence folders and the harness's own project folders. One
// way to make them, with node's mkdir rather than fs-extra's ensureDir: mkdir never follows what is
// already there (EEXIST says something is), where ensureDir would accept a link to a folder without
// a word, or fail on a dangling link with ENOENT instead of saying a link was planted.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { ownedByOther } from './ownership.ts';

/** Creates `dir` (its parent must exist) with mode 0700: true; false when something is already there, not looked at. */
export function mkdirPrivate(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  }
}

/** `dir` made a private folder of this user: a link, a file or another user's folder is refused (an Error); group and other access removed. */
export function keepPrivate(dir: string): void {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new Error(`${dir} is a symbolic link`);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  if (ownedByOther(st)) throw new Error(`${dir} belongs to another user (uid ${st.uid})`);
  if (st.mode & 0o077) chmodSync(dir, 0o700);
}

/** `dir` new or already there, private either way (see keepPrivate); its parent must exist. */
export function ensurePrivateDir(dir: string): void {
  mkdirPrivate(dir);
  keepPrivate(dir);
}
