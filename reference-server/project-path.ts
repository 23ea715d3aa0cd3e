import fs from 'node:fs';
import path from 'node:path';

export type ProjectPathResult = { ok: true; path: string } | { ok: false; error: string };

/** Relative paths are taken from the server root, a missing one means the root itself. */
export function resolveProjectPath(root: string, given: unknown): ProjectPathResult {
  if (given !== undefined && given !== null && typeof given !== 'string') {
    return { ok: false, error: 'projectPath must be a string' };
  }
  const resolved = path.resolve(root, typeof given === 'string' && given !== '' ? given : '.');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch {
    return { ok: false, error: `Project path does not exist: ${resolved}` };
  }
  if (!stat.isDirectory()) return { ok: false, error: `Project path is not a directory: ${resolved}` };
  return { ok: true, path: resolved };
}
