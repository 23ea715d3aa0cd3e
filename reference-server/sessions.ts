import crypto from 'node:crypto';
import path from 'node:path';
import { ensurePrivateDir, readPrivateFile, writePrivateFileAtomic } from './private-files.ts';

export interface Session {
  id: string;
  sessionId: string;
  projectPath: string;
  messageCount: number;
  createdAt: string;
  lastActiveAt: string;
}

export interface SessionStoreOptions {
  dataDir: string;
  /** The bad-session-id fault: ids that are not UUIDs. */
  plainIds?: boolean;
  onLoadError?: (error: unknown) => void;
  /**
   * At most this many sessions at once: creating one more drops the least recently active. Refusing
   * instead would let one client lock everyone out, and any client may delete sessions anyway.
   */
  maxSessions?: number;
  /** Told about each session the cap dropped. */
  onEvict?: (session: Session) => void;
  /** A session untouched for this long is dropped. */
  idleTtlMs?: number;
  /** Entries in sessions.json whose project this says no to are dropped when loading. */
  projectAllowed?: (projectPath: string) => boolean;
}

export const DEFAULT_MAX_SESSIONS = 1000;
export const DEFAULT_SESSION_IDLE_TTL_MS = 60 * 60 * 1000;

/** Sessions live in memory and are mirrored to one JSON file so a restarted server sees them. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly file: string;
  private readonly plainIds: boolean;
  private readonly maxSessions: number;
  private readonly idleTtlMs: number;
  private readonly onEvict: (session: Session) => void;
  private counter = 0;
  private tempCounter = 0;

  constructor(opts: SessionStoreOptions) {
    ensurePrivateDir(opts.dataDir, 'data folder');
    this.file = path.join(opts.dataDir, 'sessions.json');
    this.plainIds = opts.plainIds ?? false;
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.idleTtlMs = opts.idleTtlMs ?? DEFAULT_SESSION_IDLE_TTL_MS;
    this.onEvict = opts.onEvict ?? (() => {});
    this.load(opts.onLoadError, opts.projectAllowed ?? (() => true));
  }

  get size(): number {
    this.expire();
    return this.sessions.size;
  }

  get filePath(): string {
    return this.file;
  }

  create(projectPath: string): Session {
    this.expire();
    while (this.sessions.size >= this.maxSessions) this.evictLeastRecent();
    const now = new Date().toISOString();
    const id = this.newId();
    const session: Session = { id, sessionId: id, projectPath, messageCount: 0, createdAt: now, lastActiveAt: now };
    this.sessions.set(id, session);
    this.persist();
    return { ...session };
  }

  get(id: string): Session | undefined {
    const found = this.live(id);
    return found ? { ...found } : undefined;
  }

  list(): Session[] {
    this.expire();
    return [...this.sessions.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((s) => ({ ...s }));
  }

  /** Applies a change and persists it; returns the updated copy, or undefined when the id is unknown. */
  update(id: string, change: (s: Session) => void): Session | undefined {
    const found = this.live(id);
    if (!found) return undefined;
    change(found);
    // Map order is recency order: the first entry is the one the cap drops next.
    this.sessions.delete(id);
    this.sessions.set(id, found);
    this.persist();
    return { ...found };
  }

  touch(id: string): Session | undefined {
    return this.update(id, (s) => {
      s.lastActiveAt = new Date().toISOString();
    });
  }

  delete(id: string): boolean {
    const existed = this.live(id) !== undefined && this.sessions.delete(id);
    if (existed) this.persist();
    return existed;
  }

  /** Drops every session idle for longer than the TTL; returns how many went. */
  expire(now = Date.now()): number {
    let dropped = 0;
    for (const s of this.sessions.values()) {
      if (this.isExpired(s, now)) {
        this.sessions.delete(s.id);
        dropped++;
      }
    }
    if (dropped > 0) this.persist();
    return dropped;
  }

  private evictLeastRecent(): void {
    const oldest = this.sessions.values().next().value as Session | undefined;
    if (!oldest) return;
    this.sessions.delete(oldest.id);
    this.onEvict({ ...oldest });
  }

  private isExpired(s: Session, now: number): boolean {
    const last = Date.parse(s.lastActiveAt);
    return !Number.isFinite(last) || now - last > this.idleTtlMs;
  }

  /** The stored session unless it has expired (then it is dropped on the spot). */
  private live(id: string): Session | undefined {
    const found = this.sessions.get(id);
    if (found && this.isExpired(found, Date.now())) {
      this.sessions.delete(id);
      this.persist();
      return undefined;
    }
    return found;
  }

  private newId(): string {
    if (!this.plainIds) return crypto.randomUUID();
    // Ids survive restarts, so the counter skips ids an earlier run already handed out.
    let id: string;
    do {
      this.counter++;
      id = `sess-${this.counter}`;
    } while (this.sessions.has(id));
    return id;
  }

  private load(
    onError: ((error: unknown) => void) | undefined,
    projectAllowed: (projectPath: string) => boolean,
  ): void {
    let text: string | undefined;
    try {
      text = readPrivateFile(this.file);
    } catch (error) {
      onError?.(error);
      return;
    }
    if (text === undefined) return;
    try {
      const parsed: unknown = JSON.parse(text);
      const list = Array.isArray(parsed) ? parsed : (parsed as { sessions?: unknown })?.sessions;
      if (!Array.isArray(list)) throw new Error(`${this.file}: expected {"sessions": [...]}`);
      const loaded = list
        .filter(isSession)
        .sort((a, b) => (a.lastActiveAt < b.lastActiveAt ? -1 : a.lastActiveAt > b.lastActiveAt ? 1 : 0));
      for (const item of loaded) {
        if (!projectAllowed(item.projectPath)) {
          onError?.(
            new Error(`${this.file}: dropped session ${item.id}: its project ${item.projectPath} is not allowed here`),
          );
          continue;
        }
        this.sessions.set(item.id, { ...item, sessionId: item.id });
      }
      this.expire();
      while (this.sessions.size > this.maxSessions) this.evictLeastRecent();
    } catch (error) {
      onError?.(error);
    }
  }

  /**
   * Written synchronously through a temp file and a rename: a reader (or a crash) never sees half a
   * file, and two quick updates cannot land out of order.
   */
  private persist(): void {
    const temp = `${this.file}.${process.pid}.${++this.tempCounter}.tmp`;
    writePrivateFileAtomic(this.file, temp, JSON.stringify({ sessions: [...this.sessions.values()] }, null, 2) + '\n');
  }
}

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    typeof v.projectPath === 'string' &&
    typeof v.messageCount === 'number' &&
    typeof v.createdAt === 'string' &&
    typeof v.lastActiveAt === 'string'
  );
}
