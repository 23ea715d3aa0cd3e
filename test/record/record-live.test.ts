// `wsgate record` end to end: a session scripted through the real CLI's stdin, through a real wscat,
// against `wsgate serve` running as its own process; the gate it writes is then replayed with the
// real `wsgate run`, green on the same healthy server in a fresh folder and red on faulty ones.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { cliResult, firstFailure, readResult, scratch, SHARED_MACHINE } from '../helpers/cli.ts';
import { serveProcess, type ServeProcess } from '../helpers/serve-process.ts';
import { waitGone, wsServer } from '../helpers/servers.ts';
import { descendants } from '../../lib/os/process.ts';
import { ISO_TIME_ANYWHERE, readGates, startRecord, UUID_ANYWHERE, type GateStep } from './helpers.ts';

const s = scratch(after);
let healthy: ServeProcess;
before(async () => {
  healthy = s.server({
    ...(await serveProcess({ root: s.dir('wsgate-rec-root-'), noToken: true })),
    close: () => healthy.stop(),
  });
});

const msg = (text: string) => JSON.stringify({ type: 'message', message: text, content: text });

/** `wsgate run URL FRESH_FOLDER --gates FILE`, with its result.json. */
async function replay(url: string, file: string) {
  const out = path.join(s.dir('wsgate-rec-ev-'), 'ev');
  const r = await cliResult(['run', url, s.dir('wsgate-rec-fresh-'), '--gates', file, '--out', out, ...SHARED_MACHINE]);
  return { ...r, result: readResult(out) };
}

async function withServer<T>(faults: string[], fn: (url: string) => Promise<T>): Promise<T> {
  const server = await serveProcess({ root: s.dir('wsgate-rec-root-'), faults, noToken: true });
  try {
    return await fn(server.url);
  } finally {
    await server.stop();
  }
}

/** A recording session against `url` into a fresh folder, writing FOLDER/gates.yaml. */
function session(t: TestContext, url: string, extra: string[]) {
  const work = s.dir('wsgate-rec-');
  const project = path.join(work, 'project');
  const file = path.join(work, 'gates.yaml');
  return { project, file, rec: startRecord([url, project, '--out', file, ...extra], t) };
}

const sendOf = (steps: GateStep[], type: string) =>
  steps.filter((x) => (x.send as Record<string, unknown> | undefined)?.type === type);

