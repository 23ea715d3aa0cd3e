// WscatPool against real servers and the real wscat: a pre-opened spare is handed over with what it
// already received; a failed spare is replaced by a fresh attempt; a spare that was still opening
// when asked for, and waited the step's whole deadline in vain, is the answer (no second wait).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { WebSocketServer } from 'ws';
import { WscatPool } from '../lib/wscat-pool.ts';
import type { Frame } from '../lib/wscat.ts';
import { wsServer } from './helpers/servers.ts';

const OPEN_MS = 30_000;

/** Depth 1 unless asked: the connection counts below are exact for one spare per option set. */
function pool(t: TestContext, depth = 1): WscatPool {
  const p = new WscatPool(true, depth);
  t.after(() => p.close());
  return p;
}

/** A TCP server that accepts and never answers the upgrade; counts the connections it saw. */
async function silentServer(t: TestContext): Promise<{ url: string; accepted: () => number }> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => sockets.push(s));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), srv.close(() => r()))));
  return { url: `ws://127.0.0.1:${(srv.address() as AddressInfo).port}`, accepted: () => sockets.length };
}

describe('WscatPool', { concurrency: true }, () => {
  test('a spare opened ahead is handed over renamed, with the welcome it already received', async (t) => {
    const fx = await wsServer(t, (ws, n) => ws.send(JSON.stringify({ type: 'connected', n })));
    const p = pool(t);
    const spareSeen = once(fx.wss, 'connection', { signal: AbortSignal.timeout(15_000) });
    p.prewarm({ url: fx.url, openTimeoutMs: OPEN_MS });
    await spareSeen; // the server sees the spare before anyone asks for it
    const seen: Frame[] = [];
    const got = await p.acquire('main', { url: fx.url, openTimeoutMs: OPEN_MS }, { onFrameIn: (f) => seen.push(f) });
    assert.ok(got.ok, got.ok ? '' : got.error.message);
    assert.equal(got.conn.name, 'main');
    const first = await got.conn.next(performance.now() + 15_000);
    assert.equal(first.kind, 'frame');
    assert.deepEqual(first.kind === 'frame' && first.frame.json, { type: 'connected', n: 0 }, 'the connection handed over is the first one the server saw');
    assert.ok(seen.some((f) => f.text.includes('"n":0')), 'the new hooks saw the frame that arrived before the hand-over');
    await got.conn.dispose();
  });

  test('depth 2: two spares per option set are open before anyone asks; each hand-over starts one more', async (t) => {
    const fx = await wsServer(t, () => undefined);
    const p = pool(t, 2);
    const twoSeen = new Promise<void>((resolve) => fx.wss.on('connection', () => fx.wss.clients.size >= 2 && resolve()));
    p.prewarm({ url: fx.url, openTimeoutMs: OPEN_MS });
    p.prewarm({ url: fx.url, openTimeoutMs: OPEN_MS }); // topped up already: starts nothing
    await Promise.race([twoSeen, new Promise((_, reject) => setTimeout(() => reject(new Error('two spares did not connect within 20 s')), 20_000).unref())]);
    const a = await p.acquire('a', { url: fx.url, openTimeoutMs: OPEN_MS }, {});
    assert.ok(a.ok);
    await p.close();
    assert.equal(fx.upgrades.length, 3, 'two spares, and the one that replaced the spare handed over');
    await a.conn.dispose();
  });

  test('a spare that was refused is replaced by a fresh attempt that opens', async (t) => {
    // The first upgrade is answered 503, the next ones are accepted.
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    let upgrades = 0;
    server.on('upgrade', (req, socket, head) => {
      if (upgrades++ === 0) return socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      wss.handleUpgrade(req, socket, head, () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), server.closeAllConnections(), server.close(() => r()))));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const p = pool(t);
    p.prewarm({ url, openTimeoutMs: OPEN_MS });
    const got = await p.acquire('main', { url, openTimeoutMs: OPEN_MS }, {});
    assert.ok(got.ok, got.ok ? '' : `${got.error.code}: ${got.error.message}`);
    assert.ok(upgrades >= 2, `the refused spare and the fresh attempt (${upgrades} upgrades)`);
    await got.conn.dispose();
  });

  test('a spare still opening when asked for, that times out, is the answer: one wait, not two', async (t) => {
    const srv = await silentServer(t);
    const p = pool(t);
    const opts = { url: srv.url, openTimeoutMs: 1000 };
    p.prewarm(opts);
    const got = await p.acquire('main', opts, {});
    assert.equal(got.ok, false);
    assert.equal(!got.ok && got.error.code, 'TIMEOUT');
    await p.close(); // waits for the next spare acquire() started; after this nothing connects
    // The spare and the next spare; a fresh attempt after the spare's timeout would be a third.
    assert.equal(srv.accepted(), 2);
  });

  test('a spare with a shorter deadline than the step does not decide it: a fresh attempt gets the step\'s', async (t) => {
    const srv = await silentServer(t);
    const p = pool(t);
    p.prewarm({ url: srv.url, openTimeoutMs: 300 });
    const got = await p.acquire('main', { url: srv.url, openTimeoutMs: 1000 }, {});
    assert.equal(!got.ok && got.error.code, 'TIMEOUT');
    assert.match(!got.ok ? got.error.message : '', /within 1000 ms/);
    await p.close();
    assert.equal(srv.accepted(), 3, 'the short spare, the next spare, and the fresh attempt');
  });
});
