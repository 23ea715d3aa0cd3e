// `wsgate record --protocol` against a real tRPC server (@trpc/server's own WebSocket adapter, the
// fixture in test/fixtures/protocol-servers): the written gate knows tRPC's kinds and ids, keeps the
// URL's query and the client's values literal, keeps a stream's values in order and checks nothing
// follows its end, lets the keep-alive PING pass instead of expecting it, pins no stack trace, and
// makes no folder a repository. It replays green on the healthy server and red on planted bugs.
// Without --protocol the tRPC frames are recognised; a server whose frames have no kind gets no
// `forbid: [error]` (it could never fail).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cliResult, readResult, scratch, SHARED_MACHINE } from '../helpers/cli.ts';
import { startTrpcServer, type TrpcBug } from '../fixtures/protocol-servers/trpc-server.ts';
import { readGates, startRecord } from './helpers.ts';
import { jsonReplies, wsServer } from '../helpers/servers.ts';

const SESSION = [
  '{"method":"connectionParams","data":{"token":"let-me-in"}}',
  '{"id":1,"method":"query","params":{"path":"hello","input":{"name":"wsgate"}}}',
  '{"id":2,"method":"mutation","params":{"path":"notes.write","input":{"name":"rec","text":"recorded ${not.a.var} text"}}}',
  '{"id":3,"method":"subscription","params":{"path":"countdown","input":{"from":3}}}',
  '{"id":4,"method":"query","params":{"path":"hello","input":{}}}',
];

async function record(t: TestContext, extra: string[], pingMs?: number) {
  const s = scratch((fn) => t.after(fn));
  const root = s.dir('wsgate-rec-trpc-root-');
  const out = s.dir('wsgate-rec-trpc-out-');
  const server = s.server(await startTrpcServer({ root, ...(pingMs ? { pingMs } : {}) }));
  const file = path.join(out, 'gates.yaml');
  const rec = startRecord([`${server.url}?connectionParams=1`, root, '--out', file, '--idle', '400ms', ...extra], t);
  await rec.waitFor(/type JSON lines/);
  for (const l of SESSION) rec.line(l);
  assert.equal(await rec.finish(), 0, rec.out() + rec.err());
  return { root, file, out: rec.out(), ...readGates(file) };
}

async function replay(t: TestContext, file: string, bug?: TrpcBug) {
  const s = scratch((fn) => t.after(fn));
  const root = s.dir('wsgate-rec-trpc-replay-');
  const server = s.server(await startTrpcServer({ root, pingMs: 150, ...(bug ? { bug } : {}) }));
  const ev = path.join(s.dir('wsgate-rec-trpc-ev-'), 'ev');
  const r = await cliResult([server.url, root, '--gates', file, '--out', ev, ...SHARED_MACHINE]);
  return { code: r.code, output: r.stdout + r.stderr, result: readResult(ev) };
}

