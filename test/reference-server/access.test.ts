// Who may talk to the reference server (reference-server/access.ts): a web page in the developer's browser
// must not (cross-site WebSocket hijacking, a cross-site REST POST, DNS rebinding); wscat, scripts and
// the harness, which send no Origin, must not notice anything; with a token, nobody without it.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Client,
  makeRepo,
  rawRequest,
  removeDirs,
  sessionFor,
  startTestServer,
  upgradeStatus,
  wscatPing,
} from './helpers.ts';

const EVIL = 'https://evil.example';
const exists = (file: string) =>
  fs.stat(file).then(
    () => true,
    () => false,
  );

/** The attack of another local user: open a session on a folder of the attacker's choice and have a command run there. */
async function tryPwn(url: string, project: string, origin: string | undefined): Promise<'refused' | 'ran'> {
  let client: Client;
  try {
    client = await Client.ready(url, origin ? { origin } : undefined);
  } catch {
    return 'refused';
  }
  try {
    await sessionFor(client, project);
    await client.chat('Run `echo pwned > pwned.txt`');
    return 'ran';
  } finally {
    await client.close();
  }
}

describe('Origin and Host checks', () => {
  let project: string;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    project = await makeRepo();
    server = await startTestServer({ root: project });
  });
  after(async () => {
    await server.cleanup();
    await removeDirs(project);
  });

  test('a foreign Origin cannot open the socket, so the command never runs; without Origin it does', async () => {
    assert.equal(await upgradeStatus(server.url, { origin: EVIL }), 403);
    assert.equal(await tryPwn(server.url, project, EVIL), 'refused');
    assert.equal(await exists(path.join(project, 'pwned.txt')), false);
    // The same sequence from a client without Origin (a script) really runs: the refusal above is what stopped it.
    assert.equal(await tryPwn(server.url, project, undefined), 'ran');
    assert.equal(await fs.readFile(path.join(project, 'pwned.txt'), 'utf8'), 'pwned\n');
    await fs.rm(path.join(project, 'pwned.txt'));
  });

  test('the refusal is logged with its status and the Origin', async () => {
    assert.equal(await upgradeStatus(server.url, { origin: 'https://logged.example' }), 403);
    const lines = (await fs.readFile(path.join(server.logDir, 'combined.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const refused = lines.find(
      (l) => l.event === 'request_refused' && String(l.reason).includes('https://logged.example'),
    );
    assert.ok(refused, 'a request_refused line names the origin');
    assert.equal(refused.status, 403);
    assert.equal(refused.kind, 'upgrade');
  });

  test('the real wscat: no Origin works, a foreign --origin is refused with 403', async () => {
    assert.equal((await wscatPing(server.url)).ponged, true);
    const refused = await wscatPing(server.url, ['--origin', EVIL]);
    assert.equal(refused.ponged, false);
    assert.match(refused.stderr, /403/);
  });

  test('loopback page origins (any port, http or https) are admitted; null and other schemes are not', async () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'https://[::1]:3000', 'http://LOCALHOST']) {
      const c = await Client.ready(server.url, { origin });
      await c.close();
    }
    for (const origin of [
      'null',
      'file://',
      'chrome-extension://abc',
      'http://127.0.0.1.evil.example',
      'http://localhost.evil.example:80',
    ]) {
      assert.equal(await upgradeStatus(server.url, { origin }), 403, origin);
    }
  });

  test('a Host that is not loopback on this port is refused (DNS rebinding), for upgrades and plain HTTP', async () => {
    const port = server.port;
    for (const host of [
      `attacker.example:${port}`,
      'attacker.example',
      `127.0.0.1:${port + 1}`,
      `evil.example@127.0.0.1:${port}`,
    ]) {
      assert.equal(await upgradeStatus(server.url, { headers: { host } }), 403, host);
      assert.equal((await rawRequest(`${server.httpUrl}/api/v1/sessions`, { headers: { host } })).status, 403, host);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      assert.equal((await rawRequest(`${server.httpUrl}/health`, { headers: { host } })).status, 200, host);
      const c = await Client.ready(server.url, { headers: { host } });
      await c.close();
    }
  });

  test('REST: a cross-site text/plain POST is refused and creates nothing; text/plain is refused anyway; JSON works', async () => {
    const api = `${server.httpUrl}/api/v1/sessions`;
    const count = async () => JSON.parse((await rawRequest(api)).body).count as number;
    const before = await count();
    const body = JSON.stringify({ projectPath: project });
    const crossSite = await rawRequest(api, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': 'text/plain' },
      body,
    });
    assert.equal(crossSite.status, 403);
    const crossSiteJson = await rawRequest(api, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': 'application/json' },
      body,
    });
    assert.equal(crossSiteJson.status, 403);
    const plain = await rawRequest(api, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    assert.equal(plain.status, 415);
    assert.equal(await count(), before, 'no session was created by the refused requests');
    const ok = await rawRequest(api, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
    });
    assert.equal(ok.status, 201);
    const id = JSON.parse(ok.body).session.id as string;
    assert.equal((await rawRequest(`${api}/${id}`, { method: 'DELETE', headers: { origin: EVIL } })).status, 403);
    assert.equal((await rawRequest(`${api}/${id}`)).status, 200, 'the refused DELETE deleted nothing');
    assert.equal(
      (await rawRequest(`${api}/${id}`, { method: 'DELETE', headers: { origin: 'http://localhost:5173' } })).status,
      200,
    );
  });
});

