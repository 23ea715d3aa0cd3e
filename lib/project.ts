// The project folder the server works on: created if missing, made a git repository if it is not
// one, never cleaned or rewritten unless the harness created it (then removed unless --keep).
import { mkdtempSync, mkdirSync, existsSync, accessSync, constants, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess } from './process.ts';
import { HarnessFailure, EXIT } from './errors.ts';

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
    throw new HarnessFailure([{ code: 'UNSAFE_PATH', title: `refusing to use ${abs} as the project folder: the server would run tools on it`, hint: 'pass a project folder, e.g. ./my-project, or no PATH for a fresh temp folder' }], EXIT.usage);
  }
}

export async function prepareProject(given: string | undefined): Promise<Project> {
  let abs: string;
  let owned = false;
  if (given === undefined) {
    abs = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'wsgate-project-')));
    owned = true;
  } else {
    refuseUnsafe(given);
    abs = path.resolve(given);
    try {
      mkdirSync(abs, { recursive: true });
      if (!statSync(abs).isDirectory()) throw new Error('not a directory');
      accessSync(abs, constants.W_OK);
    } catch (e) {
      throw new HarnessFailure([{ code: 'PROJECT', title: `project folder ${abs} is not a writable directory (${(e as Error).message})` }], EXIT.harness);
    }
    abs = realpathSync(abs);
  }
  const inside = await runProcess('git', ['rev-parse', '--is-inside-work-tree'], { cwd: abs, timeoutMs: 10_000 });
  if (inside.spawnError) throw new HarnessFailure([{ code: 'PROJECT', title: 'git is not installed', hint: 'install git: the gates check real git history' }], EXIT.harness);
  let gitInitialised = false;
  if (inside.exitCode !== 0) {
    for (const args of [
      ['init', '-q', '-b', 'main'],
      ['config', 'user.name', 'wsgate'],
      ['config', 'user.email', 'wsgate@localhost'],
      ['config', 'commit.gpgsign', 'false'],
    ]) {
      const r = await runProcess('git', args, { cwd: abs, timeoutMs: 10_000 });
      if (r.exitCode !== 0) throw new HarnessFailure([{ code: 'PROJECT', title: `git ${args.join(' ')} failed in ${abs}: ${r.stderr.trim()}` }], EXIT.harness);
    }
    gitInitialised = true;
  }
  return { path: abs, owned, gitInitialised };
}

export function removeOwned(p: Project): void {
  if (p.owned) rmSync(p.path, { recursive: true, force: true });
}

/** True when `child` is `parent` or inside it. */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Fresh project folders for gates that run concurrently (--parallel): created and owned by the harness. */
export class GateFolders {
  private base: string | undefined;
  constructor(private readonly runId: string) {}

  async create(gateId: string): Promise<string> {
    this.base ??= mkdtempSync(path.join(os.tmpdir(), `wsgate-parallel-${this.runId}-`));
    const dir = path.join(this.base, gateId);
    mkdirSync(dir, { recursive: true });
    return (await prepareProject(dir)).path;
  }

  cleanup(keep: boolean): void {
    if (!this.base) return;
    if (keep) process.stderr.write(`wsgate: kept per-gate project folders under ${this.base}\n`);
    else rmSync(this.base, { recursive: true, force: true });
  }
}
