// The JSON-RPC and GraphQL over WebSocket examples run as a user runs them: the real CLI, through
// real wscat, against real servers built on json-rpc-2.0 and on graphql-ws (test/fixtures/
// protocol-servers). Each passes against its correct server and fails on its planted bug at the
// step meant to catch it; a stream that loses one frame while a query runs beside it is blamed for
// exactly that frame; graphql-ws's refusals (4403 on a wrong token, 4406 without the subprotocol)
// are seen with their codes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir, readResult, ROOT, SHARED_MACHINE } from './helpers/cli.ts';
import { startGraphqlServer, type GraphqlServerOptions } from './fixtures/protocol-servers/graphql-server.ts';
import { startJsonRpcServer, type JsonRpcServerOptions } from './fixtures/protocol-servers/jsonrpc-server.ts';
import type { RunningServer } from './fixtures/protocol-servers/main.ts';
import type { CheckResult, RunResult } from '../lib/evidence/results.ts';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface ExampleRun {
  exitCode: number | null;
  output: string;
  result: RunResult;
  project: string;
}

async function runAgainst(
  gates: string,
  start: (root: string) => Promise<RunningServer>,
  extra: string[] = [],
): Promise<ExampleRun> {
  const project = tempDir('wsgate-example-project-');
  const out = tempDir('wsgate-example-out-');
  cleanup.push(
    () => project.remove(),
    () => out.remove(),
  );
  const server = await start(project.path);
  try {
    const ev = path.join(out.path, 'ev');
    const r = await runCli([server.url, project.path, '--gates', gates, '--out', ev, ...SHARED_MACHINE, ...extra]);
    return { exitCode: r.exitCode, output: r.stdout + r.stderr, result: readResult(ev), project: project.path };
  } finally {
    await server.close();
  }
}

const GRAPHQL = path.join(ROOT, 'examples', 'graphql-gates.yaml');
const JSONRPC = path.join(ROOT, 'examples', 'jsonrpc-gates.yaml');
const graphql =
  (o: Omit<GraphqlServerOptions, 'root'> = {}) =>
  (root: string) =>
    startGraphqlServer({ root, ...o });
const jsonrpc =
  (o: Omit<JsonRpcServerOptions, 'root'> = {}) =>
  (root: string) =>
    startJsonRpcServer({ root, ...o });

const failedChecks = (r: RunResult): (CheckResult & { gate: string; step: string })[] =>
  r.gates.flatMap((g) =>
    g.steps.flatMap((s) => s.checks.filter((c) => !c.passed).map((c) => ({ ...c, gate: g.id, step: s.label }))),
  );
const statuses = (r: RunResult) => Object.fromEntries(r.gates.map((g) => [g.id, g.status]));

test('examples/graphql-gates.yaml passes against a graphql-ws server: every gate, every frame valid', async () => {
  const run = await runAgainst(GRAPHQL, graphql());
  assert.equal(run.exitCode, 0, run.output);
  assert.deepEqual(new Set(Object.values(statuses(run.result))), new Set(['passed']));
  assert.deepEqual(failedChecks(run.result), []);
  assert.equal(readFileSync(path.join(run.project, 'notes', 'hello.txt'), 'utf8'), `written by ${run.result.runId}`);
  // The 4403 was seen, with its reason, as the server sent it.
  const close = run.result.gates.find((g) => g.id === 'bad-token')!.steps.at(-1)!;
  assert.deepEqual(
    close.checks.map((c) => [c.name, c.passed]),
    [
      ['main: the server closes the connection', true],
      ['main: close code', true],
      ['main: close reason', true],
    ],
  );
  const cov = run.result.coverage!;
  assert.equal(cov.percent.messages, 72.7, 'connection_init/ack, ping, subscribe, next, error, complete of 11');
  assert.deepEqual(
    cov.lists
      .find((l) => l.key === 'operations')
      ?.unlisted?.map((u) => u.name)
      .sort(),
    ['Count', 'Hello', 'Slow', 'Write'],
  );
  assert.match(run.output, /seen, not described in the protocol file:\n {4}operations: Count, Hello, Slow, Write/);
});

