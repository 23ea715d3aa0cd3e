// WscatPool against real servers and the real wscat: a pre-opened spare is handed over with what it
// already received; a spare that failed is replaced by a fresh attempt within the step's deadline;
// the step's own deadline bounds the whole acquire whatever the spare's; spares are kept only for
// option sets asked for again; close() cancels spares still opening.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { WebSocketServer } from 'ws';
import { WscatPool } from '../lib/wscat/pool.ts';
import type { Frame } from '../lib/wscat/connection.ts';
import { withSlowChildStart, wsServer } from './helpers/servers.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from './helpers/cli.ts';

const OPEN_MS = 30_000;

/** Depth 1 unless asked: the connection counts below are exact for one spare per option set. */
function pool(t: TestContext, depth = 1): WscatPool {
  const p = new WscatPool(true, depth);
  t.after(() => p.close());
  return p;
}

/** A TCP server that accepts and never answers the upgrade. */
async function silentServer(t: TestContext): Promise<string> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => sockets.push(s));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), srv.close(() => r()))));
  return `ws://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

/**
 * A WebSocket server that decides per upgrade: `decide(n)` (n counts upgrades from 0) answers
 * 'accept', 'refuse' (HTTP 503) or 'ignore' (the socket is kept, never answered, ended at cleanup).
 */
async function upgradeServer(
  t: TestContext,
  decide: (n: number, socket: Duplex) => 'accept' | 'refuse' | 'ignore',
): Promise<{ url: string; upgrades: () => number }> {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const ignored: Duplex[] = [];
  let n = 0;
  server.on('upgrade', (req, socket, head) => {
    const what = decide(n++, socket);
    if (what === 'refuse') socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
    else if (what === 'ignore') ignored.push(socket);
    else wss.handleUpgrade(req, socket, head, () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // An upgrade nobody answers leaves its socket outside the server's own bookkeeping: end it here.
  t.after(
    () =>
      new Promise<void>(
        (r) => (
          ignored.forEach((s) => s.destroy()),
          wss.clients.forEach((c) => c.terminate()),
          server.closeAllConnections(),
          server.close(() => r())
        ),
      ),
  );
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, upgrades: () => n };
}

/** Resolves once `fx` has seen `n` connections; rejects after 20 s. */
function connections(wss: WebSocketServer, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${wss.clients.size} of ${n} connections within 20 s`)), 20_000);
    const check = () => {
      if (wss.clients.size < n) return;
      clearTimeout(timer);
      resolve();
    };
    wss.on('connection', check);
    check();
  });
}

