// The project folder the server works on: created if missing, made a git repository only when a
// gate checks git (or --git-init asks), never cleaned or rewritten unless the harness created it
// (then removed unless --keep). A PATH that is a subfolder of a bigger repository is refused unless
// --allow-subfolder: the server's git tools would see, stage and commit the whole repository.
import {
  appendFileSync,
  mkdtempSync,
  existsSync,
  accessSync,
  constants,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { copySync, ensureDirSync, removeSync } from 'fs-extra/esm';
import os from 'node:os';
import path from 'node:path';
import { runProcess } from '../os/process.ts';
import { gitEnv, workTreeTop } from '../os/git.ts';
import { HarnessFailure, EXIT } from '../errors.ts';
import { isInside } from '../util/paths.ts';
import { mkdirPrivate } from '../os/private-dir.ts';

export interface Project {
  path: string;
  /** True when the harness made the folder itself (a temp folder): only then may it remove it. */
  owned: boolean;
  gitInitialised: boolean;
}

export function refuseUnsafe(p: string): void {
  const abs = path.resolve(p);
  const real = existsSync(abs) ? realpathSync(abs) : abs;
  const home = os.homedir();
  if (real === path.parse(real).root || real === home || (existsSync(home) && real === realpathSync(home))) {
    throw new HarnessFailure(
      [
        {
          code: 'UNSAFE_PATH',
          title: `refusing to use ${abs} as the project folder: the server would run tools on it`,
          hint: 'pass a project folder, e.g. ./my-project, or no PATH for a fresh temp folder',
        },
      ],
      EXIT.usage,
    );
  }
}

const LOCAL_CONFIG = '[user]\n\tname = wsgate\n\temail = wsgate@localhost\n[commit]\n\tgpgsign = false\n';

export interface ProjectOptions {
  /** Make the folder a git repository if it is not one (a gate checks git, or --git-init). */
  git: boolean;
  /** Accept a PATH that is a subfolder of a repository (--allow-subfolder). */
  allowSubfolder?: boolean;
}

const GIT_MISSING = {
  code: 'PROJECT',
  title: 'git is not installed',
  hint: 'install git: the gates check real git history',
} as const;

async function gitInit(abs: string): Promise<void> {
  const r = await runProcess('git', ['init', '-q', '-b', 'main'], { cwd: abs, env: gitEnv(), timeoutMs: 10_000 });
  if (r.spawnError) throw new HarnessFailure([GIT_MISSING], EXIT.harness);
  if (r.exitCode !== 0)
    throw new HarnessFailure(
      [{ code: 'PROJECT', title: `git init failed in ${abs}: ${r.stderr.trim()}` }],
      EXIT.harness,
    );
  // An identity so commits work on any machine, and no signing prompt: written into the new
  // repository's own config file (three `git config` processes cost ~30 ms per project).
  appendFileSync(path.join(abs, '.git', 'config'), LOCAL_CONFIG);
}

export async function prepareProject(
  given: string | undefined,
  opts: ProjectOptions = { git: true },
): Promise<Project> {
  let abs: string;
  let owned = false;
  if (given === undefined) {
    abs = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'wsgate-project-')));
    owned = true;
  } else {
    refuseUnsafe(given);
    abs = path.resolve(given);
    try {
      ensureDirSync(abs);
      if (!statSync(abs).isDirectory()) throw new Error('not a directory');
      accessSync(abs, constants.W_OK);
    } catch (e) {
      throw new HarnessFailure(
        [{ code: 'PROJECT', title: `project folder ${abs} is not a writable directory (${(e as Error).message})` }],
        EXIT.harness,
      );
    }
    abs = realpathSync(abs);
  }
  // A fresh temp folder becomes a repository of its own even when the temp folder lies inside
  // another repository (git init nests; discovery stops at the nearest .git): no lookup needed.
  if (owned) {
    if (opts.git) await gitInit(abs);
    return { path: abs, owned, gitInitialised: opts.git };
  }
  const { top, missing } = await workTreeTop(abs);
  if (missing) {
    if (opts.git) throw new HarnessFailure([GIT_MISSING], EXIT.harness);
    return { path: abs, owned, gitInitialised: false };
  }
  if (top !== undefined && realpathSync(top) !== abs && !opts.allowSubfolder) {
    throw new HarnessFailure(
      [
        {
          code: 'UNSAFE_PATH',
          title: `${abs} is a subfolder of the git repository ${realpathSync(top)}: the server's git tools would see, stage and commit the whole repository, not only this folder`,
          hint: "pass the repository's top folder as PATH, a folder outside any repository, or --allow-subfolder if the server may work on the whole repository",
        },
      ],
      EXIT.usage,
    );
  }
  if (top === undefined) {
    if (opts.git) await gitInit(abs);
    return { path: abs, owned, gitInitialised: opts.git };
  }
  return { path: abs, owned, gitInitialised: false };
}

