import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FAULTS, parseFaults } from '../../reference-server/faults.ts';
import {
  Client,
  UUID,
  git,
  ofType,
  sessionFor,
  upgradeStatus,
  withServer,
  type Msg,
  type ServerHarness,
} from './helpers.ts';

const exercised = new Set<string>();

/** A fresh repo, a server with the given faults, and one connected client; all torn down afterwards. */
async function withFault(
  faults: string[],
  body: (h: ServerHarness) => Promise<void>,
  extra: { slowMs?: number } = {},
): Promise<void> {
  for (const name of parseFaults(faults).names) exercised.add(name);
  await withServer({ faults, ...extra }, body);
}

const exists = (file: string) =>
  fs.stat(file).then(
    () => true,
    () => false,
  );
const deltaText = (reply: Msg[]) =>
  ofType(reply, 'content_delta')
    .map((m) => m.delta)
    .join('');

describe('parseFaults', () => {
  test('accepts every registered name and the three spellings of refuse-after', () => {
    assert.deepEqual(
      parseFaults(Object.keys(FAULTS).filter((n) => n !== 'refuse-after')).names.length,
      Object.keys(FAULTS).length - 1,
    );
    for (const spelling of [['refuse-after=3'], ['refuse-after:3'], ['refuse-after 3'], ['refuse-after', '3']]) {
      assert.deepEqual(parseFaults(spelling), { names: ['refuse-after'], refuseAfter: 3 }, spelling.join(','));
    }
  });

  test('the README documents every fault', async () => {
    const readme = await fs.readFile(new URL('../../reference-server/README.md', import.meta.url), 'utf8');
    const missing = Object.keys(FAULTS).filter((name) => !new RegExp('^\\| `' + name + '(=N)?`', 'm').test(readme));
    assert.deepEqual(missing, []);
  });

  test('an unknown name is an error that names it and lists the valid ones', () => {
    assert.throws(
      () => parseFaults(['lie-wrte']),
      (e: Error) => e.message.includes('"lie-wrte"') && e.message.includes('lie-write, '),
    );
    assert.throws(() => parseFaults(['refuse-after']), /needs a count/);
    assert.throws(() => parseFaults(['refuse-after=two']), /non-negative integer/);
  });
});

