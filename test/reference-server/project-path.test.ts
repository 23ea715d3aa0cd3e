// Sessions start only on the server root and below (reference-server/project-path.ts), judged by real
// path; --allow-any-project lifts that; the embedded server of a run also admits the run's own private
// per-gate folders (lib/runner/embedded.ts) and nothing else beside PATH.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmbedded } from '../../lib/runner/embedded.ts';
import { serverTokenFor } from '../../lib/os/server-tokens.ts';
import { Client, makeRepo, rawRequest, removeDirs, startTestServer, tempDir, withServer, type Msg } from './helpers.ts';

async function initReply(client: Client, projectPath: string): Promise<Msg> {
  const reply = await client.exchange(
    { type: 'init_session', projectPath },
    (m) => m.type === 'session_initialized' || m.type === 'error',
  );
  return reply.at(-1)!;
}

describe('sessions only under the root', () => {
  let root: string;
  let outside: string;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: Client;
  before(async () => {
    root = await makeRepo();
    outside = await tempDir('wsgate-rs-outside-');
    await fs.mkdir(path.join(root, 'sub'));
    await fs.symlink(outside, path.join(root, 'link-out'));
    server = await startTestServer({ root });
    client = await Client.ready(server.url);
  });
  after(async () => {
    await client.close();
    await server.cleanup();
    await removeDirs(root, outside);
  });

  test('a folder outside the root is an error reply with the documented fields', async () => {
    for (const given of [outside, '..', path.join(root, 'link-out'), 'link-out', '/']) {
      const reply = await initReply(client, given);
      assert.equal(reply.type, 'error', given);
      assert.equal(typeof reply.error, 'string');
      assert.equal(reply.code, 'PROJECT_OUTSIDE_ROOT', given);
      assert.match(reply.error, /outside the server root/);
    }
  });

  test('the root, a folder below it and a relative path into it are accepted', async () => {
    for (const [given, expected] of [
      [root, root],
      [path.join(root, 'sub'), path.join(root, 'sub')],
      ['sub', path.join(root, 'sub')],
    ]) {
      const reply = await initReply(client, given);
      assert.equal(reply.type, 'session_initialized', JSON.stringify(reply));
      assert.equal(reply.projectPath, expected);
    }
  });

  test('REST refuses it with 403 and creates nothing', async () => {
    const api = `${server.httpUrl}/api/v1/sessions`;
    const before = JSON.parse((await rawRequest(api)).body).count;
    const res = await rawRequest(api, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ projectPath: outside }),
    });
    assert.equal(res.status, 403);
    assert.match(JSON.parse(res.body).error, /outside the server root/);
    assert.equal(JSON.parse((await rawRequest(api)).body).count, before);
  });
});

test('--allow-any-project admits a folder outside the root', async () => {
  const outside = await tempDir('wsgate-rs-outside-');
  try {
    await withServer({ allowAnyProject: true }, async ({ client }) => {
      assert.equal((await initReply(client, outside)).type, 'session_initialized');
    });
  } finally {
    await removeDirs(outside);
  }
});

test('sessions.json entries on folders outside the root are dropped when loading', async () => {
  const root = await makeRepo();
  const dataDir = await tempDir('wsgate-rs-data-');
  const now = new Date().toISOString();
  const entry = (id: string, projectPath: string) => ({
    id,
    sessionId: id,
    projectPath,
    messageCount: 0,
    createdAt: now,
    lastActiveAt: now,
  });
  const planted = entry('11111111-1111-4111-8111-111111111111', os.homedir());
  const kept = entry('22222222-2222-4222-8222-222222222222', root);
  await fs.writeFile(path.join(dataDir, 'sessions.json'), JSON.stringify({ sessions: [planted, kept] }), {
    mode: 0o600,
  });
  const server = await startTestServer({ root, dataDir });
  const client = await Client.ready(server.url);
  try {
    const resumed = await client.exchange(
      { type: 'init_session', sessionId: planted.id },
      (m) => m.type === 'error' || m.type === 'session_initialized',
    );
    assert.equal(resumed.at(-1)!.code, 'SESSION_NOT_FOUND');
    const ok = await client.exchange(
      { type: 'init_session', sessionId: kept.id },
      (m) => m.type === 'error' || m.type === 'session_initialized',
    );
    assert.equal(ok.at(-1)!.type, 'session_initialized');
  } finally {
    await client.close();
    await server.cleanup();
    await removeDirs(root, dataDir);
  }
});

test("the embedded server: PATH and the run's private per-gate folders, nothing else", async () => {
  const project = await makeRepo();
  const stranger = await tempDir('wsgate-rs-outside-');
  // What GateFolders makes under --parallel: a private mkdtemp folder named wsgate-parallel-*, a gate folder inside.
  const gateBase = await tempDir('wsgate-parallel-test-');
  const gateFolder = path.join(gateBase, 'write-file');
  await fs.mkdir(gateFolder);
  // The same name made by someone careless (or another user): open to others, so not taken as the run's.
  const openBase = await tempDir('wsgate-parallel-open-');
  await fs.chmod(openBase, 0o777);
  const embedded = await startEmbedded(project, false);
  const client = await Client.ready(embedded.url, {
    headers: { authorization: `Bearer ${serverTokenFor(embedded.url)}` },
  });
  try {
    assert.equal((await initReply(client, project)).type, 'session_initialized');
    assert.equal((await initReply(client, gateFolder)).type, 'session_initialized');
    assert.equal((await initReply(client, stranger)).code, 'PROJECT_OUTSIDE_ROOT');
    assert.equal((await initReply(client, openBase)).code, 'PROJECT_OUTSIDE_ROOT');
    assert.equal((await initReply(client, os.tmpdir())).code, 'PROJECT_OUTSIDE_ROOT');
  } finally {
    await client.close();
    await embedded.stop();
    await removeDirs(project, stranger, gateBase, openBase);
  }
});
