import crypto from 'node:crypto';
import type { WebSocket } from 'ws';
import { handleChat } from './chat.ts';
import type { ServerContext } from './context.ts';
import { Outbox } from './outbox.ts';
import {
  handleDeleteSession,
  handleGetSession,
  handleInitSession,
  handleListSessions,
  type Binding,
} from './session-messages.ts';
import { handleSlashCommand } from './slash.ts';

export const SERVER_NAME = 'wsgate-reference';
export const SERVER_VERSION = '1.0.0';
const LEAK_BYTES_PER_MESSAGE = 1024 * 1024;

type Parsed =
  | { ok: true; msg: Record<string, unknown> & { type: string } }
  | { ok: false; error: string; code: string };

function parse(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `Invalid JSON: ${(error as Error).message}`, code: 'INVALID_JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'Invalid message: expected a JSON object', code: 'INVALID_MESSAGE' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type === '') {
    return { ok: false, error: 'Invalid message: missing string field "type"', code: 'INVALID_MESSAGE' };
  }
  return { ok: true, msg: value as Record<string, unknown> & { type: string } };
}

function chatText(msg: Record<string, unknown>): string | undefined {
  // The testing guide sends "message" while the backend it describes reads "content"; both are accepted.
  for (const field of ['message', 'content']) {
    const value = msg[field];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

/** Serves one client: welcome, then its messages one at a time in arrival order. */
export function serveConnection(ctx: ServerContext, socket: WebSocket, remote: string): void {
  const binding: Binding = { connectionId: crypto.randomUUID(), sessionId: undefined };
  const log = (level: 'info' | 'warn' | 'error', event: string, fields: Record<string, unknown> = {}) =>
    ctx.logger.log(level, event, { connectionId: binding.connectionId, ...fields });
  const out = new Outbox(socket, ctx.faults, (error, code) => log('error', 'client_error', { code, error }));
  log('info', 'connection_open', { remote });

  out.send({ type: 'connected', connectionId: binding.connectionId, server: SERVER_NAME, version: SERVER_VERSION });
  if (ctx.faults.has('chatty')) out.send({ type: 'banner', text: '> Welcome to the reference server' });
  if (ctx.faults.has('garbage')) out.sendRaw('garbage: not json');

  // A chain keeps replies in request order even when a tool takes a while.
  let queue = Promise.resolve();
  socket.on('message', (data, isBinary) => {
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    queue = queue
      .then(() => handle(text, isBinary))
      .catch((error: unknown) => {
        log('error', 'handler_failed', { error: error instanceof Error ? error.stack : String(error) });
        out.error('Internal server error', 'INTERNAL_ERROR');
      });
  });
  socket.on('close', (code, reason) => log('info', 'connection_close', { code, reason: reason.toString() }));
  socket.on('error', (error) => log('error', 'socket_error', { error: error.message }));

  async function handle(text: string, isBinary: boolean): Promise<void> {
    // The leak fault: memory that grows with every message and is never given back (a per-message
    // cache nobody evicts), for a soak check to catch. fill() touches every page, so RSS really grows.
    if (ctx.faults.has('leak')) ctx.leaked.push(Buffer.alloc(LEAK_BYTES_PER_MESSAGE, 1));
    const parsed = parse(text);
    log('info', 'message_received', { type: parsed.ok ? parsed.msg.type : null, binary: isBinary, bytes: text.length });
    if (!parsed.ok && parsed.code === 'INVALID_JSON' && ctx.faults.has('drop-on-error')) {
      out.close(1008, 'invalid JSON');
      return;
    }
    const msg = parsed.ok ? parsed.msg : undefined;
    // The silent faults send nothing at all, not even the preamble.
    if (msg?.type === 'init_session' && ctx.faults.has('no-session')) return;
    if (msg?.type === 'ping' && ctx.faults.has('no-pong')) return;

    if (ctx.faults.has('slow') && !(await ctx.wait(ctx.slowMs))) return;
    if (!out.open) return;
    out.preamble();
    if (!parsed.ok) {
      out.error(parsed.error, parsed.code);
      return;
    }
    await dispatch(parsed.msg);
  }

  async function dispatch(msg: Record<string, unknown> & { type: string }): Promise<void> {
    switch (msg.type) {
      case 'init_session':
        return handleInitSession(ctx, out, binding, msg);
      case 'message': {
        const text = chatText(msg);
        if (text === undefined)
          return reject('message needs a non-empty string "message" or "content"', 'INVALID_MESSAGE');
        if (tooLong(text)) return;
        if (text.trim().startsWith('/')) return handleSlashCommand(ctx, out, binding, text);
        return handleChat(ctx, out, binding, text);
      }
      case 'slash_command':
        if (typeof msg.command === 'string' && tooLong(msg.command)) return;
        return handleSlashCommand(ctx, out, binding, msg.command);
      case 'list_sessions':
        return handleListSessions(ctx, out);
      case 'get_session':
        return handleGetSession(ctx, out, msg);
      case 'delete_session':
        return handleDeleteSession(ctx, out, binding, msg);
      case 'ping':
        return out.send({ type: 'pong' });
      default:
        return reject(`Unknown message type: ${msg.type}`, 'UNKNOWN_TYPE');
    }
  }

  function reject(error: string, code: string): void {
    out.error(error, code);
  }

  /** Text past the cap never reaches the planner: an error reply, and the connection stays usable. */
  function tooLong(text: string): boolean {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= ctx.maxChatBytes) return false;
    reject(`Message too large: ${bytes} bytes of text, at most ${ctx.maxChatBytes}`, 'MESSAGE_TOO_LARGE');
    return true;
  }
}
