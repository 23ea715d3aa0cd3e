// lib/runner/run.ts: connections replaced within a gate are ended, and an interrupted run stops the step
// that is running (a long command included) instead of waiting it out.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, type WebSocket } from 'ws';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGatesYaml } from './helpers/run-gates.ts';
import { until } from './helpers/servers.ts';

const servers: WebSocketServer[] = [];
after(() => servers.forEach((s) => s.close()));

async function countingServer(): Promise<{ url: string; open: Set<WebSocket> }> {
  const open = new Set<WebSocket>();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    open.add(ws);
    ws.on('close', () => open.delete(ws));
    ws.on('message', () => ws.send(JSON.stringify({ type: 'ok' })));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, open };
}

test('connecting again under the same name ends the connection it replaces', async () => {
  const { url, open } = await countingServer();
  const run = await runGatesYaml(
    `version: 1
defaults: {timeout: 15s}
gates:
  - id: twice
    title: reconnect
    steps:
      - connect: main
      - connect: main
      - send: {type: hello}
        expect: [{type: ok}]
`,
    { url },
  );
  assert.equal(run.result.status, 'passed');
  assert.ok(await until(() => open.size === 0, 5000), `${open.size} connection(s) still open after the run`);
});

test('an interrupt stops a running command at once, and the run says interrupted', async (t) => {
  const { url } = await countingServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsgate-interrupt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const marker = path.join(dir, 'started');
  const controller = new AbortController();
  let started = 0;
  // The interrupt arrives while the command runs: once it has created its marker file.
  void until(() => existsSync(marker), 60_000).then((seen) => {
    started = performance.now();
    if (seen) controller.abort();
  });
  const run = await runGatesYaml(
    `version: 1
gates:
  - id: long
    title: a long command
    steps:
      - run: touch "\${MARKER}" && sleep 20
        timeout: 60s
`,
    { url, signal: controller.signal, vars: { MARKER: marker } },
  );
  assert.ok(started > 0 && controller.signal.aborted, 'the command started before the interrupt');
  const ms = performance.now() - started;
  assert.equal(run.result.status, 'interrupted');
  assert.ok(ms < 10_000, `the run waited ${Math.round(ms)} ms for a command it should have stopped`);
  assert.equal(run.steps[0]!.status, 'skipped');
  assert.equal(run.steps[0]!.note, 'interrupted');
});
