// start: real backends (small node scripts in temp files) launched through sh, awaited by HTTP,
// TCP port or log line; failures name the output; the whole process tree is gone after the run.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { freePort, lineOf, oneGate, tmp, waitGone } from '../helpers/servers.ts';

const URL = 'ws://127.0.0.1:9/unused';
const NODE = JSON.stringify(process.execPath);

/** Write a server script; the start command is `node script`. */
function script(t: TestContext, name: string, source: string): string {
  const file = path.join(tmp(t, 'wsgate-start-'), name);
  writeFileSync(file, source);
  return `${NODE} ${JSON.stringify(file)}`;
}

const readPids = (file: string) => readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);

// An HTTP server on $PORT that records its pid and the pid of a child it spawns (a grandchild of sh).
const HTTP_SERVER = `
const http = require('node:http');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const kid = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
fs.writeFileSync(process.env.PID_FILE, process.pid + ' ' + kid.pid);
http.createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: 'healthy', pid: process.pid }));
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
`;

/** A real HTTP server on 127.0.0.1 that answers 200 `{"rss": 1000000}` and keeps each raw request path. */
async function pathRecorder(t: TestContext): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"rss": 1000000}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, paths };
}

/** A captured value that tries to leave its path segment. */
const HOSTILE_SEGMENT = 'x/../../admin?evil=1#f';

describe('start', { concurrency: true }, () => {
  test('ready.http percent-encodes a value, as an http step does: the server sees one path segment', async (t) => {
    const rec = await pathRecorder(t);
    const yaml = oneGate(
      `
      - start: "sleep 30"
        ready: {http: "http://127.0.0.1:${rec.port}/api/\${seg}/health"}
        within: 20s
    `,
      `vars: {seg: ${JSON.stringify(HOSTILE_SEGMENT)}}\n`,
    );
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.deepEqual([...new Set(rec.paths)], ['/api/x%2F..%2F..%2Fadmin%3Fevil%3D1%23f/health']);
  });

  test('ready by http; the server answers later steps; its whole tree is gone after the run', async (t) => {
    const port = await freePort();
    const pidFile = path.join(tmp(t), 'pids');
    const yaml = oneGate(`
      - start: ${JSON.stringify(script(t, 'http.cjs', HTTP_SERVER))}
        env: {PORT: "${port}", PID_FILE: ${JSON.stringify(pidFile)}}
        ready: {http: "http://127.0.0.1:${port}/health", status: 200}
        within: 30s
      - http: GET http://127.0.0.1:${port}/health
        json: {status: healthy}
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.match(String(r.steps[0]!.checks[0]!.actual), /^ready in \d+ ms$/);
    const [server, kid] = readPids(pidFile);
    assert.ok(server! > 0 && kid! > 0);
    assert.equal(await waitGone(server!), true, `server ${server} stopped at the end of the run`);
    assert.equal(await waitGone(kid!), true, `its child ${kid} stopped too`);
  });

  test('ready by port', async (t) => {
    const port = await freePort();
    const cmd = script(
      t,
      'tcp.cjs',
      `require('node:net').createServer((s) => s.end('hi')).listen(${port}, '127.0.0.1');`,
    );
    const yaml = oneGate(`
      - start: ${JSON.stringify(cmd)}
        ready: {port: ${port}}
        within: 30s
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
  });

  test('ready by log line (printed late, by a timer in the server)', async (t) => {
    const cmd = script(
      t,
      'log.cjs',
      `console.log('booting'); setTimeout(() => console.error('server listening on 4242'), 150); setInterval(() => {}, 1000);`,
    );
    const yaml = oneGate(`
      - start: ${JSON.stringify(cmd)}
        ready: {log: "listening on \\\\d+"}
        within: 30s
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.ok((r.steps[0]!.observations?.readyMs as number) >= 100, 'waited for the line, not the first output');
  });

  test('a command that exits at once fails with its output', async (t) => {
    const cmd = script(t, 'exit.cjs', `console.error('boom: missing config file'); process.exit(3);`);
    const yaml = oneGate(`
      - start: ${JSON.stringify(cmd)}
        ready: {port: 1}   # READY
        within: 30s
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks.length, 1);
    assert.match(
      String(r.failedChecks[0]!.actual),
      /^exited with code 3 before it was ready; last output: boom: missing config file/,
    );
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# READY'));
    assert.ok(r.steps[0]!.ms < 15_000, `did not wait for the 30 s deadline (${r.steps[0]!.ms} ms)`);
  });

  test('a command that exits at once fails with its output (log probe)', async (t) => {
    const cmd = script(t, 'exit2.cjs', `console.log('fatal: port taken'); process.exit(1);`);
    const yaml = oneGate(`
      - start: ${JSON.stringify(cmd)}
        ready: {log: "listening"}
        within: 30s
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'failed');
    assert.match(
      String(r.failedChecks[0]!.actual),
      /^exited with code 1 before it was ready; last output: fatal: port taken/,
    );
  });

  test('not ready within the deadline fails, and the process is stopped', async (t) => {
    const port = await freePort();
    const pidFile = path.join(tmp(t), 'pid');
    // sh prints at once (a node script may take longer than the deadline to boot on a loaded machine).
    const cmd = `echo $$ > ${JSON.stringify(pidFile)}; echo still warming up; exec sleep 30`;
    const yaml = oneGate(`
      - start: ${JSON.stringify(cmd)}
        ready: {port: ${port}}   # NEVER
        within: 2s
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.ok(r.steps[0]!.ms < 10_000, `gave up at the 2 s deadline (${r.steps[0]!.ms} ms)`);
    assert.equal(r.result.status, 'failed');
    assert.match(String(r.failedChecks[0]!.actual), /^not ready within 2000 ms; last output: still warming up/);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# NEVER'));
    assert.equal(await waitGone(readPids(pidFile)[0]!), true, 'the sleep was stopped');
  });

  test('stop: gate stops the tree at the end of its gate, before the next gate', async (t) => {
    const port = await freePort();
    const pidFile = path.join(tmp(t), 'pids');
    const yaml = `version: 1
gates:
  - id: one
    title: starts a server for this gate only
    steps:
      - start: ${JSON.stringify(script(t, 'http.cjs', HTTP_SERVER))}
        env: {PORT: "${port}", PID_FILE: ${JSON.stringify(pidFile)}}
        ready: {http: "http://127.0.0.1:${port}/health"}
        stop: gate
        within: 30s
  - id: two
    title: it is gone
    steps:
      - http: GET http://127.0.0.1:${port}/health   # GONE
        within: 1s
`;
    const r = await runGatesYaml(yaml, { url: URL });
    assert.deepEqual(
      r.result.gates.map((g) => g.status),
      ['passed', 'failed'],
    );
    assert.match(String(r.failedChecks[0]!.actual), /ECONNREFUSED/);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# GONE'));
  });
});
