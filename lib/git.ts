// Reading the real git state of the project, through the real git binary.
import { runProcess } from './process.ts';

const GIT_TIMEOUT = 15_000;

export async function git(cwd: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  const r = await runProcess('git', args, { cwd, timeoutMs: GIT_TIMEOUT });
  return { ok: r.exitCode === 0, out: r.stdout, err: r.stderr || r.spawnError || '' };
}

/** Every changed path `git status` shows, untracked files included (renames give both names). */
export async function changedPaths(cwd: string): Promise<{ paths: string[]; porcelain: string; error?: string }> {
  const r = await git(cwd, ['status', '--porcelain=v1', '-z', '-uall']);
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
  const r = await git(cwd, ['log', '-1', '--format=%B']);
  return r.ok ? r.out.trim() : undefined;
}
