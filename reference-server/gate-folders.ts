// The private per-gate folders `wsgate run --parallel` makes (under --parallel-root DIR, or PATH),
// which the embedded server also admits as session projects. Their name prefix is all the server knows of the harness: a
// convention like the wire protocol, not shared code.
import { lstatSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * ROOT/.wsgate-parallel-<run id>-XXXXXX/<gate> (the folders `wsgate run --parallel` makes under its
 * --parallel-root DIR, or under PATH) or $TMPDIR/wsgate-parallel-<run id>-XXXXXX/<gate>, ROOT being the
 * temp folder unless given: a private (mkdtemp, 0700) folder of this user, so no other user can make
 * one the server would accept.
 */
export function isGateFolder(realPath: string, root: string = os.tmpdir()): boolean {
  let tmp: string;
  try {
    tmp = realpathSync(root);
  } catch {
    return false;
  }
  const rel = path.relative(tmp, realPath);
  const top = rel.split(path.sep)[0] ?? '';
  if (rel.startsWith('..') || path.isAbsolute(rel) || !/^\.?wsgate-parallel-/.test(top)) return false;
  try {
    const stat = lstatSync(path.join(tmp, top));
    const mine = typeof process.getuid !== 'function' || stat.uid === process.getuid();
    return stat.isDirectory() && mine && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}