describe('WscatPool', { concurrency: true }, () => {
  test('a spare opened ahead is handed over renamed, with the welcome it already received', async (t) => {
    const fx = await wsServer(t, (ws, n) => ws.send(JSON.stringify({ type: 'connected', n })));
    const p = pool(t);
    const spareSeen = connections(fx.wss, 1);
    p.prewarm({ url: fx.url, openTimeoutMs: OPEN_MS });
    await spareSeen; // the server sees the spare before anyone asks for it
    const seen: Frame[] = [];
    const got = await p.acquire('main', { url: fx.url, openTimeoutMs: OPEN_MS }, { onFrameIn: (f) => seen.push(f) });
    assert.ok(got.ok, got.ok ? '' : got.error.message);
    assert.equal(got.conn.name, 'main');
    const first = await got.conn.next(performance.now() + 15_000);
    assert.equal(first.kind, 'frame');
    assert.deepEqual(
      first.kind === 'frame' && first.frame.json,
      { type: 'connected', n: 0 },
      'the connection handed over is the first one the server saw',
    );
    assert.ok(
      seen.some((f) => f.text.includes('"n":0')),
      'the new hooks saw the frame that arrived before the hand-over',
    );
    await got.conn.dispose();
  });

  test('depth 2: two spares per option set before anyone asks; each hand-over starts one more', async (t) => {
    const fx = await wsServer(t, () => undefined);
    const p = pool(t, 2);
    p.prewarm({ url: fx.url, openTimeoutMs: OPEN_MS });
    p.prewarm({ url: fx.url, openTimeoutMs: OPEN_MS }); // topped up already: starts nothing
    await connections(fx.wss, 2);
    const a = await p.acquire('a', { url: fx.url, openTimeoutMs: OPEN_MS }, {});
    assert.ok(a.ok);
    await connections(fx.wss, 3);
    await p.close();
    assert.equal(fx.upgrades.length, 3, 'two spares, and the one that replaced the spare handed over');
    await a.conn.dispose();
  });

  test('no spares for options asked for once; the second request for them starts keeping some', async (t) => {
    const fx = await wsServer(t, () => undefined);
    const p = pool(t);
    const opts = { url: fx.url, openTimeoutMs: OPEN_MS, headers: { 'X-Gate': 'one' } };
    const a = await p.acquire('a', opts, {});
    assert.ok(a.ok);
    assert.equal(fx.upgrades.length, 1, 'nothing opened ahead for a one-off option set');
    const b = await p.acquire('b', opts, {});
    assert.ok(b.ok);
    await connections(fx.wss, 3); // a, b, and a spare for the next request like them
    await p.close();
    assert.equal(fx.upgrades.length, 3);
    await Promise.all([a.conn.dispose(), b.conn.dispose()]);
  });

  test('a spare that was refused is replaced by a fresh attempt that opens', async (t) => {
    // The first upgrade is answered 503, the next ones are accepted.
    const { url, upgrades } = await upgradeServer(t, (n) => (n === 0 ? 'refuse' : 'accept'));
    const p = pool(t);
    p.prewarm({ url, openTimeoutMs: OPEN_MS });
    const got = await p.acquire('main', { url, openTimeoutMs: OPEN_MS }, {});
    assert.ok(got.ok, got.ok ? '' : `${got.error.code}: ${got.error.message}`);
    assert.ok(upgrades() >= 2, `the refused spare and the fresh attempt (${upgrades()} upgrades)`);
    await got.conn.dispose();
  });

  test('a spare that timed out because the server was not ready yet does not fail a step with time left', async (t) => {
    // The server ignores upgrades (still starting) until a client gives up on one, then answers them.
    // The spare (1 s) gives up long before the step (20 s) does: a fresh attempt in the step's time opens.
    let ready = false;
    const { url } = await upgradeServer(t, (_n, socket) => {
      if (ready) return 'accept';
      // Read (and drop) what the client sends, so its giving up is seen as the socket's end.
      socket.resume();
      socket.once('end', () => (ready = true));
      return 'ignore';
    });
    const p = pool(t);
    p.prewarm({ url, openTimeoutMs: 1000 });
    const got = await p.acquire('main', { url, openTimeoutMs: 20_000 }, {});
    assert.ok(got.ok, got.ok ? '' : `${got.error.code}: ${got.error.message}`);
    assert.ok(ready, 'the step was answered only after a spare had given up');
    await got.conn.dispose();
  });

  test("the step's deadline bounds the wait for a spare with a longer one, and the message names the step's", async (t) => {
    const url = await silentServer(t);
    const p = pool(t);
    p.prewarm({ url, openTimeoutMs: 60_000 });
    const started = performance.now();
    const got = await p.acquire('main', { url, openTimeoutMs: 1000 }, {});
    const ms = performance.now() - started;
    assert.equal(!got.ok && got.error.code, 'TIMEOUT');
    assert.match(!got.ok ? got.error.message : '', /did not open within 1000 ms/);
    // Waiting for the spare would take 60 s; the bound only has to tell the two apart.
    assert.ok(ms < 20_000, `acquire took ${Math.round(ms)} ms for a 1 s deadline`);
  });

  test('a spare still opening at the deadline is the answer: one wait, not a second full one after it', async (t) => {
    const url = await silentServer(t);
    const p = pool(t);
    const opts = { url, openTimeoutMs: 3000 };
    p.prewarm(opts);
    const started = performance.now();
    const got = await p.acquire('main', opts, {});
    const ms = performance.now() - started;
    assert.equal(!got.ok && got.error.code, 'TIMEOUT');
    assert.ok(ms < 5500, `acquire took ${Math.round(ms)} ms; a fresh attempt after the spare would take 6 s`);
  });

  test('close() cancels spares still opening instead of waiting out their deadline', async (t) => {
    const url = await silentServer(t);
    const p = pool(t, 2);
    p.prewarm({ url, openTimeoutMs: 60_000 });
    const started = performance.now();
    await p.close();
    assert.ok(performance.now() - started < 20_000, 'close did not wait for the 60 s deadline');
  });
});

