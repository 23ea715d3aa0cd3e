// Bounds that keep one client from starving the others: chat text (64 kB → error reply), the WebSocket
// message size (1 MB → close 1009), the number of sessions and their idle lifetime.
import assert from 'node:assert/strict';
import { readFileSync, watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Client,
  makeRepo,
  rawRequest,
  removeDirs,
  sessionFor,
  startTestServer,
  withServer,
  type Msg,
} from './helpers.ts';

/** Sends one chat message and, at once, asks /health; returns the reply and how long /health took. */
async function healthWhileHandling(
  client: Client,
  httpUrl: string,
  text: string,
): Promise<{ reply: Msg; healthMs: number }> {
  const from = client.send({ type: 'message', message: text });
  const started = performance.now();
  const health = await rawRequest(`${httpUrl}/health`);
  const healthMs = performance.now() - started;
  assert.equal(health.status, 200);
  const reply = await client.waitFor((m) => m.type === 'message_complete' || m.type === 'error', from, 30_000);
  return { reply, healthMs };
}

describe('message size', () => {
  let project: string;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: Client;
  before(async () => {
    project = await makeRepo();
    server = await startTestServer({ root: project });
    client = await Client.ready(server.url);
    await sessionFor(client, project);
  });
  after(async () => {
    await client.close();
    await server.cleanup();
    await removeDirs(project);
  });

  test('a 256 kB chat message is an error reply and does not hold up /health', async () => {
    // The shape that blocked /health for 28 s before (a blank run two patterns could share).
    const { reply, healthMs } = await healthWhileHandling(
      client,
      server.httpUrl,
      `git diff${' '.repeat(256 * 1024)}x y`,
    );
    assert.equal(reply.type, 'error');
    assert.equal(reply.code, 'MESSAGE_TOO_LARGE');
    assert.ok(healthMs < 2000, `/health took ${healthMs.toFixed(0)} ms`);
    await client.exchange({ type: 'ping' }, (m) => m.type === 'pong');
  });

  test('just under the cap, the old slow shapes are answered at once and /health stays quick', async () => {
    const n = 60 * 1024;
    for (const text of [
      `git diff${' '.repeat(n)}x y`,
      `stage x${' '.repeat(n)}y\nz`,
      `commit ${"with message 'a ".repeat(n / 16)}`,
    ]) {
      const { reply, healthMs } = await healthWhileHandling(client, server.httpUrl, text);
      assert.equal(reply.type, 'message_complete', JSON.stringify(reply).slice(0, 200));
      assert.ok(healthMs < 2000, `/health took ${healthMs.toFixed(0)} ms`);
    }
  });

  test('slash commands are capped the same way', async () => {
    const [reply] = await client.exchange(
      { type: 'slash_command', command: `/help ${'x'.repeat(70 * 1024)}` },
      (m) => m.type === 'error' || m.type === 'slash_command_response',
    );
    assert.equal(reply.code, 'MESSAGE_TOO_LARGE');
  });

  test('a WebSocket message over 1 MB closes that connection with 1009; the server goes on', async () => {
    const big = await Client.ready(server.url);
    big.send(JSON.stringify({ type: 'message', message: 'x'.repeat(1024 * 1024 + 10) }));
    assert.equal((await big.waitForClose()).code, 1009);
    assert.equal((await rawRequest(`${server.httpUrl}/health`)).status, 200);
    const next = await Client.ready(server.url);
    await next.exchange({ type: 'ping' }, (m) => m.type === 'pong');
    await next.close();
  });
});

describe('sessions', () => {
  test('at most maxSessions: a new one drops the least recently active, never refused', () =>
    withServer({ maxSessions: 2 }, async ({ project, server, client }) => {
      const first = await sessionFor(client, project);
      const second = await sessionFor(client, project);
      // The first becomes the more recently active one: the second is the one to go.
      await client.exchange({ type: 'init_session', sessionId: first }, (m) => m.type === 'session_initialized');
      const third = await sessionFor(client, project);
      const rest = await rawRequest(`${server.httpUrl}/api/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(rest.status, 201);
      const ids = (JSON.parse((await rawRequest(`${server.httpUrl}/api/v1/sessions`)).body).sessions as Msg[]).map(
        (s) => s.id,
      );
      assert.equal(ids.length, 2);
      assert.ok(!ids.includes(second) && !ids.includes(first), `the two least recently active went: ${ids}`);
      assert.ok(ids.includes(third));
      const log = await fs.readFile(path.join(server.logDir, 'combined.log'), 'utf8');
      assert.match(log, new RegExp(`"event":"session_evicted","sessionId":"${second}"`));
    }));

  test('an idle session expires: the sweep drops it from sessions.json and resuming it fails', () =>
    withServer({ sessionIdleTtlMs: 300 }, async ({ project, server, client }) => {
      const id = await sessionFor(client, project);
      const file = path.join(server.dataDir, 'sessions.json');
      assert.match(await fs.readFile(file, 'utf8'), new RegExp(id));
      // Nothing touches the session from here on: only the server's own sweep can remove it. Each rewrite
      // of sessions.json is a rename in the data folder, so the check runs on every one of those.
      await new Promise<void>((resolve, reject) => {
        const watcher = watch(server.dataDir);
        const timer = setTimeout(
          () => finish(new Error('the idle session is still in sessions.json after 10 s')),
          10_000,
        );
        const finish = (error?: Error) => {
          clearTimeout(timer);
          watcher.close();
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (!readFileSync(file, 'utf8').includes(id)) finish();
        };
        watcher.on('change', check);
        check();
      });
      const [reply] = await client.exchange(
        { type: 'init_session', sessionId: id },
        (m) => m.type === 'error' || m.type === 'session_initialized',
      );
      assert.equal(reply.code, 'SESSION_NOT_FOUND');
    }));
});