test('the GraphQL example fails on a server that lets a wrong token in, at the bad-token gate only', async () => {
  const run = await runAgainst(GRAPHQL, graphql({ bug: 'accept-any-token' }));
  assert.equal(run.exitCode, 1, run.output);
  const failed = failedChecks(run.result);
  assert.deepEqual([...new Set(failed.map((c) => c.gate))], ['bad-token']);
  assert.deepEqual(
    failed.map((c) => c.name),
    ['main: no connection_ack for 300 ms', 'main: the server closes the connection'],
  );
  assert.match(String(failed[0]!.actual), /"type":"connection_ack"/);
  assert.equal(failed[1]!.actual, 'still open');
});

test('a stream that drops n=3 while a query runs beside it fails naming n=3, and no other frame', async () => {
  const run = await runAgainst(GRAPHQL, graphql({ dropFrame: 3 }), ['--gate', 'stream-beside-query']);
  assert.equal(run.exitCode, 1, run.output);
  const failed = failedChecks(run.result);
  assert.equal(failed.length, 1, JSON.stringify(failed, null, 2));
  assert.equal(failed[0]!.name, 'main: next where id="s1", payload.data.count=3');
  assert.equal(failed[0]!.step, "the stream's frames n=2..5 are all there, in order, then complete");
  // The query beside it and the frames after the gap were all matched.
  const checks = run.result.gates[0]!.steps.flatMap((s) => s.checks);
  for (const n of [2, 4, 5])
    assert.ok(
      checks.some((c) => c.passed && c.name === `main: next where id="s1", payload.data.count=${n} arrived`),
      `n=${n} matched`,
    );
  assert.ok(
    checks.some(
      (c) => c.passed && c.name === 'main: next arrived' && JSON.stringify(c.actual).includes('Hello, meanwhile'),
    ),
    'the query got its own answer',
  );
});

test('examples/jsonrpc-gates.yaml passes against a json-rpc-2.0 server, with replies tied to their ids', async () => {
  const run = await runAgainst(JSONRPC, jsonrpc());
  assert.equal(run.exitCode, 0, run.output);
  assert.deepEqual(statuses(run.result), { add: 'passed', errors: 'passed', chat: 'passed', notes: 'passed' });
  assert.ok(existsSync(path.join(run.project, 'notes', 'hello.txt')));
  const cov = run.result.coverage!;
  assert.deepEqual(cov.percent, { replies: 100, overall: 100 });
  // The client's calls, and apart from them the notifications the server pushed (chat.typing goes both ways).
  assert.deepEqual(
    cov.lists
      .find((l) => l.key === 'methods')
      ?.unlisted?.map((u) => u.name)
      .sort(),
    [
      'add',
      'chat.join',
      'chat.message (from the server)',
      'chat.send',
      'chat.typing',
      'chat.typing (from the server)',
      'no.such.method',
      'notes.write',
    ],
  );
  assert.doesNotMatch(run.output, /tools|slash commands/);
});

test('the JSON-RPC example fails on a server that notifies the sender instead of the others, at the chat gate only', async () => {
  const run = await runAgainst(JSONRPC, jsonrpc({ bug: 'notify-sender' }));
  assert.equal(run.exitCode, 1, run.output);
  const failed = failedChecks(run.result);
  assert.deepEqual([...new Set(failed.map((c) => c.gate))], ['chat']);
  assert.deepEqual(
    [...new Set(failed.map((c) => c.step))],
    [
      'alice sends, delivered to one other, not back to her',
      'bob gets the notification, with no id',
      'expect chat.typing',
    ],
  );
  assert.match(
    String(failed.find((c) => c.step === 'alice sends, delivered to one other, not back to her')!.actual),
    /"method":"chat\.message".*"from":"alice"/,
  );
});