/** A folder the harness makes for itself, a repository of its own when git is wanted. */
async function newFolder(abs: string, withGit: boolean): Promise<string> {
  // The folder must be new: one already there may be someone else's.
  if (!mkdirPrivate(abs)) throw new Error(`${abs} already exists`);
  if (withGit) await gitInit(abs);
  return realpathSync(abs);
}

export function removeOwned(p: Project): void {
  if (p.owned) removeSync(p.path);
}

/**
 * A path a verify step may read: inside the project folder as written (no `..` out of it, no
 * absolute path elsewhere) and as resolved (no symbolic link on the way that leads out of it).
 * Paths can come from a server's answer (a capture); one outside the project is a failed check.
 */
export function resolveInside(project: string, rel: string): { ok: true; abs: string } | { ok: false; why: string } {
  const abs = path.resolve(project, rel);
  if (!isInside(abs, project)) return { ok: false, why: `${abs} is outside the project folder` };
  const realProject = realpathSync(project);
  // The deepest part of the path that exists decides where it really leads.
  for (let probe = abs; ; probe = path.dirname(probe)) {
    try {
      const real = realpathSync(probe);
      return isInside(real, realProject)
        ? { ok: true, abs }
        : { ok: false, why: `${abs} leads through a symbolic link to ${real}, outside the project folder` };
    } catch {
      if (probe === realProject || probe === path.dirname(probe)) return { ok: true, abs };
    }
  }
}

/**
 * Fresh project folders for gates that run concurrently (--parallel): created and owned by the harness,
 * under `root` (PATH by default, or --parallel-root DIR) in a private `.wsgate-parallel-<run id>-XXXXXX`
 * folder. Inside PATH, a server that keeps sessions under its own root accepts them as it accepts PATH.
 */
export class GateFolders {
  private base: string | undefined;
  /** One freshly initialised repository, copied for each gate: a copy costs no git process. */
  private template: Promise<string> | undefined;
  constructor(
    private readonly runId: string,
    private readonly withGit = true,
    private readonly root: string = os.tmpdir(),
  ) {}

  async create(gateId: string): Promise<string> {
    if (this.base === undefined) {
      try {
        this.base = mkdtempSync(path.join(this.root, `.wsgate-parallel-${this.runId}-`));
        // Inside PATH the folders are entries of the user's repository while serial gates run there: an
        // ignore-everything file keeps them (nested repositories) out of its `git status` and `git add -A`.
        writeFileSync(path.join(this.base, '.gitignore'), '*\n');
      } catch (e) {
        throw new HarnessFailure(
          [
            {
              code: 'PROJECT',
              title: `cannot make the per-gate project folders of --parallel under ${this.root}: ${(e as Error).message}`,
              hint: 'give --parallel-root a writable folder the server accepts as a project',
            },
          ],
          EXIT.harness,
        );
      }
    }
    const base = this.base;
    this.template ??= newFolder(path.join(base, '.template'), this.withGit);
    const dir = path.join(base, gateId);
    copySync(await this.template, dir);
    return realpathSync(dir);
  }

  cleanup(keep: boolean): void {
    if (!this.base) return;
    if (keep) process.stderr.write(`wsgate: kept per-gate project folders under ${this.base}\n`);
    else removeSync(this.base);
  }
}
