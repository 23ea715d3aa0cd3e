import type { ServerContext } from './context.ts';
import type { Outbox } from './outbox.ts';
import { resolveProjectPath } from './project-path.ts';
import type { Session } from './sessions.ts';

/** Per-connection state the handlers read and change. */
export interface Binding {
  connectionId: string;
  sessionId: string | undefined;
}

function initialized(s: Session) {
  return {
    type: 'session_initialized',
    sessionId: s.id,
    // Documented: whether the session already has a conversation to continue.
    hasContext: s.messageCount > 0,
    projectPath: s.projectPath,
    messageCount: s.messageCount,
    createdAt: s.createdAt,
    lastActiveAt: s.lastActiveAt,
  };
}

function notFound(out: Outbox, id: unknown): void {
  out.error(`Session not found: ${String(id)}`, 'SESSION_NOT_FOUND');
}

export function handleInitSession(
  ctx: ServerContext,
  out: Outbox,
  binding: Binding,
  msg: Record<string, unknown>,
): void {
  if (msg.sessionId !== undefined && msg.sessionId !== null) {
    if (typeof msg.sessionId !== 'string') {
      out.error('sessionId must be a string', 'INVALID_MESSAGE');
      return;
    }
    const resumed = ctx.store.touch(msg.sessionId);
    if (!resumed) return notFound(out, msg.sessionId);
    binding.sessionId = resumed.id;
    out.send(initialized(resumed));
    return;
  }
  const project = resolveProjectPath(ctx.root, msg.projectPath, ctx.projects);
  if (!project.ok) {
    out.error(project.error, project.code);
    return;
  }
  const session = ctx.store.create(project.path);
  binding.sessionId = session.id;
  ctx.logger.log('info', 'session_created', {
    connectionId: binding.connectionId,
    sessionId: session.id,
    projectPath: session.projectPath,
  });
  out.send(initialized(session));
}

export function handleListSessions(ctx: ServerContext, out: Outbox): void {
  const sessions = ctx.store.list();
  out.send({ type: 'sessions_list', sessions, count: sessions.length });
}

export function handleGetSession(ctx: ServerContext, out: Outbox, msg: Record<string, unknown>): void {
  const session = typeof msg.sessionId === 'string' ? ctx.store.get(msg.sessionId) : undefined;
  if (!session) return notFound(out, msg.sessionId);
  out.send({ type: 'session_data', session });
}

export function handleDeleteSession(
  ctx: ServerContext,
  out: Outbox,
  binding: Binding,
  msg: Record<string, unknown>,
): void {
  if (typeof msg.sessionId !== 'string' || !ctx.store.delete(msg.sessionId)) return notFound(out, msg.sessionId);
  if (binding.sessionId === msg.sessionId) binding.sessionId = undefined;
  ctx.logger.log('info', 'session_deleted', { connectionId: binding.connectionId, sessionId: msg.sessionId });
  out.send({ type: 'session_deleted', sessionId: msg.sessionId });
}
