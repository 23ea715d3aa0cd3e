import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

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
}

/** Sessions live in memory and are mirrored to one JSON file so a restarted server sees them. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly file: string;
  private readonly plainIds: boolean;
  private counter = 0;
  private tempCounter = 0;

  constructor(opts: SessionStoreOptions) {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    this.file = path.join(opts.dataDir, 'sessions.json');
    this.plainIds = opts.plainIds ?? false;
    this.load(opts.onLoadError);
  }

  get size(): number {
    return this.sessions.size;
  }

  get filePath(): string {
    return this.file;
  }

  create(projectPath: string): Session {
    const now = new Date().toISOString();
    const id = this.newId();
    const session: Session = { id, sessionId: id, projectPath, messageCount: 0, createdAt: now, lastActiveAt: now };
    this.sessions.set(id, session);
    this.persist();
    return { ...session };
  }

  get(id: string): Session | undefined {
    const found = this.sessions.get(id);
    return found ? { ...found } : undefined;
  }

  list(): Session[] {
    return [...this.sessions.values()]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((s) => ({ ...s }));
  }

  /** Applies a change and persists it; returns the updated copy, or undefined when the id is unknown. */
  update(id: string, change: (s: Session) => void): Session | undefined {
    const found = this.sessions.get(id);
    if (!found) return undefined;
    change(found);
    this.persist();
    return { ...found };
  }

  touch(id: string): Session | undefined {
    return this.update(id, (s) => {
      s.lastActiveAt = new Date().toISOString();
    });
  }

  delete(id: string): boolean {
    const existed = this.sessions.delete(id);
    if (existed) this.persist();
    return existed;
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

  private load(onError?: (error: unknown) => void): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onError?.(error);
      return;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      const list = Array.isArray(parsed) ? parsed : (parsed as { sessions?: unknown })?.sessions;
      if (!Array.isArray(list)) throw new Error(`${this.file}: expected {"sessions": [...]}`);
      for (const item of list) {
        if (isSession(item)) this.sessions.set(item.id, { ...item, sessionId: item.id });
      }
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
    fs.writeFileSync(temp, JSON.stringify({ sessions: [...this.sessions.values()] }, null, 2) + '\n');
    fs.renameSync(temp, this.file);
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
