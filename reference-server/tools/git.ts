import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { minimalEnv } from './child-env.ts';
import { disableFilters, filterNamesFromKeys, localFilterNames } from './git-filters.ts';
import { confine, displayPath } from './paths.ts';
import { ToolError, stringParam, type ToolContext } from './types.ts';

const GIT_TIMEOUT_MS = 30_000;

interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Settings that would make git run a program named in the repository's own config, which anyone who can
 * write the project may have edited: hooks, fsmonitor, signing, auto-gc, lazy fetches, pagers. Command-line
 * `-c` beats every config file. Filter drivers have free names, so they are switched off by name (git-filters.ts).
 */
const HARDENING = [
  '--no-pager',
  ...['core.hooksPath=/dev/null', 'core.fsmonitor=false', 'core.pager=cat', 'commit.gpgSign=false', 'tag.gpgSign=false']
    .concat(['gc.auto=0', 'maintenance.auto=false', 'protocol.allow=never', 'core.sshCommand=false', 'diff.external='])
    .flatMap((setting) => ['-c', setting]),
];

const IDENTITY_ENV = [
  'XDG_CONFIG_HOME',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
  'EMAIL',
];

interface Repo {
  gitDir: string;
  workTree: string;
}

/**
 * The project must be the top level of its own repository. Git would otherwise walk up to a repository
 * above it (a monorepo) and show, stage and commit the user's other work there; so the repository is named
 * explicitly (GIT_DIR, GIT_WORK_TREE) and never searched for.
 */
async function ownRepository(projectPath: string): Promise<Repo> {
  const dotGit = path.join(projectPath, '.git');
  const stat = await fs.stat(dotGit).catch(() => undefined);
  if (stat?.isDirectory()) return { gitDir: await fs.realpath(dotGit), workTree: projectPath };
  if (stat?.isFile()) {
    // A linked worktree or submodule: .git is a file naming the real git folder.
    const m = /^gitdir: (.+)$/m.exec(await fs.readFile(dotGit, 'utf8'));
    if (m) return { gitDir: path.resolve(projectPath, m[1]!.trim()), workTree: projectPath };
  }
  throw new ToolError(
    `Not a git repository of its own: ${projectPath} has no .git. The git tools work only when the project is the top level of its repository, so a repository above it is never touched`,
  );
}

function envFor(repo: Repo): NodeJS.ProcessEnv {
  const extra: Record<string, string> = {
    GIT_DIR: repo.gitDir,
    GIT_WORK_TREE: repo.workTree,
    GIT_CONFIG_NOSYSTEM: '1',
    // `:(top)`, `:(glob)`, `*`: pathspec magic would let a path that passed the confinement check mean more.
    GIT_LITERAL_PATHSPECS: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PAGER: 'cat',
  };
  // The commit identity may come from the user's global config (under XDG_CONFIG_HOME) or, on CI, from
  // these variables: names and addresses, not secrets.
  for (const name of IDENTITY_ENV) {
    const value = process.env[name];
    if (value !== undefined) extra[name] = value;
  }
  return minimalEnv(extra);
}

/** Never through a shell: commit messages and file names reach git as single argv items. */
function execGit(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, env, timeout: GIT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof (error as NodeJS.ErrnoException).code === 'string') {
          reject(new ToolError(`Could not run git: ${error.message}`));
          return;
        }
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `-c filter.NAME.clean=` (and smudge, process) for every filter driver the repository's own config defines. */
async function filterOverrides(repo: Repo, cwd: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const fromFiles = await localFilterNames(repo.gitDir);
  if (fromFiles !== undefined) return disableFilters(fromFiles);
  // The config includes other files: git follows them. `git config` runs no hooks, filters or pagers;
  // exit 1 just means "no such keys".
  const run = await execGit(cwd, env, [
    ...HARDENING,
    'config',
    '--local',
    '--includes',
    '--null',
    '--name-only',
    '--get-regexp',
    '^filter\\.',
  ]);
  return disableFilters(filterNamesFromKeys(run.stdout));
}

async function git(ctx: ToolContext, args: string[]): Promise<GitRun> {
  const repo = await ownRepository(ctx.projectPath);
  const env = envFor(repo);
  const overrides = await filterOverrides(repo, ctx.projectPath, env);
  return execGit(ctx.projectPath, env, [...HARDENING, ...overrides, ...args]);
}

async function gitOrFail(ctx: ToolContext, args: string[]): Promise<string> {
  const run = await git(ctx, args);
  if (run.code !== 0) {
    const why = (run.stderr.trim() || run.stdout.trim() || `git exited with code ${run.code}`).trim();
    throw new ToolError(`git ${args[0]} failed: ${why}`);
  }
  return run.stdout;
}

async function confinedRelative(ctx: ToolContext, given: string): Promise<string> {
  return displayPath(ctx.projectPath, await confine(ctx.projectPath, given));
}

export function gitStatusTool(ctx: ToolContext): Promise<string> {
  return gitOrFail(ctx, ['status', '--porcelain=v1', '-uall']);
}

export async function gitDiffTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  // External diff programs and textconv filters are named in config: never run them.
  const args = ['diff', '--no-ext-diff', '--no-textconv'];
  if (input.staged === true) args.push('--staged');
  if (input.file !== undefined) args.push('--', await confinedRelative(ctx, stringParam(input, 'file')));
  return gitOrFail(ctx, args);
}

function filesParam(input: Record<string, unknown>): string[] {
  const files = typeof input.files === 'string' ? [input.files] : input.files;
  if (!Array.isArray(files) || files.length === 0) throw new ToolError('Missing parameter: files');
  if (!files.every((f): f is string => typeof f === 'string' && f !== '')) {
    throw new ToolError('Invalid parameter: files must be a list of paths');
  }
  return files;
}

export async function gitAddTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  const files = filesParam(input);
  const relative: string[] = [];
  for (const f of files) relative.push(await confinedRelative(ctx, f));
  await gitOrFail(ctx, ['add', '--', ...relative]);
  return `Staged ${files.join(', ')}`;
}

export async function gitCommitTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  const message = stringParam(input, 'message');
  const run = await git(ctx, ['commit', '-m', message]);
  if (run.code !== 0) {
    const text = `${run.stdout}\n${run.stderr}`.trim();
    if (/nothing (added )?to commit|no changes added to commit/.test(text)) {
      throw new ToolError('Nothing to commit: the working tree has no staged changes');
    }
    throw new ToolError(`git commit failed: ${text || `exit code ${run.code}`}`);
  }
  return run.stdout.trim();
}

export async function gitLogTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  const raw = input.count ?? 10;
  const count = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) {
    throw new ToolError('Invalid parameter: count must be an integer from 1 to 1000');
  }
  return gitOrFail(ctx, ['log', '--oneline', '-n', String(count)]);
}
