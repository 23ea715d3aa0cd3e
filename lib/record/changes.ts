// What a live session did to the project folder: a snapshot (every file's size, mtime and sha256,
// git HEAD and `git status`) before the first send and after each exchange, and the difference
// between two snapshots as FileChange/GitChange. Files are re-hashed only when their size or mtime
// moved, so a snapshot of an unchanged folder costs a walk of stat calls and two git processes.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TextDecoder } from 'node:util';
import { changedPaths, gitHead, lastCommitMessage } from '../os/git.ts';
import { MAX_LITERAL } from './values.ts';
import type { FileChange, GitChange, ProjectChanges } from './recording.ts';

/** A folder bigger than this is not walked further (a session's changes are expected to be few). */
const MAX_FILES = 20_000;

interface Entry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

interface Snapshot {
  files: Map<string, Entry>;
  head: string | null;
  status: string[];
}

async function hashFile(abs: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(abs))
    .digest('hex');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of a small UTF-8 file without NUL bytes, else undefined (it is verified by sha256). */
async function smallText(abs: string, size: number): Promise<string | undefined> {
  if (size > MAX_LITERAL) return undefined;
  const buf = await readFile(abs);
  if (buf.includes(0)) return undefined;
  try {
    return utf8.decode(buf);
  } catch {
    return undefined;
  }
}

export class ProjectWatch {
  private prev!: Snapshot;
  private startedClean = false;
  truncated = false;

  private constructor(
    readonly root: string,
    private readonly exclude: Set<string>,
  ) {}

  /** `exclude`: absolute paths not to watch (the gates file being written, if it lies inside). */
  static async start(root: string, exclude: string[] = []): Promise<ProjectWatch> {
    const w = new ProjectWatch(root, new Set(exclude.map((p) => path.resolve(p))));
    w.prev = await w.snapshot(new Map());
    w.startedClean = w.prev.status.length === 0;
    return w;
  }

  private async walk(dir: string, old: Map<string, Entry>, out: Map<string, Entry>): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // removed while walking
    }
    for (const e of entries) {
      if (out.size >= MAX_FILES) {
        this.truncated = true;
        return;
      }
      const abs = path.join(dir, e.name);
      if (e.name === '.git' || this.exclude.has(abs)) continue;
      if (e.isDirectory()) await this.walk(abs, old, out);
      else if (e.isFile()) {
        const rel = path.relative(this.root, abs).split(path.sep).join('/');
        try {
          const st = await lstat(abs);
          const was = old.get(rel);
          const sha256 = was && was.size === st.size && was.mtimeMs === st.mtimeMs ? was.sha256 : await hashFile(abs);
          out.set(rel, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
        } catch {
          /* removed while walking */
        }
      }
    }
  }

  private async snapshot(old: Map<string, Entry>): Promise<Snapshot> {
    const files = new Map<string, Entry>();
    const [, head, status] = await Promise.all([
      this.walk(this.root, old, files),
      gitHead(this.root),
      changedPaths(this.root),
    ]);
    return { files, head, status: status.paths.sort() };
  }

  /** What changed since the last call (or the start), and move on. */
  async next(): Promise<ProjectChanges> {
    const now = await this.snapshot(this.prev.files);
    const before = this.prev;
    this.prev = now;
    const files: FileChange[] = [];
    for (const [rel, e] of now.files) {
      const was = before.files.get(rel);
      if (was && was.sha256 === e.sha256) continue;
      const text = await smallText(path.join(this.root, rel), e.size).catch(() => undefined);
      files.push({ path: rel, exists: true, ...(text !== undefined ? { text } : { sha256: e.sha256 }), changed: true });
    }
    for (const rel of before.files.keys())
      if (!now.files.has(rel)) files.push({ path: rel, exists: false, changed: true });
    files.sort((a, b) => a.path.localeCompare(b.path));
    let git: GitChange | undefined;
    if (now.head !== before.head && now.head !== null) {
      git = { headMoved: true };
      const msg = await lastCommitMessage(this.root);
      if (msg !== undefined) git.lastMessage = msg;
    }
    if (now.status.join('\n') !== before.status.join('\n')) {
      // An exact claim holds in a fresh folder only when the session's own folder began clean.
      if (this.startedClean) git = { ...git, ...(now.status.length ? { status: now.status } : { clean: true }) };
      else if (now.status.some((p) => !before.status.includes(p))) git = { ...git, clean: false };
    }
    return { files, ...(git ? { git } : {}) };
  }
}
