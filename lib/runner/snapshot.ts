// State of the project at the start of a gate, so "written in this run" and "HEAD moved"
// can be told from leftovers of an earlier run.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { gitHead } from '../os/git.ts';

export interface FileSnapshot {
  exists: boolean;
  mtimeNs?: bigint;
  size?: number;
  sha256?: string;
}

export interface GateSnapshot {
  startedAt: number;
  /** HEAD at the gate's start (null: no commit yet); only recorded for gates that ask (headMoved). */
  head?: string | null;
  files: Map<string, FileSnapshot>;
}

export async function snapshotFile(abs: string): Promise<FileSnapshot> {
  try {
    const st = await stat(abs, { bigint: true });
    if (!st.isFile()) return { exists: true, mtimeNs: st.mtimeNs };
    // Hashed as it streams by, 1 MB at a time: a file a server left may be any size (a 1.5 GB one read
    // whole took 1.6 GB of memory).
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(abs, { highWaterMark: 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { exists: true, mtimeNs: st.mtimeNs, size, sha256: hash.digest('hex') };
  } catch {
    return { exists: false };
  }
}

export async function takeSnapshot(project: string, files: string[], withHead = true): Promise<GateSnapshot> {
  const [head, ...snaps] = await Promise.all([
    withHead ? gitHead(project) : undefined,
    ...files.map((f) => snapshotFile(path.resolve(project, f))),
  ]);
  return {
    startedAt: Date.now(),
    ...(withHead ? { head: head as string | null } : {}),
    files: new Map(files.map((f, i) => [f, snaps[i] as FileSnapshot])),
  };
}

/** Filesystem timestamps come from a coarse kernel clock that can lag Date.now() by a few ms. */
const MTIME_SLACK_MS = 20;

/**
 * `before` is the file's state at the gate's start, or undefined when its path was not known then
 * (it comes from a capture). In that case "undefined" must not mean "created in this gate": a stale
 * file left by an earlier run would pass. Fall back to its mtime against the gate's start time.
 */
export function changedSince(before: FileSnapshot | undefined, now: FileSnapshot, gateStartedAt?: number): boolean {
  if (!now.exists) return false;
  if (!before)
    return (
      gateStartedAt === undefined ||
      now.mtimeNs === undefined ||
      now.mtimeNs >= BigInt(gateStartedAt - MTIME_SLACK_MS) * 1_000_000n
    );
  if (!before.exists) return true;
  return before.mtimeNs !== now.mtimeNs || before.sha256 !== now.sha256;
}
