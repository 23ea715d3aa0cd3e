// Agent backends built on the real model SDKs (@anthropic-ai/sdk, openai), each its own process, talk to
// `wsgate model` over real HTTP and run their tools on a real folder; the real CLI runs the default
// gates against them. A healthy backend passes; each planted defect fails at the gate and step that
// names it. Without a model API they still speak the protocol, and say so when the model is gone.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocket } from 'ws';
import { spawnChild, stopTree } from '../lib/os/process.ts';
import { ROOT, scratch } from './helpers/cli.ts';

const s = scratch(after);

const BACKENDS = {
  anthropic: { file: 'anthropic-backend.ts', baseVar: 'ANTHROPIC_BASE_URL', base: (model: string) => model },
  openai: { file: 'openai-backend.ts', baseVar: 'OPENAI_BASE_URL', base: (model: string) => `${model}/v1` },
} as const;
type BackendName = keyof typeof BACKENDS;

interface Listening {
  url: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns a program that prints `listening URL` first, and waits (at most 30 s) for that line. */
async function startListening(args: string[], env: NodeJS.ProcessEnv): Promise<Listening> {
  const child = spawnChild(process.execPath, args, { cwd: ROOT, env });
  const stop = () => stopTree(child, 2000);
  s.server({ close: stop });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no "listening" line within 30 s; stderr: ${err}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^listening (\S+)$/m.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening; stderr: ${err}`)));
    });
    return { url, stderr: () => err, stop };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a backend that is expected to refuse to start: its exit code and stderr (30 s deadline). */
async function refusal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawnChild(process.execPath, args, { cwd: ROOT, env });
  s.server({ close: () => stopTree(child, 2000) });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after 30 s; stderr: ${stderr}`)), 30_000);
      child.once('exit', (c) => resolve(c));
    });
    return { code, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function backendArgs(name: BackendName, extra: string[] = []): string[] {
  return ['--import', 'tsx', path.join(ROOT, 'test/fixtures/sdk-backends', BACKENDS[name].file), '--port', '0', ...extra];
}

function startBackend(name: BackendName, modelUrl: string, extra: string[] = []): Promise<Listening> {
  return startListening(backendArgs(name, extra), { ...process.env, [BACKENDS[name].baseVar]: BACKENDS[name].base(modelUrl) });
}

/** A loopback port nothing listens on: a model API that refuses every connection. */
async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A WebSocket client that answers each sent frame with the next frame received (5 s deadline each). */
async function talk(url: string): Promise<{ ask(frame: unknown): Promise<Record<string, unknown>>; close(): void }> {
  const ws = new WebSocket(url);
  const inbox: Record<string, unknown>[] = [];
  const waiting: ((m: Record<string, unknown>) => void)[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    async ask(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      const ready = inbox.shift();
      if (ready) return ready;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await new Promise((resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(frame)} within 5 s`)), 5000);
          waiting.push(resolve);
        });
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => ws.close(),
  };
}

describe('SDK backends without a model API behind them', { concurrency: 2 }, () => {
  for (const name of Object.keys(BACKENDS) as BackendName[]) {
    test(`${name}: speaks the protocol, and a chat whose model API refuses gets an error`, async () => {
      const backend = await startBackend(name, `http://127.0.0.1:${await closedPort()}`);
      assert.match(backend.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
      const health = await fetch(backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '/health'));
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'healthy');

      const project = s.dir('wsgate-sdk-project-');
      const c = await talk(backend.url);
      const init = await c.ask({ type: 'init_session', projectPath: project });
      assert.equal(init.type, 'session_initialized');
      assert.match(String(init.sessionId), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(init.hasContext, false);
      assert.deepEqual(await c.ask({ type: 'ping' }), { type: 'pong' });
      assert.equal((await c.ask('{not json')).code, 'INVALID_JSON');
      assert.equal((await c.ask({ type: 'no_such_type' })).code, 'UNKNOWN_TYPE');
      const help = await c.ask({ type: 'slash_command', command: '/help' });
      assert.equal(help.type, 'slash_command_response');
      assert.match(String(help.content), /\/help/);
      const failed = await c.ask({ type: 'message', content: 'Hello' });
      assert.equal(failed.type, 'error', JSON.stringify(failed));
      assert.equal(failed.code, 'MODEL_ERROR');
      // Resuming the session: the reply the model API broke off left nothing behind in its history.
      const again = await talk(backend.url);
      const resumed = await again.ask({ type: 'init_session', sessionId: init.sessionId });
      assert.deepEqual([resumed.type, resumed.sessionId, resumed.hasContext], ['session_initialized', init.sessionId, false]);
      c.close();
      again.close();
      await backend.stop();
    });
  }

  test('a backend refuses to start without its model base URL, or with an unknown defect', async () => {
    const env = { ...process.env };
    delete env.ANTHROPIC_BASE_URL;
    const noUrl = await refusal(backendArgs('anthropic'), env);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /ANTHROPIC_BASE_URL is not set/);

    const bad = await refusal(backendArgs('openai', ['--defect', 'no-such-defect']), { ...process.env, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown defect no-such-defect; known: wrong-events, fake-tool-result, early-complete, ignore-content/);
  });
});
