import fs from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../project-path.ts';
import { ToolError } from './types.ts';

/**
 * True when the path (relative to the project) goes through a .git folder or file at any depth. The
 * repository's config and hooks run commands for git; a file tool that could write them, or read them,
 * would be a way around every rule the git tools follow. Case-insensitive: on macOS `.GIT` is `.git`.
 */
export function inGitDir(relative: string): boolean {
  return relative.split(/[\\/]/).some((segment) => segment.toLowerCase() === '.git');
}

/** The nearest existing ancestor's real path plus the not-yet-existing tail (for files about to be written). */
async function realPathOfDeepestExisting(target: string): Promise<string> {
  const tail: string[] = [];
  let current = target;
  for (;;) {
    try {
      return path.join(await fs.realpath(current), ...tail.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      // A dangling symlink would be followed by a write, so judge it by where it points.
      const link = await fs.readlink(current).catch(() => undefined);
      if (link !== undefined) {
        current = path.resolve(path.dirname(current), link);
        continue;
      }
      const parent = path.dirname(current);
      if (parent === current) return target;
      tail.push(path.basename(current));
      current = parent;
    }
  }
}

/**
 * Resolves a client-given path against the project and refuses anything that leaves it, both by spelling
 * (../, absolute paths) and by symlinks; the error quotes the path exactly as the client gave it.
 */
export async function confine(projectPath: string, given: string): Promise<string> {
  const denied = new ToolError(`Permission denied: ${given}`);
  if (given.includes('\0')) throw denied;
  const target = path.resolve(projectPath, given);
  if (!isInside(projectPath, target)) throw denied;
  const realRoot = await fs.realpath(projectPath).catch(() => projectPath);
  const realTarget = await realPathOfDeepestExisting(target);
  if (!isInside(realRoot, realTarget)) throw denied;
  if (inGitDir(path.relative(projectPath, target)) || inGitDir(path.relative(realRoot, realTarget))) {
    throw new ToolError(`Permission denied: ${given} (.git is not open to file tools)`);
  }
  return target;
}

/** For a file met while walking the project: its real path when that stays inside the project and out of .git. */
export async function realInsideProject(projectPath: string, file: string): Promise<string | undefined> {
  const realRoot = await fs.realpath(projectPath).catch(() => projectPath);
  const real = await fs.realpath(file).catch(() => undefined);
  if (real === undefined || !isInside(realRoot, real) || inGitDir(path.relative(realRoot, real))) return undefined;
  return real;
}

/** The path as shown to the client: relative to the project, with forward slashes. */
export function displayPath(projectPath: string, absolute: string): string {
  const rel = path.relative(projectPath, absolute);
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}