describe('--allow-origin and --allow-host', () => {
  test('an admitted origin and host pass, others are still refused', async () => {
    const project = await makeRepo();
    const server = await startTestServer({
      root: project,
      allowOrigins: ['https://app.example:8443'],
      allowHosts: ['devbox.lan'],
    });
    try {
      const c = await Client.ready(server.url, { origin: 'https://APP.example:8443' });
      await c.close();
      assert.equal(
        await upgradeStatus(server.url, { origin: 'https://app.example' }),
        403,
        'another port is another origin',
      );
      assert.equal(
        (await rawRequest(`${server.httpUrl}/health`, { headers: { host: `devbox.lan:${server.port}` } })).status,
        200,
      );
      assert.equal(
        (await rawRequest(`${server.httpUrl}/health`, { headers: { host: `app.example:${server.port}` } })).status,
        200,
        "an admitted origin's host is admitted",
      );
      assert.equal(
        (await rawRequest(`${server.httpUrl}/health`, { headers: { host: `other.lan:${server.port}` } })).status,
        403,
      );
    } finally {
      await server.cleanup();
      await removeDirs(project);
    }
  });
});

describe('token', () => {
  const token = 'a-test-token-0123456789';
  let project: string;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    project = await makeRepo();
    server = await startTestServer({ root: project, token });
  });
  after(async () => {
    await server.cleanup();
    await removeDirs(project);
  });

  test('the handshake needs the token as a Bearer header or ?token=', async () => {
    assert.equal(await upgradeStatus(server.url), 401);
    assert.equal(await upgradeStatus(server.url, { headers: { authorization: 'Bearer wrong-token-0123456789' } }), 401);
    assert.equal(await upgradeStatus(`${server.url}?token=${token}x`), 401);
    const byHeader = await Client.ready(server.url, { headers: { authorization: `Bearer ${token}` } });
    await byHeader.close();
    const byQuery = await Client.ready(`${server.url}?token=${token}`);
    await byQuery.close();
    assert.equal(await upgradeStatus(`${server.url.replace(/\/ws$/, '/nowhere')}?token=${token}`), 404);
    const log = await fs.readFile(path.join(server.logDir, 'combined.log'), 'utf8');
    assert.match(log, /token=\*\*\*/, 'the refused URLs are logged');
    assert.doesNotMatch(log, new RegExp(token), 'but never with a token in them');
  });

  test('the HTTP API needs it too', async () => {
    assert.equal((await rawRequest(`${server.httpUrl}/api/v1/sessions`)).status, 401);
    assert.equal((await rawRequest(`${server.httpUrl}/health`)).status, 401);
    assert.equal(
      (await rawRequest(`${server.httpUrl}/api/v1/sessions`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
    assert.equal((await rawRequest(`${server.httpUrl}/health?token=${token}`)).status, 200);
  });

  test('the real wscat gets in with -H "Authorization: Bearer …" only', async () => {
    assert.equal((await wscatPing(server.url)).ponged, false);
    assert.equal((await wscatPing(server.url, ['-H', `Authorization: Bearer ${token}`])).ponged, true);
  });
});
