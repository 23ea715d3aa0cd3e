// connect: real wscat against real `ws` servers. Passes when the socket opens; fails (a check, not a
// crash) on a refused port or a refused upgrade, at the step's line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { closedPort, httpServer, lineOf, oneGate, tmp, wsServer } from '../helpers/servers.ts';

describe('connect', { concurrency: true }, () => {
  test('opens a connection the server sees', async (t) => {
    const fx = await wsServer(t, () => undefined);
    const yaml = oneGate(`
      - connect: main   # CONNECT
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed');
    assert.equal(r.steps[0]!.status, 'passed');
    assert.match(String(r.steps[0]!.checks[0]!.actual), /^open in \d+ ms$/);
    assert.equal(fx.upgrades.length, 1);
    assert.equal(r.steps[0]!.loc.line, lineOf(yaml, '# CONNECT'));
  });

  test('ca: a relative CA file is found beside the gates file, whatever folder wsgate runs in; a missing one fails at the key', async (t) => {
    const dir = tmp(t, 'wsgate-connect-ca-');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        'k.pem',
        '-out',
        'ca.pem',
      ],
      { cwd: dir, stdio: 'ignore', timeout: 30_000 },
    );
    const server = https.createServer({
      key: readFileSync(path.join(dir, 'k.pem')),
      cert: readFileSync(path.join(dir, 'ca.pem')),
    });
    const wss = new WebSocketServer({ server });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), server.close(() => r()))));
    const url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.notEqual(process.cwd(), dir, 'the test runs from another folder than the gates file');
    const good = await runGatesYaml(
      oneGate(`
      - connect: {name: main, ca: ca.pem}
    `),
      { url, file: path.join(dir, 'gates.yaml') },
    );
    assert.equal(good.result.status, 'passed', JSON.stringify(good.failedChecks));
    const yaml = oneGate(`
      - connect: {name: main, ca: nope.pem}   # CA
    `);
    const bad = await runGatesYaml(yaml, { url, file: path.join(dir, 'gates.yaml') });
    assert.equal(bad.result.status, 'failed');
    assert.deepEqual(
      bad.failedChecks.map((c) => [c.name, c.actual, c.loc.line]),
      [[`CA certificate file ${path.join(dir, 'nope.pem')} exists`, 'no such file', lineOf(yaml, '# CA')]],
    );
  });

  test('refused: an upgrade answered with HTTP 401 is the refusal the step wants; a closed port is not a refusal', async (t) => {
    const fx = await wsServer(t, () => undefined, { verifyClient: (_info, done) => done(false, 401, 'Unauthorized') });
    const port = await closedPort();
    const yaml = oneGate(`
      - connect: {name: anon, refused: {status: 401}}
      - connect: {name: other, refused: {status: 403}}   # STATUS
      - connect: {name: down, url: "ws://127.0.0.1:${port}/ws", refused: true}   # DOWN
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.deepEqual(
      r.steps.map((s) => s.status),
      ['passed', 'failed', 'failed'],
    );
    assert.deepEqual(
      r.steps[0]!.checks.map((c) => [c.name, c.actual, c.passed]),
      [
        ['anon: the server refuses the connection', 'HTTP 401', true],
        ['anon: HTTP status of the refusal', 401, true],
      ],
    );
    assert.deepEqual(
      r.failedChecks.map((c) => c.name),
      ['other: HTTP status of the refusal', 'down: the server refuses the connection'],
    );
    assert.equal(r.failedChecks[0]!.actual, 401);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# STATUS'));
    assert.match(String(r.failedChecks[1]!.actual), /^REFUSED: /);
    assert.equal(r.failedChecks[1]!.loc.line, lineOf(yaml, '# DOWN'));
    assert.equal(fx.upgrades.length, 0, 'verifyClient turned both away before the upgrade');
  });

  test('refused: a 101 without Sec-WebSocket-Protocol (every offered subprotocol declined) is a refusal with its own reason', async (t) => {
    const fx = await wsServer(t, () => undefined, {
      handleProtocols: (protocols) => (protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
    });
    const yaml = oneGate(`
      - connect: {name: new, subprotocols: [ocpp2.0.1], refused: true}
      - connect: {name: old, subprotocols: [ocpp1.6], refused: true}   # OPENS
      - connect: {name: plain, subprotocols: [ocpp2.0.1]}   # DECLINED
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.deepEqual(
      r.steps.map((s) => s.status),
      ['passed', 'failed', 'failed'],
    );
    assert.deepEqual(
      r.steps[0]!.checks.map((c) => [c.name, c.actual, c.passed]),
      [
        [
          'new: the server refuses the connection',
          'subprotocol declined: the server declined every offered subprotocol (101 without Sec-WebSocket-Protocol)',
          true,
        ],
      ],
    );
    assert.deepEqual(
      r.failedChecks.map((c) => c.loc.line),
      [lineOf(yaml, '# OPENS'), lineOf(yaml, '# DECLINED')],
    );
    assert.match(String(r.failedChecks[0]!.actual), /^open in \d+ ms$/);
    assert.match(
      String(r.failedChecks[1]!.actual),
      /^SUBPROTOCOL_DECLINED: the server declined every offered subprotocol/,
    );
    assert.equal(fx.upgrades.length, 3, 'the server did upgrade all three: the refusal is the missing header');
  });

  test('a refused port fails with REFUSED, at the connect line', async () => {
    const port = await closedPort();
    const yaml = oneGate(`
      - connect: main
      - connect: {name: second, url: "ws://127.0.0.1:${port}/ws"}   # REFUSED
      - send: {type: ping}
    `);
    // main goes to the same dead port too: the first step is the one that fails.
    const r = await runGatesYaml(yaml, { url: `ws://127.0.0.1:${port}/ws` });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.result.exitCode, 1);
    assert.equal(r.steps[0]!.status, 'failed');
    assert.match(String(r.failedChecks[0]!.actual), /^REFUSED: connection refused/);
    assert.equal(r.failedChecks[0]!.failure?.kind, 'connect');
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '- connect: main'));
    // The second connect goes to the same dead target: it is not tried again, and says where it died.
    assert.equal(r.steps[1]!.status, 'skipped');
    assert.match(
      r.steps[1]!.note ?? '',
      /^not tried: ws:\/\/127\.0\.0\.1:\d+\/ws could not be opened at gate g, step 1 \(connect main\) \(REFUSED: connection refused/,
    );
    assert.equal(r.steps[2]!.status, 'skipped', 'the send needs main, which never opened');
    assert.match(r.steps[2]!.note ?? '', /connection main did not open \(step 1\)/);
  });

  test('count: 5 opens five connections as one group', async (t) => {
    const fx = await wsServer(t, (ws, n) => ws.send(JSON.stringify({ type: 'hello', n })));
    const yaml = oneGate(`
      - connect: {name: clients, count: 5}
      - expect: [{type: hello, match: {n: {type: number}}}]
        on: clients
        within: 3s
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.equal(fx.upgrades.length, 5);
    assert.deepEqual(
      r.steps[0]!.checks.map((c) => c.name.split(':')[0]),
      ['clients#1', 'clients#2', 'clients#3', 'clients#4', 'clients#5'],
    );
    assert.equal(
      r.steps[1]!.checks.filter((c) => c.name.endsWith('hello arrived')).length,
      5,
      'the expect ran on each member',
    );
  });

  test('a group fails when the server refuses some of its members', async (t) => {
    let accepted = 0;
    const fx = await wsServer(t, () => undefined, {
      verifyClient: (_info, cb) => (accepted++ < 3 ? cb(true) : cb(false, 503, 'Full')),
    });
    const yaml = oneGate(`
      - connect: {name: clients, count: 5}   # GROUP
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.steps[0]!.checks.length, 5);
    assert.equal(r.failedChecks.length, 2);
    for (const c of r.failedChecks) {
      assert.match(String(c.actual), /HTTP_STATUS: upgrade refused with HTTP 503/);
      assert.equal(c.loc.line, lineOf(yaml, '# GROUP'));
    }
  });

  test('headers, subprotocols, origin and basic auth reach the server', async (t) => {
    const fx = await wsServer(t, () => undefined, {
      handleProtocols: (protocols) => (protocols.has('v2') ? 'v2' : false),
    });
    const yaml = oneGate(`
      - connect: {name: main, headers: {X-Team: qa, X-Run: "\${RUN_ID}"}, subprotocols: [v1, v2], origin: "http://app.test", auth: "user:pass"}
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const h = fx.upgrades[0]!.headers;
    assert.equal(h['x-team'], 'qa');
    assert.equal(h['x-run'], 'test', 'variables in headers are resolved');
    assert.deepEqual(h['sec-websocket-protocol']!.split(/,\s*/), ['v1', 'v2']);
    assert.equal(h.origin, 'http://app.test');
    assert.equal(h.authorization, `Basic ${Buffer.from('user:pass').toString('base64')}`);
  });

  test('a 401 upgrade fails naming HTTP 401', async (t) => {
    const fx = await wsServer(t, () => undefined, {
      verifyClient: (info, cb) => (info.req.headers.authorization ? cb(true) : cb(false, 401, 'Unauthorized')),
    });
    const yaml = oneGate(`
      - name: needs a token
        connect: main   # AUTH
    `);
    const r = await runGatesYaml(yaml, { url: fx.url });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.steps[0]!.label, 'needs a token');
    assert.equal(r.failedChecks.length, 1);
    assert.match(String(r.failedChecks[0]!.actual), /HTTP 401/);
    assert.match(String(r.failedChecks[0]!.actual), /^HTTP_STATUS/);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '- name: needs a token'));
    assert.equal(fx.upgrades.length, 0, 'no connection was accepted');
  });

  test('a server that never completes the handshake fails at the within deadline', async (t) => {
    // An HTTP server that accepts the upgrade request and never answers it.
    const h = await httpServer(t, () => undefined);
    h.server.on('upgrade', () => undefined);
    const yaml = oneGate(`
      - connect: main
        within: 700ms   # SLOW
    `);
    const r = await runGatesYaml(yaml, { url: h.url.replace('http', 'ws') });
    const ms = r.steps[0]!.ms;
    assert.equal(r.result.status, 'failed');
    assert.match(String(r.failedChecks[0]!.actual), /^TIMEOUT: the socket did not open within 700 ms/);
    assert.ok(ms >= 650 && ms < 10_000, `gave up at the 700 ms deadline, not the 15 s default (${ms} ms)`);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '- connect: main'));
  });
});
