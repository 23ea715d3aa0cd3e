import type http from 'node:http';
import { loggableUrl, type Refusal } from './access.ts';
import type { ServerContext } from './context.ts';
import { resolveProjectPath } from './project-path.ts';

const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * A body that is not declared JSON is refused before it is read: a web page can send text/plain across
 * sites without a CORS preflight, never application/json (the Origin check is the other half).
 */
function requireJsonContentType(req: http.IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, `Content-Type must be application/json, got ${type === '' ? 'none' : type}`);
  }
}

async function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  requireJsonContentType(req);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `Invalid JSON body: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'Request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function health(ctx: ServerContext, res: http.ServerResponse): void {
  if (ctx.faults.has('unhealthy')) return sendJson(res, 503, { status: 'unhealthy' });
  sendJson(res, 200, {
    status: 'healthy',
    uptime: (Date.now() - ctx.startedAt) / 1000,
    connections: ctx.openConnections(),
    sessions: ctx.store.size,
    logDir: ctx.logDir,
    timestamp: new Date().toISOString(),
  });
}

async function route(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const allow = (methods: string[]) => {
    if (!methods.includes(method)) throw new HttpError(405, `Method ${method} not allowed on ${pathname}`);
  };

  if (pathname === '/health') {
    allow(['GET', 'HEAD']);
    return health(ctx, res);
  }
  if (pathname === '/api/v1/sessions') {
    allow(['GET', 'POST']);
    if (method === 'GET') {
      const sessions = ctx.store.list();
      return sendJson(res, 200, { sessions, count: sessions.length });
    }
    const body = await readJsonBody(req);
    const project = resolveProjectPath(ctx.root, body.projectPath, ctx.projects);
    if (!project.ok) throw new HttpError(project.code === 'PROJECT_OUTSIDE_ROOT' ? 403 : 400, project.error);
    const session = ctx.store.create(project.path);
    ctx.logger.log('info', 'session_created', { via: 'rest', sessionId: session.id, projectPath: session.projectPath });
    return sendJson(res, 201, { session });
  }
  const one = /^\/api\/v1\/sessions\/([^/]+)$/.exec(pathname);
  if (one) {
    allow(['GET', 'DELETE']);
    const id = decodeURIComponent(one[1]!);
    if (method === 'GET') {
      const session = ctx.store.get(id);
      if (!session) throw new HttpError(404, `Session not found: ${id}`);
      return sendJson(res, 200, { session });
    }
    if (!ctx.store.delete(id)) throw new HttpError(404, `Session not found: ${id}`);
    ctx.logger.log('info', 'session_deleted', { via: 'rest', sessionId: id });
    return sendJson(res, 200, { deleted: true, sessionId: id });
  }
  throw new HttpError(404, `Not found: ${pathname}`);
}

/** `admit` is the access rule (Host, Origin, token), applied before any route runs. */
export function createRequestHandler(
  ctx: ServerContext,
  admit: (req: http.IncomingMessage) => Refusal | undefined,
): http.RequestListener {
  return (req, res) => {
    const refusal = admit(req);
    if (refusal) {
      req.resume();
      return sendJson(res, refusal.status, { error: refusal.reason });
    }
    route(ctx, req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      ctx.logger.log(status >= 500 ? 'error' : 'warn', 'http_error', {
        method: req.method,
        url: loggableUrl(req.url),
        status,
        error: message,
      });
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.end();
    });
  };
}
