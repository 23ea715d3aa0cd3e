// The data folder and logs are private (reference-server/private-files.ts, log.ts): a folder another
// user could have planted is refused, nothing is written or read through a symlink, logs are 0600,
// size-capped, and hold no command output or whole frames.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startReferenceServer } from '../../reference-server/index.ts';
import { Client, makeRepo, removeDirs, sessionFor, startTestServer, tempDir, withServer } from './helpers.ts';

const mode = async (p: string) => (await fs.lstat(p)).mode & 0o777;
const exists = (file: string) =>
  fs.lstat(file).then(
    () => true,
    () => false,
  );

describe('the data folder', () => {
  let root: string;
  let victim: string;
  before(async () => {
    root = await makeRepo();
    victim = await tempDir('wsgate-rs-victim-');
  });
  after(() => removeDirs(root, victim));

  test('without --data-dir: a fresh 0700 folder of ours, logs 0700 and 0600', async () => {
    const server = await startReferenceServer({ port: 0, root });
    try {
      assert.equal(await mode(server.dataDir), 0o700);
      assert.equal((await fs.lstat(server.dataDir)).uid, process.getuid!());
      assert.equal(await mode(server.logDir), 0o700);
      assert.equal(await mode(path.join(server.logDir, 'combined.log')), 0o600);
      assert.equal(await mode(path.join(server.logDir, 'error.log')), 0o600);
    } finally {
      await server.close();
      await removeDirs(server.dataDir);
    }
  });

  test('a data folder writable by group or others is refused, and nothing is written in it', async () => {
    for (const bits of [0o770, 0o707, 0o777]) {
      const dir = await tempDir('wsgate-rs-data-');
      await fs.chmod(dir, bits);
      try {
        await assert.rejects(startReferenceServer({ port: 0, root, dataDir: dir }), /writable by group or others/);
        assert.deepEqual(await fs.readdir(dir), []);
      } finally {
        await removeDirs(dir);
      }
    }
  });

  test('a data folder owned by another user is refused', async () => {
    const dir = await tempDir('wsgate-rs-data-');
    try {
      if (process.getuid!() === 0) {
        await fs.chown(dir, 65534, 65534);
        await assert.rejects(startReferenceServer({ port: 0, root, dataDir: dir }), /belongs to another user/);
      } else {
        // Not root: a folder root owns stands for "another user".
        await assert.rejects(startReferenceServer({ port: 0, root, dataDir: '/' }), /belongs to another user/);
      }
    } finally {
      await removeDirs(dir);
    }
  });

  test('a data folder that is a symlink is refused', async () => {
    const real = await tempDir('wsgate-rs-data-');
    const link = path.join(victim, 'data-link');
    await fs.symlink(real, link);
    try {
      await assert.rejects(startReferenceServer({ port: 0, root, dataDir: link }), /symbolic link/);
    } finally {
      await removeDirs(real);
      await fs.rm(link);
    }
  });

  // The experiment: logs/combined.log linked to the victim's .bashrc, so a logged request URL
  // containing $(…) ran at the next shell start. A hard link is the other way to the same end.
  const plantedLogs: Array<[string, string, (target: string, at: string) => Promise<void>, RegExp]> = [
    ['a symlink', 'combined.log', (target, at) => fs.symlink(target, at), /symbolic link/],
    ['a hard link', 'error.log', (target, at) => fs.link(target, at), /not a private regular file/],
  ];
  for (const [kind, name, plant, refusal] of plantedLogs) {
    test(`logs/${name} planted as ${kind} to the victim's file: refused at start, the file untouched`, async () => {
      const dataDir = await tempDir('wsgate-rs-data-');
      const bashrc = path.join(victim, `.bashrc-${name}`);
      await fs.writeFile(bashrc, 'export PS1=ok\n');
      await fs.mkdir(path.join(dataDir, 'logs'), { mode: 0o700 });
      await plant(bashrc, path.join(dataDir, 'logs', name));
      try {
        await assert.rejects(startReferenceServer({ port: 0, root, dataDir }), refusal);
        assert.equal(await fs.readFile(bashrc, 'utf8'), 'export PS1=ok\n');
      } finally {
        await removeDirs(dataDir);
      }
    });
  }

  test('sessions.json as a link: its planted sessions are not loaded and the target is never written', async () => {
    const dataDir = await tempDir('wsgate-rs-data-');
    const planted = path.join(victim, 'planted.json');
    const now = new Date().toISOString();
    const id = '33333333-3333-4333-8333-333333333333';
    const text = JSON.stringify({
      sessions: [{ id, sessionId: id, projectPath: root, messageCount: 0, createdAt: now, lastActiveAt: now }],
    });
    await fs.writeFile(planted, text);
    await fs.symlink(planted, path.join(dataDir, 'sessions.json'));
    const server = await startTestServer({ root, dataDir });
    const client = await Client.ready(server.url);
    try {
      const reply = await client.exchange(
        { type: 'init_session', sessionId: id },
        (m) => m.type === 'error' || m.type === 'session_initialized',
      );
      assert.equal(reply.at(-1)!.code, 'SESSION_NOT_FOUND');
      await sessionFor(client, root);
      assert.equal(await fs.readFile(planted, 'utf8'), text, 'the link target was not written');
      assert.equal(
        (await fs.lstat(path.join(dataDir, 'sessions.json'))).isSymbolicLink(),
        false,
        'the link was replaced by a file of ours',
      );
      assert.equal(await mode(path.join(dataDir, 'sessions.json')), 0o600);
    } finally {
      await client.close();
      await server.cleanup();
      await removeDirs(dataDir);
    }
  });
});