describe('wsgate record: a live session', { concurrency: true }, () => {
  test('init, a written file and a streamed reply replay green in a fresh folder, red on lie-write (naming the file) and on non-UUID ids; the session id is captured, nothing volatile is hard-coded', async (t) => {
    const { project, file, rec } = session(t, healthy.url, ['--until', 'message_complete']);
    await rec.waitFor(/^connected to /m);
    rec.line(JSON.stringify({ type: 'init_session', projectPath: project }));
    const sessionId = (await rec.waitFor(/"type":"session_initialized","sessionId":"([^"]+)"/))[1]!;
    rec.line(msg("Create a test.txt file with 'Test content'"));
    rec.line(msg('Hello! Please introduce yourself.'));
    rec.line(JSON.stringify({ type: 'get_session', sessionId }));
    assert.equal(await rec.finish(), 0, rec.out() + rec.err());
    assert.match(rec.out(), /wrote gate recorded to .*gates\.yaml \(new file\)/);
    assert.match(rec.out(), /captured sessionId from session_initialized\.sessionId, used again [1-9]\d*×/);

    const { text, gates } = readGates(file);
    assert.equal(gates.length, 1);
    assert.doesNotMatch(text, UUID_ANYWHERE, 'no UUID (session id, message id, connection id) is hard-coded');
    assert.doesNotMatch(text, ISO_TIME_ANYWHERE, 'no timestamp is hard-coded');
    assert.ok(!text.includes(project), 'the project folder is written as ${PROJECT}');
    const steps = gates[0]!.steps;
    assert.deepEqual(steps[0], { connect: 'main' });
    const init = sendOf(steps, 'init_session')[0]!;
    assert.deepEqual(init.send, { type: 'init_session', projectPath: '${PROJECT}' });
    assert.deepEqual(init.expect![0]!.capture, { sessionId: 'sessionId' });
    assert.deepEqual((init.expect![0]!.match as Record<string, unknown>).sessionId, { format: 'uuid' });
    const get = sendOf(steps, 'get_session')[0]!;
    assert.deepEqual(get.send, { type: 'get_session', sessionId: '${sessionId}' });
    assert.equal((get.expect![0]!.match as Record<string, unknown>)['session.id'], '${sessionId}');
    const chats = sendOf(steps, 'message');
    assert.equal(chats.length, 2);
    for (const c of chats)
      assert.ok(
        c.expect!.some((e) => e.collect === 'content_delta' && typeof e.text === 'string' && e.text.length > 0),
        JSON.stringify(c.expect),
      );
    const verify = steps.find((x) => x.verify?.file === 'test.txt');
    assert.deepEqual(verify?.verify, { file: 'test.txt', content: 'Test content', changed: true });
    assert.ok(
      steps.indexOf(verify!) === steps.indexOf(chats[0]!) + 1,
      'the file is verified right after the send that wrote it',
    );

    const green = await replay(healthy.url, file);
    assert.equal(green.code, 0, green.stdout + green.stderr);
    assert.equal(green.result.gates[0]!.status, 'passed');

    const lie = await withServer(['lie-write'], (url) => replay(url, file));
    assert.equal(lie.code, 1, lie.stdout);
    assert.deepEqual(firstFailure(lie.result), { gate: 'recorded', step: 'test.txt as the session left it' });
    assert.match(lie.stdout, /✗ test\.txt exists[\s\S]*actual:\s+absent/);

    const badIds = await withServer(['bad-session-id'], (url) => replay(url, file));
    assert.equal(badIds.code, 1, badIds.stdout);
    assert.deepEqual(firstFailure(badIds.result), { gate: 'recorded', step: 'send init_session' });
    assert.match(badIds.stdout, /session_initialized\.sessionId[\s\S]*format/);
  });

  test('a large file is verified by sha256, a commit by HEAD and message, a deletion as absent; a fake commit is caught', async (t) => {
    // --git: record makes no folder a repository unless asked.
    const { project, file, rec } = session(t, healthy.url, ['--until', 'message_complete', '--git']);
    await rec.waitFor(/^connected to /m);
    for (const line of [
      JSON.stringify({ type: 'init_session', projectPath: project }),
      msg("Run `head -c 6000 /dev/zero | tr '\\0' a > big.txt`"),
      msg("Commit all changes with message 'recorded commit'"),
      msg('Run `rm big.txt`'),
    ])
      rec.line(line);
    assert.equal(await rec.finish(), 0, rec.out() + rec.err());
    const steps = readGates(file).gates[0]!.steps;
    const verifies = steps.filter((x) => x.verify).map((x) => x.verify);
    assert.deepEqual(verifies, [
      { file: 'big.txt', sha256: createHash('sha256').update('a'.repeat(6000)).digest('hex'), changed: true },
      { git: { status: ['big.txt'] } },
      { git: { headMoved: true, lastMessage: 'recorded commit', clean: true } },
      { file: 'big.txt', exists: false },
      { git: { status: ['big.txt'] } },
    ]);

    const green = await replay(healthy.url, file);
    assert.equal(green.code, 0, green.stdout + green.stderr);
    const fake = await withServer(['fake-commit'], (url) => replay(url, file));
    assert.equal(fake.code, 1, fake.stdout);
    // Caught at the reply already: a real commit's summary (pinned, hash as a pattern) lists its files.
    assert.equal(firstFailure(fake.result)?.step, 'send message');
    assert.match(fake.stdout, /✗ main: tool_result\.result/);
  });

  test('Ctrl-C (SIGINT) mid-session writes nothing, exits 130 and leaves no wscat behind', async (t) => {
    const { file, rec } = session(t, healthy.url, []);
    await rec.waitFor(/^connected to /m);
    const family = descendants(rec.child.pid!);
    assert.ok(family.length > 0, 'wscat runs under wsgate record');
    rec.child.kill('SIGINT');
    assert.equal(await rec.exit(), 130, rec.out() + rec.err());
    assert.match(rec.err(), /interrupted: no gate written/);
    assert.throws(() => readFileSync(file), /ENOENT/);
    for (const pid of family) assert.ok(await waitGone(pid, 10_000), `process ${pid} is gone`);
  });

  test('--until ends a reply at its last message, so a reply with a pause is kept whole under its send; replay fails on a server that never ends it', async (t) => {
    // A server whose "work" reply pauses 600 ms between its two messages.
    const behave = (finish: boolean) => (ws: import('ws').WebSocket) =>
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { type: string };
        if (m.type === 'work') {
          ws.send(JSON.stringify({ type: 'started' }));
          if (finish) setTimeout(() => ws.send(JSON.stringify({ type: 'done', result: 'ok' })), 600);
        } else ws.send(JSON.stringify({ type: 'pong' }));
      });
    const good = await wsServer(t, behave(true));
    const { file, rec } = session(t, good.url, ['--until', 'done', '--idle', '2s']);
    rec.line('{"type":"work"}');
    rec.line('{"type":"ping"}');
    assert.equal(await rec.finish(), 0, rec.out() + rec.err());
    const steps = readGates(file).gates[0]!.steps;
    assert.deepEqual(
      steps.filter((x) => x.send).map((x) => [x.send, x.expect]),
      [
        [{ type: 'work' }, [{ type: 'started' }, { type: 'done', match: { result: 'ok' } }]],
        [{ type: 'ping' }, [{ type: 'pong' }]],
      ],
    );
    const green = await replay(good.url, file);
    assert.equal(green.code, 0, green.stdout + green.stderr);
    const bad = await wsServer(t, behave(false));
    const red = await replay(bad.url, file);
    assert.equal(red.code, 1, red.stdout);
    assert.equal(firstFailure(red.result)?.step, 'send work');
    assert.match(red.stdout, /✗ main: done/);
  });

  test("the server's frames reach the terminal safe: ESC, CR, OSC 52 and RLO are shown escaped, as run shows them", async (t) => {
    const hostile = 'a\u001b[2K\rPASS\u001b]52;c;ZXZpbA==\u0007\u202Eevil';
    // Raw, not JSON: JSON would carry the controls as escapes already.
    const fx = await wsServer(t, (ws) => ws.on('message', () => ws.send(hostile)));
    const { rec } = session(t, fx.url, ['--idle', '300ms']);
    await rec.waitFor(/^connected to /m);
    rec.line('{"type":"ping"}');
    assert.equal(await rec.finish(), 0, rec.out() + rec.err());
    const out = rec.out();
    assert.doesNotMatch(out, /[\u001b\u0007\r\u202E]/, 'no raw control or bidi character reached the terminal');
    assert.match(out, /a\\x1b\[2K\\rPASS\\x1b\]52;c;ZXZpbA==\\x07\\u\{202e\}evil/);
  });
});
