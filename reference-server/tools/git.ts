import { execFile } from 'node:child_process';
import { confine, displayPath } from './paths.ts';
import { ToolError, stringParam, type ToolContext } from './types.ts';

const GIT_TIMEOUT_MS = 30_000;

interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Never through a shell: commit messages and file names reach git as single argv items. */
function git(ctx: ToolContext, args: string[]): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: ctx.projectPath,
        timeout: GIT_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' },
      },
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
  const args = ['diff'];
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
