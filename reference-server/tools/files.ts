import fs from 'node:fs/promises';
import path from 'node:path';
import { confine, displayPath, realInsideProject } from './paths.ts';
import { ToolError, stringParam, type ToolContext } from './types.ts';

const MAX_LIST_ENTRIES = 5000;
const MAX_SEARCH_MATCHES = 200;
const MAX_SEARCHED_FILE_BYTES = 1024 * 1024;

function describeFsError(error: unknown, given: string): never {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') throw new ToolError(`File not found: ${given}`);
  if (code === 'EISDIR') throw new ToolError(`Is a directory: ${given}`);
  if (code === 'ENOTDIR') throw new ToolError(`Not a directory: ${given}`);
  if (code === 'EACCES' || code === 'EPERM') throw new ToolError(`Permission denied: ${given}`);
  throw error;
}

export async function readFileTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  const given = stringParam(input, 'path');
  const target = await confine(ctx.projectPath, given);
  return fs.readFile(target, 'utf8').catch((e) => describeFsError(e, given));
}

export async function writeFileTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  const given = stringParam(input, 'path');
  const content = input.content;
  if (typeof content !== 'string') throw new ToolError('Invalid parameter: content must be a string');
  const target = await confine(ctx.projectPath, given);
  try {
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, content, 'utf8');
  } catch (error) {
    describeFsError(error, given);
  }
  return `Wrote ${Buffer.byteLength(content, 'utf8')} bytes to ${given}`;
}

/**
 * Shell-style wildcard (* and ?) on a base name; anything else is literal. Matched by hand, not through a
 * RegExp: `*a*a*a*b` compiled to `.*a.*a.*a.*b` backtracks exponentially on a long name, while this
 * remembers only the last star, so a match costs at most name length × pattern length steps.
 */
export function globMatch(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === name[n]))) {
      g++;
      n++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = n;
    } else if (star >= 0) {
      g = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

async function walk(dir: string, recursive: boolean, visit: (abs: string, isDir: boolean) => boolean): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    // .git is the harness's evidence, not project content, and closed to file tools (see inGitDir).
    if (entry.name.toLowerCase() === '.git') continue;
    const abs = path.join(dir, entry.name);
    const isDir = entry.isDirectory();
    if (!visit(abs, isDir)) return;
    if (isDir && recursive) await walk(abs, recursive, visit);
  }
}

export async function listFilesTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  const given = stringParam(input, 'path', '.');
  const pattern = input.pattern === undefined ? undefined : stringParam(input, 'pattern');
  const recursive = input.recursive === true;
  const base = await confine(ctx.projectPath, given);
  const lines: string[] = [];
  try {
    await walk(base, recursive, (abs, isDir) => {
      if (pattern !== undefined && !globMatch(pattern, path.basename(abs))) return true;
      lines.push(displayPath(base, abs) + (isDir ? '/' : ''));
      return lines.length < MAX_LIST_ENTRIES;
    });
  } catch (error) {
    describeFsError(error, given);
  }
  return lines.sort().join('\n');
}

export async function searchFilesTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  const pattern = stringParam(input, 'pattern');
  const given = stringParam(input, 'path', '.');
  const filePattern = input.filePattern === undefined ? undefined : stringParam(input, 'filePattern');
  const base = await confine(ctx.projectPath, given);

  const files: string[] = [];
  const stat = await fs.stat(base).catch((e) => describeFsError(e, given));
  if (stat.isFile()) {
    files.push(base);
  } else {
    await walk(base, true, (abs, isDir) => {
      if (!isDir && (filePattern === undefined || globMatch(filePattern, path.basename(abs)))) files.push(abs);
      return true;
    });
  }
  const out: string[] = [];
  for (const file of files) {
    // A symlink in the project may point anywhere: only what really lies inside the project is read.
    const real = await realInsideProject(ctx.projectPath, file);
    if (real === undefined) continue;
    const info = await fs.stat(real).catch(() => undefined);
    if (!info?.isFile() || info.size > MAX_SEARCHED_FILE_BYTES) continue;
    const text = await fs.readFile(real, 'utf8').catch(() => undefined);
    // Binary files would print control bytes into a JSON text result.
    if (text === undefined || text.includes('\0')) continue;
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      // Literal match: a planner that turned user text into a regex would fail on a stray "(".
      if (!lines[i]!.includes(pattern)) continue;
      if (out.length === MAX_SEARCH_MATCHES) {
        out.push(`... (more than ${MAX_SEARCH_MATCHES} matches, output truncated)`);
        return out.join('\n');
      }
      out.push(`${displayPath(ctx.projectPath, file)}:${i + 1}:${lines[i]}`);
    }
  }
  return out.join('\n');
}
