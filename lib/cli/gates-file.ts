// Which gates file a command reads when --gates is not given (`run`, `status`), and the command line
// that runs a gates file from the current folder (`init` prints it as the next step).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { EXIT, HarnessFailure } from '../errors.ts';
import { notOwnProblem } from '../os/ownership.ts';
import { PACKAGE_ROOT } from '../package-root.ts';

export const DEFAULT_GATES = path.join(PACKAGE_ROOT, 'gates.yaml');

/** Files a project's own gates may be called, looked for in the current folder when --gates is not given. */
export const DISCOVERED_GATES = ['gates.yaml', 'wsgate.yaml'];

export interface ChosenGatesFile {
  file: string;
  /** The name printed in the header and in every `FILE:LINE:COL`. */
  display: string;
  /** Why this file: printed beside its name. */
  origin: string;
}

/**
 * Which gates file a run uses, and how to name it: --gates as typed; else ./gates.yaml or ./wsgate.yaml of
 * the current folder (as test runners find their config); else the agent-backend gates shipped with wsgate.
 */
export function chooseGatesFile(given: string | undefined, cwd = process.cwd()): ChosenGatesFile {
  if (given !== undefined) return { file: path.resolve(cwd, given), display: given, origin: 'from --gates' };
  for (const name of DISCOVERED_GATES) {
    const file = path.join(cwd, name);
    if (existsSync(file)) {
      refuseForeign(file, name, cwd);
      return {
        file,
        display: name,
        origin: path.resolve(file) === DEFAULT_GATES ? "wsgate's own default gates" : 'found in the current folder',
      };
    }
  }
  const rel = path.relative(cwd, DEFAULT_GATES);
  return {
    file: DEFAULT_GATES,
    display: rel && !rel.startsWith('..') ? rel : DEFAULT_GATES,
    origin: 'the agent-backend gates shipped with wsgate: no gates.yaml in the current folder',
  };
}

/**
 * A gates file runs commands. One found by itself (not named with --gates) must be this user's, in a
 * folder only this user may write to: in a shared folder (/tmp, a group's share) another user could
 * have planted it, or replace it between two runs.
 */
function refuseForeign(file: string, name: string, cwd: string): void {
  // wsgate's own gates.yaml (run from its checkout or package): as trusted as the code that reads it.
  if (path.resolve(file) === DEFAULT_GATES) return;
  const problem = notOwnProblem(`./${name}`, statSync(file)) ?? notOwnProblem(`its folder ${cwd}`, statSync(cwd));
  if (problem === undefined) return;
  throw new HarnessFailure(
    [
      {
        code: 'USAGE',
        title: `${problem}: a gates file found in the current folder runs its commands as you, and another user could have put it there`,
        hint: `read it, then name it with --gates ${name} if you trust it, or run from a folder of your own`,
      },
    ],
    EXIT.usage,
  );
}

/**
 * The command that runs a gates file from the current folder: inside wsgate's own checkout its script,
 * anywhere else (wsgate installed as a dependency, or run with npx) `npx wsgate run`, which finds a
 * gates.yaml of the current folder by itself.
 */
export function nextCommand(file: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, file) || file;
  if (path.resolve(cwd) === PACKAGE_ROOT)
    return `./scripts/test-websocket.sh ws://localhost:3001/ws ./my-project --gates ${rel}`;
  const found = DISCOVERED_GATES.some((n) => path.resolve(cwd, n) === path.resolve(file));
  return `npx wsgate run ws://localhost:3001/ws${found ? '' : ` --gates ${rel}`}   (no URL: against wsgate's embedded reference server)`;
}
