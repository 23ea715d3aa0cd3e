// Which folders a client may start a session on. The tools run shell commands and write files there, so
// by default only the server root and what is below it (judged by real path: a symlink under the root
// that points elsewhere does not count).
import fs from 'node:fs';
import path from 'node:path';

export type ProjectPathResult = { ok: true; path: string } | { ok: false; error: string; code: string };

export interface ProjectPolicy {
  /** The real path of the server root. */
  realRoot: string;
  /** The opt-in: any folder of the machine. */
  allowAny: boolean;
  /** An embedder's extra rule (the harness's own per-gate folders), given the folder's real path. */
  allowExtra?: (realPath: string) => boolean;
}

export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function realPathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

export function projectAllowed(policy: ProjectPolicy, folder: string): boolean {
  if (policy.allowAny) return true;
  const real = realPathOr(folder);
  return isInside(policy.realRoot, real) || (policy.allowExtra?.(real) ?? false);
}

/** Relative paths are taken from the server root, a missing one means the root itself. */
export function resolveProjectPath(root: string, given: unknown, policy: ProjectPolicy): ProjectPathResult {
  if (given !== undefined && given !== null && typeof given !== 'string') {
    return { ok: false, error: 'projectPath must be a string', code: 'INVALID_PROJECT_PATH' };
  }
  const resolved = path.resolve(root, typeof given === 'string' && given !== '' ? given : '.');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch {
    return { ok: false, error: `Project path does not exist: ${resolved}`, code: 'INVALID_PROJECT_PATH' };
  }
  if (!stat.isDirectory())
    return { ok: false, error: `Project path is not a directory: ${resolved}`, code: 'INVALID_PROJECT_PATH' };
  if (!projectAllowed(policy, resolved)) {
    return {
      ok: false,
      error: `Project path is outside the server root ${policy.realRoot}: ${resolved} (start the server with --root on a folder above it, or --allow-any-project)`,
      code: 'PROJECT_OUTSIDE_ROOT',
    };
  }
  return { ok: true, path: resolved };
}
