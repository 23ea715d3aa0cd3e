// One HTTP request with node's own client (loaded with the process, so the first request of a run
// pays no lazy-loading cost that would distort a 50 ms latency budget). Each request has its own
// connection (no agent): node 20's default agent keeps sockets alive, and a socket kept from an
// earlier step could hide that the server was stopped or restarted since.
import http from 'node:http';
import https from 'node:https';
import { serverTokenFor } from './server-tokens.ts';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** `unreachable`: nothing answers at that address at all (refused, unknown host, no response in time). */
export type HttpOutcome = { ok: true; answer: HttpAnswer } | { ok: false; error: string; unreachable?: boolean };

export function httpRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  insecure = false,
  signal?: AbortSignal,
): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ ok: false, error: `not a valid URL: ${url}` });
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      resolve({ ok: false, error: `not an http:// or https:// URL: ${url}` });
      return;
    }
    // The embedded server's token, for a request to its origin that brings no Authorization of its own.
    const token = serverTokenFor(url);
    if (token !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization'))
      headers = { ...headers, authorization: `Bearer ${token}` };
    const started = performance.now();
    const lib = u.protocol === 'https:' ? https : http;
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 8 * 1024 * 1024) chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          ok: true,
          answer: {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: Math.round(performance.now() - started),
          },
        });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        resolve({ ok: false, error: e.message });
      });
    };
    let req: http.ClientRequest;
    try {
      req = lib.request(
        u,
        {
          method,
          agent: false,
          headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
          ...(insecure ? { rejectUnauthorized: false } : {}),
        },
        onResponse,
      );
    } catch (e) {
      // A header value with a line break (e.g. from a capture) is refused by node before sending.
      resolve({ ok: false, error: `${(e as NodeJS.ErrnoException).code ?? 'ERROR'}: ${(e as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ ok: false, error: `no answer within ${timeoutMs} ms`, unreachable: true });
    }, timeoutMs);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ ok: false, error: 'interrupted' });
      },
      { once: true },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        error: `${e.code ?? e.name}: ${e.message}`,
        ...(e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? { unreachable: true } : {}),
      });
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}
