// The project folder the server works on: created if missing, made a git repository if it is not
// one, never cleaned or rewritten unless the harness created it (then removed unless --keep).
import { appendFileSync, cpSync, mkdtempSync, mkdirSync, existsSync, accessSync, constants, realpathSync, rmSync, statSync } from 'node:fs';
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

const LOCAL_CONFIG = '[user]\n\tname = wsgate\n\temail = wsgate@localhost\n[commit]\n\tgpgsign = false\n';

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
    const r = await runProcess('git', ['init', '-q', '-b', 'main'], { cwd: abs, timeoutMs: 10_000 });
    if (r.exitCode !== 0) throw new HarnessFailure([{ code: 'PROJECT', title: `git init failed in ${abs}: ${r.stderr.trim()}` }], EXIT.harness);
    // An identity so commits work on any machine, and no signing prompt: written into the new
    // repository's own config file (three `git config` processes cost ~30 ms per project).
    appendFileSync(path.join(abs, '.git', 'config'), LOCAL_CONFIG);
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
  /** One freshly initialised repository, copied for each gate: a copy costs no git process. */
  private template: Promise<string> | undefined;
  constructor(private readonly runId: string) {}

  async create(gateId: string): Promise<string> {
    this.base ??= mkdtempSync(path.join(os.tmpdir(), `wsgate-parallel-${this.runId}-`));
    const base = this.base;
    this.template ??= prepareProject(path.join(base, '.template')).then((p) => p.path);
    const dir = path.join(base, gateId);
    cpSync(await this.template, dir, { recursive: true });
    return realpathSync(dir);
  }

  cleanup(keep: boolean): void {
    if (!this.base) return;
    if (keep) process.stderr.write(`wsgate: kept per-gate project folders under ${this.base}\n`);
    else rmSync(this.base, { recursive: true, force: true });
  }
}
