import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkAccess, generateToken, loggableUrl, normalizeOrigin, type AccessPolicy } from './access.ts';
import { serveConnection } from './connection.ts';
import type { ServerContext } from './context.ts';
import { parseFaults } from './faults.ts';
import { startHeartbeat } from './heartbeat.ts';
import { createRequestHandler } from './http-api.ts';
import { openLogger } from './log.ts';
import { DEFAULT_MAX_CHAT_BYTES, DEFAULT_MAX_PAYLOAD_BYTES, validateOptions, type ServerOptions } from './options.ts';
import { ensurePrivateDir } from './private-files.ts';
import { projectAllowed, realPathOr, type ProjectPolicy } from './project-path.ts';
import { DEFAULT_SESSION_IDLE_TTL_MS, SessionStore } from './sessions.ts';

export { FAULTS, parseFaults, type FaultName, type ParsedFaults } from './faults.ts';
export type { Session } from './sessions.ts';
export { ServerConfigError, validateOptions, type ServerOptions } from './options.ts';

export interface RunningServer {
  url: string;
  httpUrl: string;
  port: number;
  dataDir: string;
  logDir: string;
  /** The token every client must present, when one is required (given, or generated for --allow-remote). */
  token: string | undefined;
  close(): Promise<void>;
}

/**
 * A fresh private folder (mkdtemp: 0700, a name nobody could have pre-created), outside the project so
 * sessions.json never shows up in its git status. A predictable shared name let another local user plant it.
 */
export function defaultDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-server-'));
}

function rejectUpgrade(socket: net.Socket, status: number, text: string): void {
  const body = JSON.stringify({ error: text });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startReferenceServer(opts: ServerOptions = {}): Promise<RunningServer> {
  validateOptions(opts);
  const host = opts.host ?? '127.0.0.1';
  const root = path.resolve(opts.root ?? process.cwd());
  const parsed = parseFaults(opts.faults ?? []);
  const faults = new Set(parsed.names);
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
  ensurePrivateDir(dataDir, 'data folder');
  const logDir = path.resolve(opts.logDir ?? path.join(dataDir, 'logs'));
  const projects: ProjectPolicy = {
    realRoot: realPathOr(root),
    allowAny: opts.allowAnyProject ?? false,
    allowExtra: opts.allowProject,
  };
  const token = opts.token ?? (opts.allowRemote ? generateToken() : undefined);
  const policy: AccessPolicy = {
    port: 0,
    allowOrigins: new Set((opts.allowOrigins ?? []).map((o) => normalizeOrigin(o)!)),
    allowHosts: (opts.allowHosts ?? []).map((h) => h.toLowerCase()),
    allowRemote: opts.allowRemote ?? false,
    token,
  };

  const logger = openLogger(logDir, opts.logMaxBytes);
  let store: SessionStore;
  try {
    store = new SessionStore({
      dataDir,
      plainIds: faults.has('bad-session-id'),
      maxSessions: opts.maxSessions,
      idleTtlMs: opts.sessionIdleTtlMs,
      projectAllowed: (p) => projectAllowed(projects, p),
      onEvict: (s) => logger.log('info', 'session_evicted', { sessionId: s.id, lastActiveAt: s.lastActiveAt }),
      onLoadError: (error) => logger.log('error', 'sessions_load_failed', { error: String(error) }),
    });
  } catch (error) {
    logger.close();
    throw error;
  }

  const waits = new Set<{ timer: NodeJS.Timeout; resolve: (v: boolean) => void }>();
  const children = new Set<() => void>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES });
  let accepted = 0;

  const ctx: ServerContext = {
    root,
    projects,
    maxChatBytes: opts.maxChatBytes ?? DEFAULT_MAX_CHAT_BYTES,
    leaked: [],
    store,
    logger,
    faults,
    refuseAfter: parsed.refuseAfter,
    slowMs: opts.slowMs ?? 6000,
    execTimeoutMs: opts.execTimeoutMs ?? 30_000,
    startedAt: Date.now(),
    logDir,
    openConnections: () => wss.clients.size,
    wait(ms) {
      return new Promise((resolve) => {
        const entry = { timer: setTimeout(() => (waits.delete(entry), resolve(true)), ms), resolve };
        waits.add(entry);
      });
    },
    trackChild(kill) {
      children.add(kill);
      return () => children.delete(kill);
    },
  };

  // Every refusal is logged with what made it (clipped by the logger), never silently dropped.
  const admit = (req: http.IncomingMessage, upgrade: boolean) => {
    const refusal = checkAccess(req, policy, upgrade);
    if (refusal) {
      logger.log('warn', 'request_refused', {
        kind: upgrade ? 'upgrade' : 'http',
        method: req.method,
        url: loggableUrl(req.url),
        status: refusal.status,
        reason: refusal.reason,
        remote: req.socket.remoteAddress,
      });
    }
    return refusal;
  };
  const server = http.createServer(createRequestHandler(ctx, (req) => admit(req, false)));
  server.on('upgrade', (req, socket: net.Socket, head) => {
    const refusal = admit(req, true);
    if (refusal) return rejectUpgrade(socket, refusal.status, refusal.status === 401 ? 'Unauthorized' : 'Forbidden');
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== '/ws') {
      logger.log('warn', 'upgrade_rejected', { url: loggableUrl(req.url), status: 404 });
      return rejectUpgrade(socket, 404, 'Not Found');
    }
    if (faults.has('refuse-after') && accepted >= (ctx.refuseAfter ?? 0)) {
      logger.log('warn', 'upgrade_rejected', { url: loggableUrl(req.url), status: 503, fault: 'refuse-after' });
      return rejectUpgrade(socket, 503, 'Service Unavailable');
    }
    accepted++;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
    serveConnection(ctx, ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`);
  });
  const stopHeartbeat = startHeartbeat(wss, opts.pingIntervalMs ?? 30_000, () =>
    logger.log('warn', 'connection_dropped', { reason: 'no pong since the last ping round' }),
  );
  const ttl = opts.sessionIdleTtlMs ?? DEFAULT_SESSION_IDLE_TTL_MS;
  const sweep = setInterval(
    () => {
      const dropped = store.expire();
      if (dropped > 0) logger.log('info', 'sessions_expired', { count: dropped });
    },
    Math.min(ttl, 60_000),
  );
  sweep.unref();

  let port: number;
  try {
    port = await listen(server, opts.port ?? 3001, host);
  } catch (error) {
    stopHeartbeat();
    clearInterval(sweep);
    logger.close();
    throw error;
  }
  policy.port = port;
  logger.log('info', 'server_start', {
    host,
    port,
    root,
    dataDir,
    logDir,
    faults: [...faults],
    pid: process.pid,
    allowOrigins: [...policy.allowOrigins],
    allowHosts: policy.allowHosts,
    allowRemote: policy.allowRemote,
    tokenRequired: token !== undefined,
    allowAnyProject: projects.allowAny,
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stopHeartbeat();
      clearInterval(sweep);
      ctx.leaked.length = 0;
      for (const entry of waits) {
        clearTimeout(entry.timer);
        entry.resolve(false);
      }
      waits.clear();
      for (const kill of children) kill();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      logger.log('info', 'server_stop', { port });
      logger.close();
    })();
    return closing;
  };

  const base = `${formatHost(host)}:${port}`;
  return { url: `ws://${base}/ws`, httpUrl: `http://${base}`, port, dataDir, logDir, token, close };
}