test('a gates file that sets defaults.typeField reads kinds from that field, not from the protocol', async () => {
  const dir = tempDir('wsgate-typefield-');
  cleanup.push(() => dir.remove());
  const file = path.join(dir.path, 'gates.yaml');
  const gates = (head: string) =>
    `version: 1\nprotocol: wsgate:jsonrpc\n${head}gates:\n  - id: add\n    title: add\n    steps:\n      - connect: main\n      - send: {jsonrpc: "2.0", id: 1, method: add, params: [1, 2]}\n        expect: [{type: result, match: {result: 3}}]\n        within: 500ms\n`;
  writeFileSync(file, gates(''));
  const byProtocol = await runAgainst(file, jsonrpc());
  assert.equal(byProtocol.exitCode, 0, byProtocol.output);
  writeFileSync(file, gates('defaults: {typeField: method}\n'));
  const byField = await runAgainst(file, jsonrpc());
  assert.equal(byField.exitCode, 1, byField.output);
  assert.match(String(failedChecks(byField.result)[0]!.actual), /nothing matching within \d+ ms/);
});

test('a client that offers no subprotocol is refused by graphql-ws with 4406, and the connect step says so', async () => {
  const dir = tempDir('wsgate-4406-');
  cleanup.push(() => dir.remove());
  const file = path.join(dir.path, 'gates.yaml');
  writeFileSync(
    file,
    'version: 1\nprotocol: wsgate:graphql-transport-ws\ngates:\n  - id: plain\n    title: no subprotocol\n    steps:\n      - connect: plain\n',
  );
  const run = await runAgainst(file, graphql());
  assert.equal(run.exitCode, 1, run.output);
  const failed = failedChecks(run.result);
  assert.equal(failed.length, 1);
  assert.match(String(failed[0]!.actual), /4406 "Subprotocol not acceptable"/);
});

test('refused: a gate that wants graphql-ws to refuse a client without the subprotocol passes, names a wrong code, and the refusal does not make the server dead for the run', async () => {
  const dir = tempDir('wsgate-refused-');
  cleanup.push(() => dir.remove());
  const file = path.join(dir.path, 'gates.yaml');
  const gate = (id: string, connect: string) =>
    `  - id: ${id}\n    title: ${id}\n    steps:\n      - connect: ${connect}\n`;
  writeFileSync(
    file,
    'version: 1\nprotocol: wsgate:graphql-transport-ws\ngates:\n' +
      gate('refused-4406', '{name: plain, refused: {code: 4406, reason: {contains: Subprotocol}}}') +
      gate('refused-again', '{name: plain, refused: true}') +
      gate('wrong-code', '{name: plain, refused: {code: 4403}}') +
      gate('opens', '{name: main, subprotocols: [graphql-transport-ws], refused: true}'),
  );
  const run = await runAgainst(file, graphql());
  assert.equal(run.exitCode, 1, run.output);
  assert.deepEqual(statuses(run.result), {
    'refused-4406': 'passed',
    'refused-again': 'passed',
    'wrong-code': 'failed',
    opens: 'failed',
  });
  const failed = failedChecks(run.result);
  assert.deepEqual(
    failed.map((c) => [c.gate, c.name]),
    [
      ['wrong-code', 'plain: close code of the refusal'],
      ['opens', 'main: the server refuses the connection'],
    ],
  );
  assert.equal(failed[0]!.actual, 4406);
  assert.match(String(failed[1]!.actual), /^open in \d+ ms$/);
  const passed = run.result.gates[0]!.steps[0]!.checks;
  assert.deepEqual(
    passed.map((c) => [c.name, c.actual]),
    [
      ['plain: the server refuses the connection', 'closed: 4406 "Subprotocol not acceptable"'],
      ['plain: close code of the refusal', 4406],
      ['plain: close reason of the refusal', 'Subprotocol not acceptable'],
    ],
  );
});
