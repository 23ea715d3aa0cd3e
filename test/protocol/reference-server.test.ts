// The shipped protocol file against a real server: the reference server runs in-process, a real `ws`
// client drives a conversation that makes it send every server→client message kind, and every frame it
// sends (and every frame the client sends) validates with zero violations. The same traffic is fed to
// Coverage, which must then see every message kind the conversation used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startReferenceServer } from '../../reference-server/index.ts';
import { Coverage, DEFAULT_PROTOCOL_FILE, loadProtocol } from '../../lib/protocol/index.ts';

type Msg = Record<string, unknown>;

/** A real client that keeps every frame and waits (with a deadline) for one that satisfies a predicate. */
class Client {
  readonly received: Msg[] = [];
  readonly sent: Msg[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new Client(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  send(msg: Msg): void {
    this.sent.push(msg);
    this.ws.send(JSON.stringify(msg));
  }

  /** The next frame (after the previous wait's) of this type, skipping others. */
  async next(type: string, ms = 10000): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.cursor < this.received.length) {
        const m = this.received[this.cursor++]!;
        if (m.type === type) return m;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} within ${ms} ms; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

test('every message the reference server sends in a full conversation validates against the shipped protocol', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wsgate-proto-root-'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-proto-data-'));
  t.after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  const server = await startReferenceServer({ port: 0, root, dataDir });
  t.after(() => server.close());
  const loaded = loadProtocol(DEFAULT_PROTOCOL_FILE);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors));
  const protocol = loaded.protocol;

  const c = await Client.open(server.url);
  t.after(() => c.close());
  await c.next('connected');
  c.send({ type: 'init_session', projectPath: root });
  const init = await c.next('session_initialized');
  const sessionId = init.sessionId as string;

  c.send({
    type: 'message',
    message: "Create a test.txt file with 'Test content'",
    content: "Create a test.txt file with 'Test content'",
  });
  await c.next('content_delta');
  assert.equal((await c.next('tool_execution')).tool, 'write_file');
  const wrote = await c.next('tool_result');
  assert.equal(wrote.tool, 'write_file');
  assert.ok('result' in wrote);
  await c.next('message_complete');

  // A failing tool: tool_result with a string error.
  c.send({ type: 'message', content: 'Read no-such-file.txt' });
  const failed = await c.next('tool_result');
  assert.equal(typeof failed.error, 'string');
  await c.next('message_complete');

  c.send({ type: 'slash_command', command: '/help' });
  await c.next('slash_command_response');
  c.send({ type: 'message', message: '/status' });
  await c.next('slash_command_response');
  c.send({ type: 'list_sessions' });
  await c.next('sessions_list');
  c.send({ type: 'get_session', sessionId });
  await c.next('session_data');
  c.send({ type: 'ping' });
  await c.next('pong');
  c.send({ type: 'delete_session', sessionId });
  await c.next('session_deleted');
  // An error reply: a session that no longer exists.
  c.send({ type: 'get_session', sessionId });
  assert.equal((await c.next('error')).code, 'SESSION_NOT_FOUND');

  // Every server→client kind of the protocol arrived…
  const kinds = new Set(c.received.map((m) => m.type));
  assert.deepEqual(
    protocol.incomingTypes.filter((k) => !kinds.has(k)),
    [],
    'message kinds the conversation did not produce',
  );
  // …and every frame, both ways, is valid.
  const incoming = c.received.map((m) => ({ m, v: protocol.validateIncoming(m) })).filter((x) => x.v.length);
  assert.deepEqual(incoming, [], 'server→client violations');
  const outgoing = c.sent.map((m) => ({ m, v: protocol.validateOutgoing(m) })).filter((x) => x.v.length);
  assert.deepEqual(outgoing, [], 'client→server violations');

  const cov = new Coverage(protocol);
  c.received.forEach((m) => cov.recordIncoming(m));
  c.sent.forEach((m) => cov.recordOutgoing(m));
  const rep = cov.report();
  assert.equal(rep.percent.messages, 100);
  assert.deepEqual(
    rep.lists
      .find((l) => l.key === 'tools')!
      .items.filter((x) => x.count > 0)
      .map((x) => x.name),
    ['read_file', 'write_file'],
  );
  assert.deepEqual(
    rep.lists
      .find((l) => l.key === 'slashCommands')!
      .items.filter((x) => x.count > 0)
      .map((x) => x.name),
    ['/help', '/status'],
  );
});

test('a misbehaving server is caught: the bad-session-id fault gives a named uuid violation', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wsgate-proto-root-'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-proto-data-'));
  t.after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  const server = await startReferenceServer({ port: 0, root, dataDir, faults: ['bad-session-id'] });
  t.after(() => server.close());
  const loaded = loadProtocol(DEFAULT_PROTOCOL_FILE);
  assert.ok(loaded.ok);
  const c = await Client.open(server.url);
  t.after(() => c.close());
  c.send({ type: 'init_session', projectPath: root });
  const init = await c.next('session_initialized');
  assert.deepEqual(
    loaded.protocol.validateIncoming(init).map((v) => v.message),
    ['session_initialized.sessionId: must match format "uuid"'],
  );
});
