// State of the project at the start of a gate, so "written in this run" and "HEAD moved"
// can be told from leftovers of an earlier run.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { runProcess } from './process.ts';

export interface FileSnapshot {
  exists: boolean;
  mtimeNs?: bigint;
  size?: number;
  sha256?: string;
}

export interface GateSnapshot {
  startedAt: number;
  head: string | null;
  files: Map<string, FileSnapshot>;
}

export async function snapshotFile(abs: string): Promise<FileSnapshot> {
  try {
    const st = await stat(abs, { bigint: true });
    if (!st.isFile()) return { exists: true, mtimeNs: st.mtimeNs };
    const buf = await readFile(abs);
    return { exists: true, mtimeNs: st.mtimeNs, size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
  } catch {
    return { exists: false };
  }
}

export async function gitHead(cwd: string): Promise<string | null> {
  const r = await runProcess('git', ['rev-parse', '--verify', '-q', 'HEAD'], { cwd, timeoutMs: 10_000 });
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

export async function takeSnapshot(project: string, files: string[]): Promise<GateSnapshot> {
  const [head, ...snaps] = await Promise.all([gitHead(project), ...files.map((f) => snapshotFile(path.resolve(project, f)))]);
  return { startedAt: Date.now(), head, files: new Map(files.map((f, i) => [f, snaps[i]!])) };
}

export function changedSince(before: FileSnapshot | undefined, now: FileSnapshot): boolean {
  if (!now.exists) return false;
  if (!before || !before.exists) return true;
  return before.mtimeNs !== now.mtimeNs || before.sha256 !== now.sha256;
}
