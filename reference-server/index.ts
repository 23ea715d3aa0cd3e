import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveConnection } from './connection.ts';
import type { ServerContext } from './context.ts';
import { parseFaults } from './faults.ts';
import { startHeartbeat } from './heartbeat.ts';
import { createRequestHandler } from './http-api.ts';
import { openLogger } from './log.ts';
import { SessionStore } from './sessions.ts';

export { FAULTS, parseFaults, type FaultName, type ParsedFaults } from './faults.ts';
export type { Session } from './sessions.ts';

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Project folder for sessions that name none. */
  root?: string;
  dataDir?: string;
  logDir?: string;
  faults?: string[];
  pingIntervalMs?: number;
  /** Delay used by the slow fault. */
  slowMs?: number;
  /** Kill limit for execute_command (30000 unless a test needs a shorter one). */
  execTimeoutMs?: number;
}

export interface RunningServer {
  url: string;
  httpUrl: string;
  port: number;
  dataDir: string;
  logDir: string;
  close(): Promise<void>;
}

/** Beside the project, never inside it: session files inside would show up in the project's git status. */
export function defaultDataDir(root: string): string {
  const hash = crypto.createHash('sha1').update(path.resolve(root)).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `wsgate-server-${hash}`);
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
  const host = opts.host ?? '127.0.0.1';
  const root = path.resolve(opts.root ?? process.cwd());
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir(root));
  const logDir = path.resolve(opts.logDir ?? path.join(dataDir, 'logs'));
  const parsed = parseFaults(opts.faults ?? []);
  const faults = new Set(parsed.names);
  fs.mkdirSync(dataDir, { recursive: true });

  const logger = openLogger(logDir);
  const store = new SessionStore({
    dataDir,
    plainIds: faults.has('bad-session-id'),
    onLoadError: (error) => logger.log('error', 'sessions_load_failed', { error: String(error) }),
  });

  const waits = new Set<{ timer: NodeJS.Timeout; resolve: (v: boolean) => void }>();
  const children = new Set<() => void>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  let accepted = 0;

  const ctx: ServerContext = {
    root,
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

  const server = http.createServer(createRequestHandler(ctx));
  server.on('upgrade', (req, socket: net.Socket, head) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== '/ws') {
      logger.log('warn', 'upgrade_rejected', { url: req.url, status: 404 });
      return rejectUpgrade(socket, 404, 'Not Found');
    }
    if (faults.has('refuse-after') && accepted >= (ctx.refuseAfter ?? 0)) {
      logger.log('warn', 'upgrade_rejected', { url: req.url, status: 503, fault: 'refuse-after' });
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

  let port: number;
  try {
    port = await listen(server, opts.port ?? 3001, host);
  } catch (error) {
    stopHeartbeat();
    logger.close();
    throw error;
  }
  logger.log('info', 'server_start', { host, port, root, dataDir, logDir, faults: [...faults], pid: process.pid });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stopHeartbeat();
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
  return { url: `ws://${base}/ws`, httpUrl: `http://${base}`, port, dataDir, logDir, close };
}
