// The stand-in's HTTP edge, with a plain HTTP client: requests from web pages and for other Host names
// are refused (a page cannot drive it through DNS rebinding), unknown endpoints and methods get the API's
// error shape, and a non-loopback address needs allowRemote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { isLoopback } from '../../lib/model-api/loopback.ts';
import { startModelServer } from '../../lib/model-api/server.ts';
import { scriptOf } from '../../lib/model-api/rules.ts';
import { standIn } from './helpers.ts';

/** One request with headers fetch would not let us set (Host). */
function request(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: unknown }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? 'POST',
        path: opts.path,
        headers: { 'content-type': 'application/json', ...opts.headers },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.end(opts.body ?? JSON.stringify({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }));
  });
}

test('loopback names and addresses', () => {
  for (const h of [
    '127.0.0.1',
    '127.1.2.3',
    '::1',
    '[::1]',
    'localhost',
    'LOCALHOST',
    'app.localhost',
    '::ffff:127.0.0.1',
  ])
    assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', '::', 'localhost.example.com', '128.0.0.1'])
    assert.equal(isLoopback(h), false, h);
});

test("a foreign Host header or a web page Origin is refused with 403 in the API's error shape; loopback ones are served", async (t) => {
  const s = await standIn(t, { rules: [{ when: { user: 'hi' }, text: 'hello' }] });
  const rebound = await request(s.url, { path: '/v1/messages', headers: { host: 'attacker.example:80' } });
  assert.equal(rebound.status, 403);
  assert.deepEqual((rebound.body as { error: { type: string } }).error.type, 'permission_error');
  const page = await request(s.url, {
    path: '/v1/chat/completions',
    headers: { origin: 'https://attacker.example' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(page.status, 403);
  assert.equal((page.body as { error: { type: string } }).error.type, 'invalid_request_error');
  const local = await request(s.url, {
    path: '/v1/messages',
    headers: { host: 'localhost', origin: 'http://localhost:5173' },
  });
  assert.equal(local.status, 200);
  assert.deepEqual(
    s.log.records.map((r) => r.status),
    [403, 403, 200],
  );
});

test("an unknown endpoint gets 404 and a GET 405, each in its API's shape", async (t) => {
  const s = await standIn(t, { rules: [] });
  const missing = await request(s.url, { path: '/v1/complete' });
  assert.equal(missing.status, 404);
  assert.equal((missing.body as { type: string }).type, 'error');
  const get = await request(s.url, { method: 'GET', path: '/v1/chat/completions' });
  assert.equal(get.status, 405);
  assert.deepEqual(Object.keys((get.body as { error: object }).error).sort(), ['code', 'message', 'param', 'type']);
});

test('a non-loopback address is refused unless allowRemote', async () => {
  await assert.rejects(
    startModelServer({ script: scriptOf({ rules: [] }), host: '0.0.0.0' }),
    /not a loopback address/,
  );
});