test('recorded with --protocol wsgate:trpc: kinds, literal ids, the stream in order then silence, the query kept, PING let through; green on the healthy server, red on each planted bug', async (t) => {
  const r = await record(t, ['--protocol', 'wsgate:trpc'], 150);
  assert.match(r.text, /^protocol: "wsgate:trpc"$/m);
  assert.match(
    r.text,
    /^defaults: \{nonJson: \{allow: \["PING"\]\}\}$/m,
    'the keep-alive PING may pass, and no other text frame',
  );
  assert.doesNotMatch(r.text, /raw: PING/, 'a keep-alive is not an expected reply');
  assert.doesNotMatch(r.text, /file:\/\//, 'a portable modeline');
  assert.doesNotMatch(r.text, /at inputValidatorMiddleware|\/@trpc\//, 'no stack trace pinned');
  assert.match(r.text, /# error\.data\.stack of the error is a stack trace/);
  assert.equal(existsSync(path.join(r.root, '.git')), false, 'the server folder was not made a repository');
  const [gate] = r.gates;
  assert.equal(gate!.title, 'Recorded session: connectionParams, query, mutation, subscription, query');
  assert.deepEqual(gate!.steps[0], { connect: { name: 'main', url: '${URL}?connectionParams=1' } });
  const sub = gate!.steps.find((s) => (s.send as { id?: number } | undefined)?.id === 3)!;
  assert.deepEqual(
    sub.expect!.map((e) => e.type),
    ['started', 'data', 'data', 'data', 'data', 'stopped'],
  );
  assert.deepEqual(
    sub.expect!.slice(1, 5).map((e) => (e.match as Record<string, unknown>)['result.data.data']),
    [3, 2, 1, 0],
    'the values in order, exact',
  );
  assert.ok(
    sub.expect!.every((e) => (e.match as Record<string, unknown>).id === 3),
    'the id the client sent stays literal',
  );
  assert.deepEqual(sub.forbid, ['error']);
  const after = gate!.steps[gate!.steps.indexOf(sub) + 1]!;
  assert.deepEqual(after.expect, [{ none: { where: { id: 3 } }, for: '300ms' }]);
  const write = gate!.steps.find((s) => (s.send as { id?: number } | undefined)?.id === 2)!;
  assert.equal(
    (write.send as { params: { input: { text: string } } }).params.input.text,
    'recorded \\${not.a.var} text',
    "the client's own ${ is escaped",
  );
  const bad = gate!.steps.find((s) => (s.send as { id?: number } | undefined)?.id === 4)!;
  assert.equal(bad.forbid, undefined, 'an exchange that answered with an error does not forbid it');

  const healthy = await replay(t, r.file);
  assert.equal(healthy.code, 0, healthy.output);
  for (const [bug, step] of [
    ['skip-value', /send subscription/],
    ['never-stops', /send subscription/],
    ['no-write', /notes\/rec\.txt/],
  ] as const) {
    const red = await replay(t, r.file, bug);
    assert.equal(red.code, 1, `${bug}: ${red.output}`);
    const failed = red.result.gates[0]!.steps.filter((s) => s.status === 'failed').map((s) => s.label);
    assert.ok(
      failed.some((l) => step.test(l)),
      `${bug}: ${failed.join(' | ')}`,
    );
  }
});

test('without --protocol, the tRPC frames are recognised from the first ones and the gate is written for wsgate:trpc', async (t) => {
  const r = await record(t, []);
  assert.match(r.text, /^protocol: "wsgate:trpc"$/m);
  assert.match(r.out, /the frames are wsgate:trpc's/);
  assert.equal(r.gates[0]!.title, 'Recorded session: connectionParams, query, mutation, subscription, query');
});

test('with no protocol and frames without a kind, no forbid is written: forbid: [error] could never fail', async (t) => {
  const fx = await wsServer(
    t,
    jsonReplies((m) => [{ ok: true, echo: m.n }]),
  );
  const s = scratch((fn) => t.after(fn));
  const file = path.join(s.dir('wsgate-rec-kindless-'), 'gates.yaml');
  const rec = startRecord(
    [
      fx.url,
      s.dir('wsgate-rec-kindless-root-'),
      '--out',
      file,
      '--idle',
      '300ms',
      '--header',
      'Authorization: Bearer abc',
      '--header',
      'X-Tenant: acme',
    ],
    t,
  );
  await rec.waitFor(/type JSON lines/);
  rec.line('{"n": 1}');
  assert.equal(await rec.finish(), 0, rec.out() + rec.err());
  const { text, gates } = readGates(file);
  assert.doesNotMatch(text, /forbid|protocol:|Bearer abc/);
  assert.deepEqual(gates[0]!.steps[1], { send: { n: 1 }, expect: [{ match: { ok: true, echo: 1 } }] });
  // The handshake's headers are kept, the secret one as a variable of the environment.
  assert.equal(fx.upgrades[0]!.headers['x-tenant'], 'acme');
  assert.deepEqual(gates[0]!.steps[0], {
    connect: { name: 'main', headers: { Authorization: '${env.AUTHORIZATION}', 'X-Tenant': 'acme' } },
  });
});