describe('each fault really misbehaves', () => {
  test('lie-write: success reported, no file on disk', () =>
    withFault(['lie-write'], async ({ project, client }) => {
      await sessionFor(client, project);
      const [result] = ofType(await client.chat("Create a lie.txt file with 'x'"), 'tool_result');
      assert.equal(result.result, 'Wrote 1 bytes to lie.txt');
      assert.equal(await exists(path.join(project, 'lie.txt')), false);
    }));

  test('wrong-content: the file holds other content than asked', () =>
    withFault(['wrong-content'], async ({ project, client }) => {
      await sessionFor(client, project);
      await client.chat("Create a w.txt file with 'exact'");
      assert.notEqual(await fs.readFile(path.join(project, 'w.txt'), 'utf8'), 'exact');
    }));

  test('no-tool-events: the tool runs but no tool events are sent', () =>
    withFault(['no-tool-events'], async ({ project, client }) => {
      await sessionFor(client, project);
      const reply = await client.chat("Create a quiet.txt file with 'q'");
      assert.equal(reply.filter((m) => m.type === 'tool_execution' || m.type === 'tool_result').length, 0);
      assert.equal(await fs.readFile(path.join(project, 'quiet.txt'), 'utf8'), 'q');
    }));

  test('no-tool-result: tool_execution without tool_result', () =>
    withFault(['no-tool-result'], async ({ project, client }) => {
      await sessionFor(client, project);
      const reply = await client.chat('List files');
      assert.deepEqual([ofType(reply, 'tool_execution').length, ofType(reply, 'tool_result').length], [1, 0]);
    }));

  test('tool-error: every tool fails and nothing runs', () =>
    withFault(['tool-error'], async ({ project, client }) => {
      await sessionFor(client, project);
      const [result] = ofType(await client.chat("Create a t.txt file with 't'"), 'tool_result');
      assert.equal(result.error, 'Tool failed: internal error');
      assert.equal(await exists(path.join(project, 't.txt')), false);
    }));

  test('no-session: init_session gets no reply at all', () =>
    withFault(['no-session'], async ({ project, client }) => {
      const from = client.send({ type: 'init_session', projectPath: project });
      await client.settle();
      assert.deepEqual(
        client.messages.slice(from).map((m) => m.type),
        ['sessions_list'],
      );
    }));

  test('bad-session-id: the id is not a UUID, yet resume works', () =>
    withFault(['bad-session-id'], async ({ project, server, client }) => {
      const id = await sessionFor(client, project);
      assert.doesNotMatch(id, UUID);
      const other = await Client.ready(server.url);
      try {
        const [resumed] = await other.exchange(
          { type: 'init_session', sessionId: id },
          (m) => m.type === 'session_initialized',
        );
        assert.equal(resumed.sessionId, id);
      } finally {
        await other.close();
      }
    }));

  test('fake-listing: ghost.txt is listed but does not exist', () =>
    withFault(['fake-listing'], async ({ project, client }) => {
      await sessionFor(client, project);
      const [result] = ofType(await client.chat('List files'), 'tool_result');
      assert.ok(result.result.split('\n').includes('ghost.txt'));
      assert.equal(await exists(path.join(project, 'ghost.txt')), false);
    }));

  test('fake-read: read_file returns other content than the file has', () =>
    withFault(['fake-read'], async ({ project, client }) => {
      await fs.writeFile(path.join(project, 'real.txt'), 'the truth');
      await sessionFor(client, project);
      const [result] = ofType(await client.chat('Read real.txt'), 'tool_result');
      assert.notEqual(result.result, 'the truth');
    }));

  test('exec-noop: the command never runs', () =>
    withFault(['exec-noop'], async ({ project, client }) => {
      await sessionFor(client, project);
      const [result] = ofType(await client.chat('Run `touch ran.txt`'), 'tool_result');
      assert.equal(result.result, '');
      assert.equal(await exists(path.join(project, 'ran.txt')), false);
    }));

  test('fake-commit: a commit is claimed but git log stays empty', () =>
    withFault(['fake-commit'], async ({ project, client }) => {
      await fs.writeFile(path.join(project, 'c.txt'), 'c');
      await sessionFor(client, project);
      const [, commit] = ofType(await client.chat("Commit all with message 'Claimed'"), 'tool_result');
      assert.match(commit.result, /Claimed/);
      assert.equal(git(project, ['rev-list', '--all', '--count']).trim(), '0');
      assert.equal(git(project, ['diff', '--cached', '--name-only']), '', 'git_add staged nothing either');
    }));

  test('fake-status: claims clean while the real status is not', () =>
    withFault(['fake-status'], async ({ project, client }) => {
      await fs.writeFile(path.join(project, 'dirty.txt'), 'd');
      await sessionFor(client, project);
      const [result] = ofType(await client.chat('Git status'), 'tool_result');
      assert.equal(result.result, '');
      assert.notEqual(git(project, ['status', '--porcelain=v1', '-uall']), '');
    }));

  test('no-complete: the reply never ends with message_complete', () =>
    withFault(['no-complete'], async ({ project, client }) => {
      await sessionFor(client, project);
      const from = client.send({ type: 'message', message: 'Hello' });
      await client.settle();
      const types = client.messages.slice(from).map((m) => m.type);
      assert.ok(types.includes('content_delta'));
      assert.ok(!types.includes('message_complete'));
    }));

  test('slow: replies arrive no sooner than slowMs', () =>
    withFault(
      ['slow'],
      async ({ client }) => {
        const started = Date.now();
        await client.exchange({ type: 'ping' }, (m) => m.type === 'pong');
        assert.ok(Date.now() - started >= 250, `pong after ${Date.now() - started} ms`);
      },
      { slowMs: 250 },
    ));

  test('crash-mid-stream: two content_delta, then a 1011 close', () =>
    withFault(['crash-mid-stream'], async ({ project, client }) => {
      await sessionFor(client, project);
      client.send({ type: 'message', message: "Create a never.txt file with 'n'" });
      const closed = await client.waitForClose();
      assert.equal(closed.code, 1011);
      assert.equal(ofType(client.messages, 'content_delta').length, 2);
      assert.equal(await exists(path.join(project, 'never.txt')), false);
    }));

  test('drop-on-error: invalid JSON closes the socket with 1008', () =>
    withFault(['drop-on-error'], async ({ client }) => {
      client.send('{nope');
      assert.equal((await client.waitForClose()).code, 1008);
      assert.equal(ofType(client.messages, 'error').length, 0);
    }));

  test('no-pong: ping is ignored', () =>
    withFault(['no-pong'], async ({ client }) => {
      const from = client.send({ type: 'ping' });
      await client.settle();
      assert.equal(ofType(client.messages.slice(from), 'pong').length, 0);
    }));

  test('unhealthy: /health answers 503', () =>
    withFault(['unhealthy'], async ({ server }) => {
      const res = await fetch(`${server.httpUrl}/health`);
      assert.deepEqual([res.status, await res.json()], [503, { status: 'unhealthy' }]);
    }));

  test('refuse-after=1: the second upgrade gets 503', () =>
    withFault(['refuse-after=1'], async ({ server, client }) => {
      assert.equal(await upgradeStatus(server.url), 503);
      await client.exchange({ type: 'ping' }, (m) => m.type === 'pong');
    }));

  test('garbage: non-JSON frames after the welcome and before each reply', () =>
    withFault(['garbage'], async ({ client }) => {
      await client.waitFor((m) => m.raw !== undefined);
      assert.equal(client.frames[1], 'garbage: not json');
      const reply = await client.exchange({ type: 'ping' }, (m) => m.type === 'pong');
      assert.equal(reply[0].raw, 'garbage: not json');
    }));

  test('pretty-json (legal): multi-line frames, still a correct exchange', () =>
    withFault(['pretty-json'], async ({ project, client }) => {
      assert.ok(client.frames[0].includes('\n'));
      await sessionFor(client, project);
      await client.chat("Create a p.txt file with 'pretty'");
      assert.equal(await fs.readFile(path.join(project, 'p.txt'), 'utf8'), 'pretty');
    }));

  test('chatty (legal): banner, notices and an empty delta, still a correct exchange', () =>
    withFault(['chatty'], async ({ project, client }) => {
      const banner = await client.waitFor((m) => m.type === 'banner');
      assert.ok(banner.text.startsWith('> '));
      await sessionFor(client, project);
      const reply = await client.chat("Create a c.txt file with 'chat'");
      assert.ok(ofType(reply, 'server_notice').length >= 1);
      assert.ok(ofType(reply, 'content_delta').some((m) => m.delta === ''));
      assert.equal(reply.at(-1)?.type, 'message_complete');
      assert.match(deltaText(reply), /Wrote 4 bytes to c\.txt/);
      assert.equal(await fs.readFile(path.join(project, 'c.txt'), 'utf8'), 'chat');
    }));

  test('leak: every received message keeps about 1 MB that is never freed; a healthy server keeps none', async () => {
    // Array buffers are where Buffer memory is counted; the leaked ones stay reachable, so no GC can hide the growth.
    const growth = async (client: Client) => {
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 30; i++) await client.exchange({ type: 'ping' }, (m) => m.type === 'pong');
      return (process.memoryUsage().arrayBuffers - before) / (1024 * 1024);
    };
    await withServer({}, async ({ client }) => {
      const mb = await growth(client);
      assert.ok(mb < 10, `a healthy server grew ${mb.toFixed(1)} MB over 30 messages`);
    });
    // Measured second: freeing the hoard when this server closes cannot shrink the healthy figure above.
    await withFault(['leak'], async ({ client }) => {
      const mb = await growth(client);
      assert.ok(mb >= 28, `grew ${mb.toFixed(1)} MB over 30 messages`);
    });
  });

  // Runs last (tests in a describe run in order): a fault added to the registry without a test fails here.
  test('every registered fault was exercised above', () => {
    assert.deepEqual(
      Object.keys(FAULTS).filter((name) => !exercised.has(name)),
      [],
    );
  });
});
