import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import {
  Client,
  UUID,
  git,
  makeRepo,
  ofType,
  removeDirs,
  sessionFor,
  startTestServer,
  tempDir,
  upgradeStatus,
  type Msg,
} from './helpers.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('reference server over a real socket', () => {
  let project: string;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const clients: Client[] = [];
  const connect = async () => {
    const c = await Client.ready(server.url);
    clients.push(c);
    return c;
  };

  before(async () => {
    project = await makeRepo();
    server = await startTestServer({ root: project });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.cleanup();
    await removeDirs(project);
  });

  test('welcome carries a connection id, the server name and a timestamp', async () => {
    const c = await connect();
    const [welcome] = c.messages;
    assert.equal(welcome.type, 'connected');
    assert.match(welcome.connectionId, UUID);
    assert.equal(welcome.server, 'wsgate-reference');
    assert.equal(welcome.version, '1.0.0');
    assert.match(welcome.timestamp, ISO);
  });

  test('init_session creates, resumes, and rejects unknown ids and bad paths', async () => {
    const c = await connect();
    const [created] = await c.exchange(
      { type: 'init_session', projectPath: project },
      (m) => m.type === 'session_initialized',
    );
    assert.match(created.sessionId, UUID);
    assert.equal(created.projectPath, project);
    assert.equal(created.messageCount, 0);
    assert.match(created.createdAt, ISO);

    const other = await connect();
    const [resumed] = await other.exchange(
      { type: 'init_session', sessionId: created.sessionId },
      (m) => m.type === 'session_initialized',
    );
    assert.equal(resumed.sessionId, created.sessionId);
    assert.equal(resumed.projectPath, project);

    const [unknown] = await c.exchange({ type: 'init_session', sessionId: 'nope' }, (m) => m.type === 'error');
    assert.deepEqual([unknown.error, unknown.code], ['Session not found: nope', 'SESSION_NOT_FOUND']);
    const [bad] = await c.exchange(
      { type: 'init_session', projectPath: path.join(project, 'missing') },
      (m) => m.type === 'error',
    );
    assert.equal(bad.code, 'INVALID_PROJECT_PATH');
    const [byDefault] = await c.exchange({ type: 'init_session' }, (m) => m.type === 'session_initialized');
    assert.equal(byDefault.projectPath, project, 'no projectPath means the server root');
  });

  test('a chat message before init_session is NO_SESSION and the socket stays usable', async () => {
    const c = await connect();
    const [reply] = await c.exchange({ type: 'message', message: 'hi' }, (m) => m.type === 'error');
    assert.equal(reply.code, 'NO_SESSION');
    await c.exchange({ type: 'ping' }, (m) => m.type === 'pong');
  });

  test('write_file via chat: events in order and the exact content on disk', async () => {
    const c = await connect();
    await sessionFor(c, project);
    const reply = await c.chat("Create a test.txt file with 'Test content'");
    const types = reply.map((m) => m.type);
    const firstTool = types.indexOf('tool_execution');
    assert.ok(firstTool >= 2, `two content_delta before the tool: ${types}`);
    assert.deepEqual(types.slice(0, firstTool), Array(firstTool).fill('content_delta'));
    assert.deepEqual(types.slice(firstTool, firstTool + 2), ['tool_execution', 'tool_result']);
    assert.equal(types.at(-2), 'content_delta');
    assert.equal(types.at(-1), 'message_complete');
    assert.deepEqual(reply[firstTool].input, { path: 'test.txt', content: 'Test content' });
    assert.equal(reply[firstTool + 1].result, 'Wrote 12 bytes to test.txt');
    const complete = reply.at(-1) as Msg;
    assert.match(complete.messageId, UUID);
    assert.ok(Number.isInteger(complete.tokensUsed) && complete.tokensUsed > 0);
    assert.ok(
      reply.every((m) => ISO.test(m.timestamp)),
      'every message has a timestamp',
    );
    assert.equal(await fs.readFile(path.join(project, 'test.txt'), 'utf8'), 'Test content');
  });

  test('the text may come as "content" too, and the message count is persisted', async () => {
    const c = await connect();
    const id = await sessionFor(c, project);
    const from = c.send({ type: 'message', content: 'Hello there' });
    const done = await c.waitFor((m) => m.type === 'message_complete', from);
    const text = ofType(c.messages.slice(from), 'content_delta')
      .map((m) => m.delta)
      .join('');
    assert.match(text, /No tool needed/);
    assert.ok(done.tokensUsed > 0);
    const [data] = await c.exchange({ type: 'get_session', sessionId: id }, (m) => m.type === 'session_data');
    assert.equal(data.session.messageCount, 1);
    assert.equal(data.session.sessionId, id);
  });

  test('read, list, exec, git status and commit match the real folder and the real git', async () => {
    // A repository of its own below the server root: sessions may only start there.
    const repo = await makeRepo(project);
    try {
      const c = await connect();
      await sessionFor(c, repo);
      await fs.writeFile(path.join(repo, 'a.txt'), 'alpha\n');
      const toolResult = async (text: string) => {
        const reply = await c.chat(text);
        const results = ofType(reply, 'tool_result');
        return results.at(-1) as Msg;
      };
      assert.equal((await toolResult('Read a.txt')).result, 'alpha\n');
      assert.equal((await toolResult('List files')).result, 'a.txt');
      assert.equal((await toolResult('Git status')).result, git(repo, ['status', '--porcelain=v1', '-uall']));
      assert.equal((await toolResult('Run `echo ran > marker.txt && echo done`')).result, 'done\n');
      assert.equal(await fs.readFile(path.join(repo, 'marker.txt'), 'utf8'), 'ran\n');
      const commit = await toolResult("Commit everything with message 'First commit'");
      assert.match(commit.result, /First commit/);
      assert.equal(git(repo, ['log', '-1', '--format=%s']).trim(), 'First commit');
      assert.equal(git(repo, ['status', '--porcelain']), '');
      assert.equal((await toolResult('Git log')).result, git(repo, ['log', '--oneline', '-n', '10']));
      const failed = await toolResult("Commit again with message 'Empty'");
      assert.match(failed.error, /Nothing to commit/);
    } finally {
      await removeDirs(repo);
    }
  });

  test('a write to /etc/hosts is a Permission denied tool_result and the reply still completes', async () => {
    const c = await connect();
    await sessionFor(c, project);
    const reply = await c.chat("Write 'pwned' to /etc/hosts");
    const [result] = ofType(reply, 'tool_result');
    assert.deepEqual([result.tool, result.error], ['write_file', 'Permission denied: /etc/hosts']);
    assert.equal(reply.at(-1)?.type, 'message_complete');
    const text = ofType(reply, 'content_delta')
      .map((m) => m.delta)
      .join('');
    assert.match(text, /Permission denied/);
  });

  test('an unmappable instruction says so, with no tool events', async () => {
    const c = await connect();
    await sessionFor(c, project);
    const reply = await c.chat('Delete everything in the build folder');
    assert.equal(ofType(reply, 'tool_execution').length, 0);
    assert.match(
      ofType(reply, 'content_delta')
        .map((m) => m.delta)
        .join(''),
      /I could not map that instruction to a tool/,
    );
  });

  test('invalid JSON, non-objects and unknown types get error codes and the socket stays open', async () => {
    const c = await connect();
    const [badJson] = await c.exchange('{not json', (m) => m.type === 'error');
    assert.equal(badJson.code, 'INVALID_JSON');
    assert.match(badJson.error, /^Invalid JSON: /);
    const [notObject] = await c.exchange('[1,2]', (m) => m.type === 'error');
    assert.equal(notObject.code, 'INVALID_MESSAGE');
    const [noType] = await c.exchange({ hello: 1 }, (m) => m.type === 'error');
    assert.equal(noType.code, 'INVALID_MESSAGE');
    const [unknown] = await c.exchange({ type: 'bogus' }, (m) => m.type === 'error');
    assert.deepEqual([unknown.error, unknown.code], ['Unknown message type: bogus', 'UNKNOWN_TYPE']);
    await c.exchange({ type: 'ping' }, (m) => m.type === 'pong');
    assert.equal(c.closed, undefined);
    await connect();
  });

  test('slash commands: /help, /status, /clear, /sessions, routed messages and unknown ones', async () => {
    const c = await connect();
    const id = await sessionFor(c, project);
    await c.chat('Hello');
    const [help] = await c.exchange(
      { type: 'slash_command', command: '/help' },
      (m) => m.type === 'slash_command_response',
    );
    assert.equal(help.command, '/help');
    assert.match(help.response, /\/status/);
    const [status] = await c.exchange(
      { type: 'message', message: '/status' },
      (m) => m.type === 'slash_command_response',
    );
    assert.ok(status.response.includes(id) && status.response.includes(project));
    assert.match(status.response, /Messages: 1/);
    await c.exchange({ type: 'slash_command', command: '/clear' }, (m) => m.type === 'slash_command_response');
    const [data] = await c.exchange({ type: 'get_session', sessionId: id }, (m) => m.type === 'session_data');
    assert.equal(data.session.messageCount, 0);
    const [sessions] = await c.exchange(
      { type: 'slash_command', command: '/sessions' },
      (m) => m.type === 'slash_command_response',
    );
    assert.ok(sessions.response.includes(id));
    const [unknown] = await c.exchange({ type: 'slash_command', command: '/x' }, (m) => m.type === 'error');
    assert.deepEqual([unknown.error, unknown.code], ['Unknown command: /x', 'UNKNOWN_COMMAND']);
  });

  test('list, get and delete sessions over the socket', async () => {
    const c = await connect();
    const id = await sessionFor(c, project);
    const [list] = await c.exchange({ type: 'list_sessions' }, (m) => m.type === 'sessions_list');
    assert.equal(list.count, list.sessions.length);
    assert.ok(list.sessions.some((s: Msg) => s.id === id && s.sessionId === id));
    const [deleted] = await c.exchange({ type: 'delete_session', sessionId: id }, (m) => m.type === 'session_deleted');
    assert.equal(deleted.sessionId, id);
    const [gone] = await c.exchange({ type: 'get_session', sessionId: id }, (m) => m.type === 'error');
    assert.equal(gone.code, 'SESSION_NOT_FOUND');
    const [again] = await c.exchange({ type: 'delete_session', sessionId: id }, (m) => m.type === 'error');
    assert.equal(again.code, 'SESSION_NOT_FOUND');
  });

  test('/health reports status, counts and the absolute log folder', async () => {
    await connect();
    const res = await fetch(`${server.httpUrl}/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Msg;
    assert.equal(body.status, 'healthy');
    assert.ok(typeof body.uptime === 'number' && body.uptime >= 0);
    assert.ok(body.connections >= 1);
    assert.equal(typeof body.sessions, 'number');
    assert.equal(body.logDir, server.logDir);
    assert.ok(path.isAbsolute(body.logDir));
    assert.match(body.timestamp, ISO);
  });

  test('REST sessions: create, list, get, delete, 404s and a bad body', async () => {
    const api = `${server.httpUrl}/api/v1/sessions`;
    const json = { 'content-type': 'application/json' };
    const created = await fetch(api, { method: 'POST', headers: json, body: JSON.stringify({ projectPath: project }) });
    assert.equal(created.status, 201);
    const { session } = (await created.json()) as Msg;
    assert.match(session.id, UUID);
    assert.equal(session.projectPath, project);
    const list = (await (await fetch(api)).json()) as Msg;
    assert.ok(list.sessions.some((s: Msg) => s.id === session.id));
    assert.equal(list.count, list.sessions.length);
    const one = await fetch(`${api}/${session.id}`);
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as Msg).session.id, session.id);
    const del = await fetch(`${api}/${session.id}`, { method: 'DELETE' });
    assert.deepEqual([del.status, (await del.json()) as Msg], [200, { deleted: true, sessionId: session.id }]);
    assert.equal((await fetch(`${api}/${session.id}`)).status, 404);
    assert.equal((await fetch(`${api}/${session.id}`, { method: 'DELETE' })).status, 404);
    const bad = await fetch(api, { method: 'POST', headers: json, body: '{oops' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as Msg).error, /Invalid JSON/);
    const other = await fetch(`${server.httpUrl}/nowhere`);
    assert.equal(other.status, 404);
    assert.equal(typeof ((await other.json()) as Msg).error, 'string');
  });

  test('upgrades on paths other than /ws get 404', async () => {
    assert.equal(await upgradeStatus(server.url.replace(/\/ws$/, '/other')), 404);
  });

  test('combined.log records the traffic; error.log gets the error lines', async () => {
    const c = await connect();
    await c.exchange('{broken', (m) => m.type === 'error');
    const combined = (await fs.readFile(path.join(server.logDir, 'combined.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(combined.some((e) => e.event === 'connection_open'));
    assert.ok(combined.every((e) => ISO.test(e.time) && typeof e.level === 'string' && typeof e.event === 'string'));
    const errors = (await fs.readFile(path.join(server.logDir, 'error.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(errors.some((e) => e.code === 'INVALID_JSON' && e.level === 'error'));
  });

  test('ten concurrent connections each get their own session', async () => {
    const many = await Promise.all(Array.from({ length: 10 }, () => connect()));
    const ids = await Promise.all(many.map((c) => sessionFor(c, project)));
    assert.equal(new Set(ids).size, 10);
  });
});

describe('persistence and liveness', () => {
  test('sessions survive a restart with the same data folder', async () => {
    const project = await makeRepo();
    const dataDir = await tempDir('wsgate-rs-data-');
    try {
      const first = await startTestServer({ root: project, dataDir });
      const c1 = await Client.ready(first.url);
      const id = await sessionFor(c1, project);
      await c1.chat('Hello');
      await c1.close();
      await first.close();
      const saved = JSON.parse(await fs.readFile(path.join(dataDir, 'sessions.json'), 'utf8'));
      assert.equal(saved.sessions[0].id, id);

      const second = await startTestServer({ root: project, dataDir });
      try {
        const c2 = await Client.ready(second.url);
        const [resumed] = await c2.exchange(
          { type: 'init_session', sessionId: id },
          (m) => m.type === 'session_initialized',
        );
        assert.deepEqual([resumed.sessionId, resumed.messageCount, resumed.projectPath], [id, 1, project]);
        await c2.close();
      } finally {
        await second.close();
      }
    } finally {
      await removeDirs(project, dataDir);
    }
  });

  test('the server pings and drops a client that never answers, but keeps one that does', async () => {
    const project = await makeRepo();
    // The live client must answer each ping within one interval: a second holds on a starved machine.
    const server = await startTestServer({ root: project, pingIntervalMs: 1000 });
    const dead = await Client.ready(server.url, { autoPong: false });
    const alive = await Client.ready(server.url);
    try {
      let pings = 0;
      let timer: NodeJS.Timeout | undefined;
      const threePings = new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`only ${pings} pings within 20 s`)), 20_000);
        alive.socket.on('ping', () => {
          if (++pings === 3) resolve();
        });
      }).finally(() => clearTimeout(timer));
      const closed = await dead.waitForClose(15_000);
      assert.equal(closed.code, 1006, 'terminated, not closed politely');
      await threePings;
      assert.equal(alive.socket.readyState, WebSocket.OPEN);
    } finally {
      await alive.close();
      await server.cleanup();
      await removeDirs(project);
    }
  });

  test('a port already in use makes startReferenceServer reject', async () => {
    const project = await makeRepo();
    const server = await startTestServer({ root: project });
    try {
      await assert.rejects(startTestServer({ root: project, port: server.port }), { code: 'EADDRINUSE' });
    } finally {
      await server.cleanup();
      await removeDirs(project);
    }
  });

  test('close() ends open sockets and frees the port', async () => {
    const project = await makeRepo();
    const server = await startTestServer({ root: project });
    const c = await Client.ready(server.url);
    await server.cleanup();
    await c.waitForClose();
    await assert.rejects(fetch(`${server.httpUrl}/health`));
    await removeDirs(project);
  });
});
