// A folder the harness owns outside the project folder, for escape probes: a gate asks the server to
// write there (by absolute path, by a `../` path relative to PATH, through a symbolic link inside PATH)
// and then checks that nothing arrived. Aiming at a folder of the harness's own means a server without
// a path check writes into a temp folder, never into a system file.
import { type Dirent, mkdtempSync, readdirSync, readlinkSync, realpathSync, unlinkSync } from 'node:fs';
import { removeSync } from 'fs-extra/esm';
import os from 'node:os';
import path from 'node:path';
import { isInside } from '../util/paths.ts';

/** The variables a gate uses to reach it: `${OUTSIDE}` (absolute) and `${OUTSIDE_REL}` (relative to PATH). */
export const OUTSIDE_VARS = ['OUTSIDE', 'OUTSIDE_REL'] as const;

/**
 * A new private folder under the temp folder, or beside `project` when the temp folder lies inside it;
 * undefined when neither can be made (the gates that need it are then not checked).
 */
export function makeOutside(project: string, runId: string): string | undefined {
  for (const base of [os.tmpdir(), path.dirname(project)]) {
    try {
      const dir = realpathSync(mkdtempSync(path.join(base, `wsgate-outside-${runId}-`)));
      if (!isInside(dir, project) && !isInside(project, dir)) return dir;
      removeSync(dir);
    } catch {
      // not writable here: try the next base
    }
  }
  return undefined;
}

/** `${OUTSIDE}` as a path relative to a gate's project folder: it starts with `../`. */
export function outsideFrom(project: string, outside: string): string {
  return path.relative(project, outside);
}

export function removeOutside(dir: string | undefined): void {
  if (dir) removeSync(dir);
}

/**
 * The symbolic links at the top of a gate's project folder that lead into `outside`: escape probes a
 * gate made (`ln -s ${OUTSIDE} …`), removed by the harness when the gate ends, however it ends (--bail,
 * an interrupt, a failed step before the gate's own clean-up), so none is left dangling in PATH.
 * Only links into the run's fresh folder: nothing of the user's can point there.
 */
export function removeLinksInto(project: string, outside: string | undefined): void {
  if (outside === undefined) return;
  let entries: Dirent[];
  try {
    entries = readdirSync(project, { withFileTypes: true });
  } catch {
    return; // the folder is gone (a per-gate folder already removed): nothing to leave behind
  }
  for (const e of entries) {
    if (!e.isSymbolicLink()) continue;
    const link = path.join(project, e.name);
    try {
      if (isInside(path.resolve(project, readlinkSync(link)), outside)) unlinkSync(link);
    } catch {
      // removed meanwhile, or not ours to remove: leave it
    }
  }
}
