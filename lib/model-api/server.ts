// The model API stand-in's HTTP server (node:http, nothing else): POST /v1/messages speaks the Anthropic
// Messages API, POST /v1/chat/completions the OpenAI Chat Completions API. Any API key is accepted: the
// backend under test is run with a placeholder one. It listens on loopback only unless allowRemote, and
// refuses requests from web pages and Host names other than loopback ones (a page must not drive it).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopback } from './loopback.ts';
import { readAnthropicRequest } from './anthropic-request.ts';
import { anthropicError, writeAnthropic } from './anthropic-reply.ts';
import { requestTokens } from './ids.ts';
import { BadRequest, isObject, type Conversation } from './conversation.ts';
import { ModelLog, type KeyKind } from './evidence-log.ts';
import { readOpenAIRequest } from './openai-request.ts';
import { openaiError, writeOpenAI } from './openai-reply.ts';
import { Pacer } from './pacing.ts';
import { chooseReply, type ModelScript } from './rules.ts';
import { sendJson } from './stream-out.ts';

export interface ModelServerOptions {
  script: ModelScript;
  host?: string;
  port?: number;
  /** model.jsonl to append to. */
  logFile?: string;
  allowRemote?: boolean;
}

export interface ModelServer {
  /** http://HOST:PORT (no /v1: the Anthropic SDK's base URL; the OpenAI SDK's is url + '/v1'). */
  url: string;
  log: ModelLog;
  close(): Promise<void>;
}

/** Request bodies larger than this are refused (a conversation with big tool results stays far below). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

type Api = 'anthropic' | 'openai';
const ROUTES: Record<string, Api> = { '/v1/messages': 'anthropic', '/v1/chat/completions': 'openai' };

function errorFor(
  api: Api | undefined,
  status: number,
  message: string,
  param: string | null = null,
): { status: number; body: unknown } {
  if (api === 'openai') return openaiError(status, message, param, status === 404 ? 'unknown_url' : null);
  const type =
    status === 404
      ? 'not_found_error'
      : status === 403
        ? 'permission_error'
        : status === 413
          ? 'request_too_large'
          : 'invalid_request_error';
  return anthropicError(status, type, message);
}

function readBody(req: http.IncomingMessage): Promise<{ ok: true; text: string } | { ok: false; tooLarge: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve({ ok: false, tooLarge: true });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', () => resolve({ ok: false, tooLarge: false }));
  });
}

/** Placeholder keys as documented (test, the run's placeholder, anything starting with them). */
const PLACEHOLDER = /^(test|dummy|placeholder|sk-test|wsgate)/i;

function keyKind(h: http.IncomingHttpHeaders): KeyKind {
  const key = typeof h['x-api-key'] === 'string' ? h['x-api-key'] : /^Bearer\s+(.*)$/i.exec(h.authorization ?? '')?.[1];
  return key === undefined || key === '' ? 'none' : PLACEHOLDER.test(key) ? 'placeholder' : 'other';
}

/** The Host header's name (without port), or undefined when there is none. */
function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(header.trim());
  return m ? m[1] : header;
}

export async function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.allowRemote)
    throw new Error(
      `--host ${host} is not a loopback address; the model stand-in listens on loopback only (127.0.0.1, ::1, localhost) unless --allow-remote`,
    );
  const log = new ModelLog(opts.logFile);
  const closing = new AbortController();

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const api =
      ROUTES[path] ?? (path.startsWith('/v1/chat') ? 'openai' : path.startsWith('/v1/') ? 'anthropic' : undefined);
    const refuse = (status: number, message: string, param: string | null = null) => {
      const e = errorFor(api, status, message, param);
      log.refused(api ?? 'unknown', path, status, message);
      sendJson(res, e.status, e.body);
    };
    if (!opts.allowRemote) {
      const name = hostName(req.headers.host);
      if (name !== undefined && !isLoopback(name))
        return refuse(403, `Host ${name} is not served: the model stand-in answers loopback names only`);
      const origin = req.headers.origin;
      if (origin !== undefined) {
        let ok = false;
        try {
          ok = isLoopback(new URL(origin).hostname);
        } catch {
          ok = false;
        }
        if (!ok) return refuse(403, `requests from the web page ${origin} are refused`);
      }
    }
    if (!ROUTES[path])
      return refuse(
        404,
        `no such endpoint: ${req.method} ${path} (the stand-in serves POST /v1/messages and POST /v1/chat/completions)`,
      );
    if (req.method !== 'POST') return refuse(405, `${req.method} ${path}: only POST is served`);
    const body = await readBody(req);
    if (!body.ok) return body.tooLarge ? refuse(413, `the request body is over ${MAX_BODY_BYTES} bytes`) : undefined;
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch (e) {
      return refuse(400, `the request body is not valid JSON: ${(e as Error).message}`);
    }
    let conv: Conversation;
    try {
      conv = api === 'openai' ? readOpenAIRequest(json) : readAnthropicRequest(json);
    } catch (e) {
      if (e instanceof BadRequest) return refuse(400, e.message, e.param ?? null);
      throw e;
    }
    const reply = chooseReply(conv, opts.script);
    // The reply stops when the client goes away or the stand-in closes.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const signal = AbortSignal.any([gone.signal, closing.signal]);
    const inputTokens = requestTokens(json);
    const out = { res, pacer: new Pacer(reply.ttftMs, reply.tokensPerSecond, signal), startedAt, inputTokens };
    const includeUsage = isObject(json) && isObject(json.stream_options) && json.stream_options.include_usage === true;
    const timing =
      api === 'openai' ? await writeOpenAI(conv, reply, out, includeUsage) : await writeAnthropic(conv, reply, out);
    log.answered(path, conv, reply, timing, keyKind(req.headers), inputTokens);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, {
          type: 'error',
          error: { type: 'api_error', message: `wsgate model: ${(e as Error).message}` },
        });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