describe('log content and size', () => {
  const MARKER = 'OUTPUT-MARKER-7f3a';

  test('no command output, even of a timed-out command; no whole frame; no raw control characters', () =>
    withServer({ execTimeoutMs: 1500 }, async ({ project, server, client }) => {
      await sessionFor(client, project);
      await client.chat(`Run \`echo ${MARKER}-ok\``);
      const timedOut = await client.chat(`Run \`echo ${MARKER}-late; sleep 30\``, 20_000);
      assert.match(timedOut.find((m) => m.type === 'tool_result')!.error, /timed out/);
      const long = `x`.repeat(5000) + MARKER;
      await client.exchange({ type: long }, (m) => m.type === 'error');
      await client.exchange({ type: 'weird\u001b[2K\u009b31m\u2028' }, (m) => m.type === 'error');
      await client.exchange(`{"broken": "${'y'.repeat(5000)}${MARKER}`, (m) => m.type === 'error');
      const text = await fs.readFile(path.join(server.logDir, 'combined.log'), 'utf8');
      assert.doesNotMatch(text, new RegExp(MARKER), 'no command output and nothing past the 200-character cut');
      assert.ok(
        text.split('\n').every((line) => line.length < 2000),
        'every line is short',
      );
      assert.doesNotMatch(text, /[\u001b\u009b\u2028]/, 'control characters are escaped');
      assert.match(text, /weird\\u001b\[2K\\\\u009b31m\\\\u2028/, 'and still readable');
      assert.match(text, /"event":"tool_run"[^\n]*"error":"Command timed out after 1500 ms"/);
    }));

  test('a log past its cap is rotated to .1, so the files stay bounded', () => {
    const cap = 8 * 1024;
    return withServer({ logMaxBytes: cap }, async ({ server, client }) => {
      for (let i = 0; i < 200; i++) await client.exchange({ type: 'ping' }, (m) => m.type === 'pong');
      const combined = path.join(server.logDir, 'combined.log');
      assert.ok((await fs.stat(combined)).size <= cap, `combined.log ${(await fs.stat(combined)).size} bytes`);
      assert.ok(await exists(`${combined}.1`), 'the older lines went to combined.log.1');
      assert.ok((await fs.stat(`${combined}.1`)).size <= cap);
      assert.equal(await mode(`${combined}.1`), 0o600);
    });
  });
});
