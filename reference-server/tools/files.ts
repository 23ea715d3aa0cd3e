import fs from 'node:fs/promises';
import path from 'node:path';
import { confine, displayPath } from './paths.ts';
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

/** Shell-style wildcard (* and ?) on a base name; anything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

async function walk(dir: string, recursive: boolean, visit: (abs: string, isDir: boolean) => boolean): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    // .git is the harness's evidence, not project content; listing it would make every diff noisy.
    if (entry.name === '.git') continue;
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
  const matcher = pattern ? globToRegExp(pattern) : undefined;
  const lines: string[] = [];
  try {
    await walk(base, recursive, (abs, isDir) => {
      if (matcher && !matcher.test(path.basename(abs))) return true;
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
  const fileMatcher = filePattern ? globToRegExp(filePattern) : undefined;
  const files: string[] = [];
  const stat = await fs.stat(base).catch((e) => describeFsError(e, given));
  if (stat.isFile()) {
    files.push(base);
  } else {
    await walk(base, true, (abs, isDir) => {
      if (!isDir && (!fileMatcher || fileMatcher.test(path.basename(abs)))) files.push(abs);
      return true;
    });
  }
  const out: string[] = [];
  for (const file of files) {
    const info = await fs.stat(file).catch(() => undefined);
    if (!info || !info.isFile() || info.size > MAX_SEARCHED_FILE_BYTES) continue;
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    // Binary files would print control bytes into a JSON text result.
    if (text === undefined || text.includes('\0')) continue;
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      // Literal match: a planner that turned user text into a regex would fail on a stray "(".
      if (!lines[i].includes(pattern)) continue;
      if (out.length === MAX_SEARCH_MATCHES) {
        out.push(`... (more than ${MAX_SEARCH_MATCHES} matches, output truncated)`);
        return out.join('\n');
      }
      out.push(`${displayPath(ctx.projectPath, file)}:${i + 1}:${lines[i]}`);
    }
  }
  return out.join('\n');
}
