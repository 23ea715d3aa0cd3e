// Where a run's evidence goes, and making that folder private. `--out` must be new or empty (a run
// must not overwrite someone's result.json or hash their files into its manifest) and not a link.
// The default is `.wsgate/runs/` of the current folder, unless that folder is inside PATH (evidence
// must not show up in the project's git status) or inside wsgate's own package or a node_modules
// (a user's runs do not belong to a dependency): then a per-user state folder, never a shared,
// predictable one under $TMPDIR that another user could create first and redirect.
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { ensureDirSync } from 'fs-extra/esm';
import os from 'node:os';
import path from 'node:path';
import { EXIT, HarnessFailure } from '../errors.ts';
import { isInside } from '../util/paths.ts';
import { notOwnProblem, othersMayWrite, ownedByOther, uid } from '../os/ownership.ts';
import { ensurePrivateDir, keepPrivate, mkdirPrivate } from '../os/private-dir.ts';
import { PACKAGE_ROOT } from '../package-root.ts';

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * A `.wsgate` folder already in the current folder must be a real folder of this user that others
 * cannot write to: a link or a folder planted by another user would redirect or expose the evidence
 * (and `status` would read runs someone else wrote). Absent, it is created by the run.
 */
function checkWsgateDir(cwd: string): void {
  const dir = path.resolve(cwd, '.wsgate');
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch {
    return;
  }
  const problem = st.isSymbolicLink()
    ? `${dir} is a symbolic link`
    : !st.isDirectory()
      ? `${dir} is not a folder`
      : notOwnProblem(dir, st);
  if (problem !== undefined) {
    throw new HarnessFailure(
      [
        {
          code: 'USAGE',
          title: `${problem}: evidence is not written there, nor runs read from it`,
          hint: 'remove it, or pass --out DIR (a new or empty folder of yours) / --runs DIR',
        },
      ],
      EXIT.usage,
    );
  }
}

/** Why the current folder must not receive evidence, or undefined when it may. */
function cwdUnfit(cwd: string, project: string | undefined): string | undefined {
  const here = real(cwd);
  // A shared folder (/tmp): another user could make or swap .wsgate there; the private folder is used.
  try {
    if (othersMayWrite(lstatSync(here))) return 'other users can write to the current folder';
  } catch {
    // judged below by path only
  }
  if (project !== undefined && isInside(path.join(here, '.wsgate'), project))
    return 'the current folder is inside PATH';
  if (isInside(here, real(PACKAGE_ROOT))) return "the current folder is inside wsgate's own package";
  if (here.split(path.sep).includes('node_modules')) return 'the current folder is inside node_modules';
  return undefined;
}

/** The per-user state folder: $XDG_STATE_HOME/wsgate, else ~/.local/state/wsgate. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'state'), 'wsgate');
}

/** Makes `dir` (and missing parents) exist as a real folder of this user, mode 0700 for the ones made here. */
function ensurePrivatePath(dir: string): void {
  ensureDirSync(path.dirname(dir));
  ensurePrivateDir(dir);
}

/** A private runs folder: the state folder, or a per-user one under $TMPDIR when that fails. */
function privateRunsDir(project: string | undefined): string {
  const problems: string[] = [];
  const candidates = [stateDir(), path.join(os.tmpdir(), `wsgate-${uid() >= 0 ? uid() : os.userInfo().username}`)];
  for (const base of candidates) {
    if (project !== undefined && isInside(real(base), project)) {
      problems.push(`${base} is inside PATH`);
      continue;
    }
    try {
      ensurePrivatePath(base);
      ensurePrivateDir(path.join(base, 'runs'));
      return path.join(base, 'runs');
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  throw new HarnessFailure(
    [
      {
        code: 'PROJECT',
        title: `no private folder for the evidence: ${problems.join('; ')}`,
        hint: 'pass --out DIR (a new or empty folder of yours)',
      },
    ],
    EXIT.harness,
  );
}

/** Runs folders `status` and `signoff` look in by default: the current folder's, and the private one. */
export function defaultRunsDirs(cwd = process.cwd()): string[] {
  if (!cwdUnfit(cwd, undefined)) checkWsgateDir(cwd);
  const dirs = cwdUnfit(cwd, undefined) ? [] : [path.resolve(cwd, '.wsgate', 'runs')];
  return [...dirs, path.join(stateDir(), 'runs')];
}

function insideProject(dir: string, project: string): HarnessFailure {
  return new HarnessFailure(
    [
      {
        code: 'USAGE',
        title: `--out ${dir} is inside the project folder ${project}`,
        hint: "evidence must not show up in the project's git status: choose a folder outside it",
      },
    ],
    EXIT.usage,
  );
}

/** `--out` checks that need nothing created yet: a usage error before the run touches anything. */
export function checkOutDir(out: string, project?: string): void {
  const abs = path.resolve(out);
  const refuse = (title: string, hint: string) => new HarnessFailure([{ code: 'USAGE', title, hint }], EXIT.usage);
  if (project !== undefined && (isInside(abs, path.resolve(project)) || isInside(real(abs), real(project))))
    throw insideProject(abs, path.resolve(project));
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(abs);
  } catch {
    return; // new: created later
  }
  if (st.isSymbolicLink())
    throw refuse(
      `--out ${abs} is a symbolic link`,
      'evidence is never written through a link: name the real folder, or a new one',
    );
  if (!st.isDirectory()) throw refuse(`--out ${abs} exists and is not a folder`, 'name a new or empty folder');
  if (ownedByOther(st)) throw refuse(`--out ${abs} belongs to another user`, 'name a new or empty folder of your own');
  if (readdirSync(abs).length)
    throw refuse(
      `--out ${abs} is not empty`,
      'evidence goes to a new or empty folder: a run would overwrite what is there and hash it into its manifest',
    );
}

/** The run's evidence folder, created 0700 and empty. */
export function createRunDir(out: string | undefined, project: string, runId: string, cwd = process.cwd()): string {
  let dir: string;
  if (out !== undefined) {
    dir = path.resolve(out);
    checkOutDir(dir, project);
  } else {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const unfit = cwdUnfit(cwd, project);
    if (!unfit) checkWsgateDir(cwd);
    const base = unfit ? privateRunsDir(project) : path.resolve(cwd, '.wsgate', 'runs');
    dir = path.join(base, `${stamp}-${runId}`);
  }
  ensureDirSync(path.dirname(dir));
  // The run's folder is created here, new: something already in its place is refused, except an
  // empty --out folder of this user (checked again now that it exists), used as it is, made private.
  if (!mkdirPrivate(dir)) {
    if (out === undefined) throw new Error(`${dir} already exists`);
    checkOutDir(dir);
    keepPrivate(dir);
  }
  return dir;
}
