// The harness's own git: reading the real git state of the project through the real git binary.
// The project's `.git/config` is written by whoever works in the project, the server under test
// included, so none of its command-running settings may run anything for the harness: fsmonitor,
// hooks, pager, external diff, textconv and clean/smudge filters are switched off for every call,
// and every filter/diff/merge driver defined in the repository's own config is blanked (an earlier
// run's server may have planted one, so "it was already there" proves nothing). The user's global
// config is kept: its excludes make `git status` agree with what the user sees, and a driver defined
// there (git-lfs) still works; the command-line settings here outrank it.
import { runProcess } from './process.ts';

const GIT_TIMEOUT = 15_000;

/** Settings passed with `-c` on every call: they win over every config file. */
const SAFE_CONFIG = [
  'core.fsmonitor=false',
  'core.hooksPath=/dev/null',
  'core.pager=cat',
  'log.showSignature=false',
  'color.ui=false',
  'diff.external=',
];

/**
 * The caller's GIT_* variables are dropped: a wsgate started from a git hook inherits GIT_DIR and
 * GIT_INDEX_FILE, which would point every call at the hook's repository instead of the project.
 */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('GIT_')) env[k] = v;
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PAGER: 'cat',
    GIT_ATTR_NOSYSTEM: '1',
  };
}

/** Driver keys that name a command git would run on file contents. */
const DRIVER_KEY = /^(filter\.[^\n]*\.(clean|smudge|process)|diff\.[^\n]*\.(command|textconv)|merge\.[^\n]*\.driver)$/i;

type DriverConfig = Map<string, string>;

/** Driver settings by scope: `local`/`worktree` come from the repository, the rest from the user. */
async function driverConfig(cwd: string): Promise<{ repo: DriverConfig; user: DriverConfig }> {
  const r = await runProcess(
    'git',
    ['--no-pager', 'config', '--show-scope', '--includes', '-z', '--get-regexp', '^(filter|diff|merge)\\.'],
    { cwd, env: gitEnv(), timeoutMs: GIT_TIMEOUT },
  );
  const repo: DriverConfig = new Map();
  const user: DriverConfig = new Map();
  // -z: "scope\0key\nvalue\0" per entry.
  const fields = r.exitCode === 0 ? r.stdout.split('\0') : [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const scope = fields[i]!;
    const entry = fields[i + 1]!;
    const nl = entry.indexOf('\n');
    const key = nl < 0 ? entry : entry.slice(0, nl);
    const value = nl < 0 ? '' : entry.slice(nl + 1);
    if (!DRIVER_KEY.test(key)) continue;
    (scope === 'local' || scope === 'worktree' ? repo : user).set(key, value);
  }
  return { repo, user };
}

/** `-c` overrides that blank every repository-scope driver, or why that cannot be done. */
async function driverOverrides(cwd: string): Promise<string[] | { refused: string }> {
  const { repo, user } = await driverConfig(cwd);
  const keys = [...repo.keys()];
  // `-c name=value` splits at the first `=`: a driver named with one could not be overridden.
  const odd = keys.find((k) => k.includes('='));
  if (odd)
    return {
      refused: `the repository's git config defines a driver git cannot be told to skip (${JSON.stringify(odd)}); not running git there`,
    };
  // The user's own definition of the same driver (e.g. git-lfs in ~/.gitconfig) still applies.
  return keys.flatMap((key) => ['-c', `${key}=${user.get(key) ?? ''}`]);
}

/** Commands that read work-tree files and so could run a filter or diff driver on them. */
const READS_WORKTREE = new Set([
  'status',
  'diff',
  'add',
  'stash',
  'checkout',
  'restore',
  'reset',
  'commit',
  'ls-files',
]);

export async function git(cwd: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  const drivers = READS_WORKTREE.has(args[0] ?? '') ? await driverOverrides(cwd) : [];
  if (!Array.isArray(drivers)) return { ok: false, out: '', err: drivers.refused };
  const config = SAFE_CONFIG.flatMap((c) => ['-c', c]);
  const r = await runProcess('git', ['--no-pager', ...config, ...drivers, ...args], {
    cwd,
    env: gitEnv(),
    timeoutMs: GIT_TIMEOUT,
  });
  return { ok: r.exitCode === 0, out: r.stdout, err: r.stderr || r.spawnError || '' };
}

/** Every changed path `git status` shows, untracked files included (renames give both names). */
export async function changedPaths(cwd: string): Promise<{ paths: string[]; porcelain: string; error?: string }> {
  // Submodules are compared by their recorded commit only: looking inside one would run git there,
  // under a config the override list above has not seen.
  const r = await git(cwd, ['status', '--porcelain=v1', '-z', '-uall', '--ignore-submodules=dirty']);
  // A failing git (no repository any more, "dubious ownership") must not read as a clean tree.
  if (!r.ok) return { paths: [], porcelain: '', error: r.err.trim() || 'git status failed' };
  const fields = r.out.split('\0');
  const paths: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    const xy = f.slice(0, 2);
    paths.push(f.slice(3));
    lines.push(f);
    if (xy[0] === 'R' || xy[0] === 'C') {
      const from = fields[++i];
      if (from) paths.push(from);
    }
  }
  return { paths, porcelain: lines.join('\n') };
}

export async function lastCommitMessage(cwd: string): Promise<string | undefined> {
  const r = await git(cwd, ['log', '-1', '--no-show-signature', '--format=%B']);
  return r.ok ? r.out.trim() : undefined;
}

export async function gitHead(cwd: string): Promise<string | null> {
  const r = await git(cwd, ['rev-parse', '--verify', '-q', 'HEAD']);
  return r.ok ? r.out.trim() : null;
}

/** The top level of the work tree `cwd` is in, or undefined when it is in none (or git is missing). */
export async function workTreeTop(cwd: string): Promise<{ top?: string; missing?: boolean }> {
  const r = await runProcess('git', ['rev-parse', '--show-toplevel'], { cwd, env: gitEnv(), timeoutMs: GIT_TIMEOUT });
  if (r.spawnError) return { missing: true };
  return r.exitCode === 0 ? { top: r.stdout.trim() } : {};
}