describe('WscatPool with a plan', { concurrency: true }, () => {
  test('opens spares only for planned connections, never more than remain', async (t) => {
    const fx = await wsServer(t, () => undefined);
    const planned = { url: `${fx.url}/planned`, openTimeoutMs: OPEN_MS };
    const p = pool(t, 2);
    const spareSeen = connections(fx.wss, 1);
    p.plan([{ opts: planned, count: 1 }]);
    await spareSeen;
    const first = await p.acquire('a', planned, {});
    assert.ok(first.ok);
    t.after(() => first.ok && first.conn.dispose());
    // Not in the plan (or no longer): a fresh wscat each, and no spare behind it.
    const again = await p.acquire('b', planned, {});
    const other = await p.acquire('c', { url: `${fx.url}/other`, openTimeoutMs: OPEN_MS }, {});
    assert.ok(again.ok && other.ok);
    t.after(() => (again.ok && again.conn.dispose(), other.ok && other.conn.dispose()));
    await p.close();
    assert.deepEqual(
      fx.upgrades.map((r) => r.url),
      ['/planned', '/planned', '/other'],
    );
  });

  test('a run whose connects all use another path and subprotocol never connects to the bare URL, nor for a gate not run', async (t) => {
    const fx = await wsServer(t, (ws) => ws.on('message', () => ws.send(JSON.stringify({ type: 'pong' }))), {
      handleProtocols: () => 'ocpp1.6',
    });
    const dir = tempDir('wsgate-pool-plan-');
    t.after(() => dir.remove());
    const gate = (id: string, at = '/ocpp/CP1') =>
      `  - id: ${id}\n    title: ${id}\n    steps:\n      - connect: {url: "\${URL}${at}", subprotocols: [ocpp1.6]}\n      - send: {type: ping}\n        expect: [{type: pong}]\n`;
    // The first gates of the file are not run (--gate, --skip-gate): their connections are not opened ahead either.
    writeFileSync(
      path.join(dir.path, 'gates.yaml'),
      `version: 1\ngates:\n${gate('x', '/not-run')}${gate('y', '/skipped')}${gate('a')}${gate('b')}${gate('c')}`,
    );
    const r = await runCli([
      'run',
      fx.url,
      path.join(dir.path, 'project'),
      '--gates',
      path.join(dir.path, 'gates.yaml'),
      '--out',
      path.join(dir.path, 'ev'),
      '--gate',
      'a',
      '--gate',
      'b',
      '--gate',
      'c',
      '--gate',
      'y',
      '--skip-gate',
      'y',
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const paths = fx.upgrades.map((u) => u.url);
    assert.deepEqual(
      paths.filter((u) => u !== '/ocpp/CP1'),
      [],
      `connections no gate asked for: ${paths.join(' ')}`,
    );
    assert.ok(paths.length >= 3, paths.join(' '));
    t.diagnostic(`connections seen: ${paths.join(' ')}`);
  });
});

describe('WscatPool with wscat slow to start', () => {
  test("a spare still starting when the step begins is not late: its start-up is not the server's time", async (t) => {
    const { url } = await wsServer(t, () => undefined);
    const p = pool(t);
    const started = performance.now();
    const got = await withSlowChildStart(1500, async () => {
      p.prewarm({ url, openTimeoutMs: 500 });
      return p.acquire('main', { url, openTimeoutMs: 500 }, {});
    });
    if (!got.ok) assert.fail(`${got.error.code}: ${got.error.message}`);
    t.after(() => got.conn.dispose());
    assert.equal(got.conn.name, 'main');
    assert.ok(performance.now() - started >= 1500, 'the spare spent its slow start-up');
  });
});
