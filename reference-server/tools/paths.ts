import fs from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from './types.ts';

function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
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
  if (!inside(projectPath, target)) throw denied;
  const realRoot = await fs.realpath(projectPath).catch(() => projectPath);
  const realTarget = await realPathOfDeepestExisting(target);
  if (!inside(realRoot, realTarget)) throw denied;
  return target;
}

/** The path as shown to the client: relative to the project, with forward slashes. */
export function displayPath(projectPath: string, absolute: string): string {
  const rel = path.relative(projectPath, absolute);
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}
