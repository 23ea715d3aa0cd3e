// Servers that are not (plain) WebSocket servers, through the real CLI: an HTTP server that refuses
// the upgrade (404, 401), and TLS with a self-signed certificate (fails unless `insecure: true`).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeTmp, writeGates, timedCli, assertNoStackTrace, wsServer, slack } from './helpers.ts';
import { runProcess } from '../../lib/os/process.ts';
import { readResult } from '../helpers/cli.ts';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const gatesText = (connect: string) => `version: 1
gates:
  - id: hostile
    title: not a plain WebSocket server
    steps:
      - connect: ${connect}
        within: 15s
      - send: {type: hello}
        expect: [{type: welcome}]
        within: 1s
`;
// A refused upgrade or a TLS error ends the connect step at once, far inside its 15 s deadline.
const FAIL_FAST_MS = 2000;
const SLACK_MS = 5000;

async function run(url: string, connect = 'main') {
  const dir = makeTmp(cleanups as (() => void)[]);
  const outDir = path.join(dir, 'ev');
  const r = await timedCli([url, '--gates', writeGates(dir, gatesText(connect)), '--out', outDir], {
    timeoutMs: 90_000,
  });
  const out = r.stdout + r.stderr;
  assert.equal(r.timedOut, false, `the CLI hung:\n${out}`);
  assertNoStackTrace(out);
  const result = readResult(outDir);
  const connectMs = result.gates[0]!.steps[0]!.ms;
  if (r.exitCode !== 0)
    assert.ok(connectMs < slack(FAIL_FAST_MS), `the refused connection took ${connectMs} ms to be reported`);
  assert.ok(r.wallMs < result.ms + slack(SLACK_MS), `took ${r.wallMs} ms, the run ${result.ms} ms:\n${out}`);
  return { code: r.exitCode, out };
}

async function plainHttp(
  status: number,
  headers: Record<string, string> = {},
): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  // No 'upgrade' listener: node hands the upgrade request to the ordinary request handler.
  const srv = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} upgrade=${req.headers.upgrade ?? ''}`);
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(`${status} from a plain HTTP server\n`);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  cleanups.push(() => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))));
  return { url: `ws://127.0.0.1:${(srv.address() as AddressInfo).port}/ws`, seen };
}

let cert = '';
let key = '';
before(async () => {
  const dir = makeTmp(cleanups as (() => void)[], 'wsgate-rel-tls-');
  const r = await runProcess(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { timeoutMs: 30_000 },
  );
  assert.equal(r.exitCode, 0, r.stderr);
  cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
});

async function tlsServer(): Promise<{ url: string; upgrades: () => number }> {
  const server = https.createServer({ cert, key });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const fx = await wsServer((ws) => ws.on('message', () => ws.send(JSON.stringify({ type: 'welcome' }))), { server });
  cleanups.push(() => fx.close());
  return { url: fx.url, upgrades: () => fx.upgrades.length };
}

describe('HTTP and TLS servers through the real CLI', { concurrency: true }, () => {
  test('an HTTP server that answers the upgrade with 404: the connect check says HTTP 404', async () => {
    const srv = await plainHttp(404);
    const r = await run(srv.url);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /✗ connect main/);
    assert.match(r.out, /HTTP_STATUS: upgrade refused with HTTP 404/, r.out);
    assert.match(r.out, /first failure: gate hostile, step "connect main"/);
    assert.match(srv.seen[0] ?? '', /^GET \/ws upgrade=websocket$/, 'the harness really asked for an upgrade');
  });

  test('an HTTP server that answers the upgrade with 401: the connect check says HTTP 401', async () => {
    const srv = await plainHttp(401, { 'www-authenticate': 'Basic realm="x"' });
    const r = await run(srv.url);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /HTTP_STATUS: upgrade refused with HTTP 401/, r.out);
    assert.ok(srv.seen.length >= 1);
  });

  test('wss:// with a self-signed certificate fails the connect check with a TLS error', async () => {
    const srv = await tlsServer();
    const r = await run(srv.url);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /✗ connect main/);
    assert.match(r.out, /TLS: TLS failure: self[- ]signed certificate/i, r.out);
    assert.equal(srv.upgrades(), 0, 'no WebSocket session was established over an unverified certificate');
  });

  test('the same server passes with `insecure: true` (wscat -n)', async () => {
    const srv = await tlsServer();
    const r = await run(srv.url, '{name: main, insecure: true}');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /✓ connect main/);
    assert.match(r.out, /✓ send hello/);
    assert.match(r.out, /^PASS {2}1 gates: 1 passed/m);
    assert.ok(srv.upgrades() >= 1, 'the connection really went through (a pre-opened spare may add one more)');
  });
});
