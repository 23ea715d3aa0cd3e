// examples/trpc-gates.yaml runs as a user runs it: the real CLI, through real wscat, against a real
// tRPC v11 router served by @trpc/server's own WebSocket adapter (test/fixtures/protocol-servers/
// trpc-server.ts). It passes on the healthy server, and each planted bug fails exactly the gates
// meant to catch it, at the check that names it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir, readResult, ROOT, SHARED_MACHINE } from './helpers/cli.ts';
import { startTrpcServer, type TrpcBug, type TrpcServerOptions } from './fixtures/protocol-servers/trpc-server.ts';
import type { CheckResult, RunResult } from '../lib/evidence/results.ts';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const TRPC = path.join(ROOT, 'examples', 'trpc-gates.yaml');

async function runAgainst(o: Omit<TrpcServerOptions, 'root'>, gates = TRPC, extra: string[] = []) {
  const project = tempDir('wsgate-trpc-project-');
  const out = tempDir('wsgate-trpc-out-');
  cleanup.push(
    () => project.remove(),
    () => out.remove(),
  );
  const server = await startTrpcServer({ root: project.path, ...o });
  try {
    const ev = path.join(out.path, 'ev');
    const r = await runCli([server.url, project.path, '--gates', gates, '--out', ev, ...SHARED_MACHINE, ...extra]);
    return { exitCode: r.exitCode, output: r.stdout + r.stderr, result: readResult(ev), project: project.path };
  } finally {
    await server.close();
  }
}

const failedChecks = (r: RunResult): (CheckResult & { gate: string; step: string })[] =>
  r.gates.flatMap((g) =>
    g.steps.flatMap((s) => s.checks.filter((c) => !c.passed).map((c) => ({ ...c, gate: g.id, step: s.label }))),
  );
const failedGates = (r: RunResult) => r.gates.filter((g) => g.status !== 'passed').map((g) => g.id);

test('examples/trpc-gates.yaml passes against @trpc/server: every gate, every frame valid, the note written', async () => {
  const run = await runAgainst({});
  assert.equal(run.exitCode, 0, run.output);
  assert.deepEqual(failedGates(run.result), []);
  assert.deepEqual(failedChecks(run.result), []);
  assert.equal(readFileSync(path.join(run.project, 'notes', 'hello.txt'), 'utf8'), `written by ${run.result.runId}`);
  const cov = run.result.coverage!;
  assert.equal(cov.percent.messages, 100, 'every kind but the optional reconnect was seen');
  assert.deepEqual(
    cov.lists
      .find((l) => l.key === 'procedures')
      ?.unlisted?.map((u) => u.name)
      .sort(),
    ['countdown', 'hello', 'no.such.procedure', 'notes.write', 'ticks'],
  );
});

// Each planted bug, the gates it must fail, and a check name (or actual value) that says why.
const BUGS: { bug: TrpcBug; gates: string[]; why: (c: CheckResult & { step: string }) => boolean }[] = [
  { bug: 'no-write', gates: ['write-note'], why: (c) => c.step === 'verify file notes/hello.txt' },
  {
    bug: 'skip-value',
    gates: ['countdown'],
    why: (c) => /result\.id="2"|"2"/.test(`${c.name} ${JSON.stringify(c.expected)}`),
  },
  { bug: 'never-stops', gates: ['countdown', 'resume'], why: (c) => /stopped/.test(c.name) },
  // The none listed after stopped in the countdown's own list catches the frame that follows it.
  {
    bug: 'data-after-stop',
    gates: ['countdown', 'stop'],
    why: (c) =>
      (c.step === 'countdown from 3' && /no message where id=1/.test(c.name) && /"id":1/.test(String(c.actual))) ||
      (c.step === 'stop it' && /no message where id=7/.test(c.name) && /"id":7/.test(String(c.actual))),
  },
  // The values that keep coming after the stop are what fails, not only the missing stopped.
  // The stream goes on after the stop, so the wait for stopped is kept alive by it until its cap
  // (20 × within), and fails there: "stopped" never came.
  {
    bug: 'ignores-stop',
    gates: ['stop'],
    why: (c) =>
      c.step === 'stop it' &&
      c.name === 'main: stopped' &&
      /the cap of a wait that frames kept alive/.test(String(c.actual)),
  },
  { bug: 'missing-field', gates: ['input-validation'], why: (c) => c.step === 'notes.write without text' },
  {
    bug: 'anyone-writes',
    gates: ['no-token'],
    why: (c) => c.step === 'notes.write on a connection without connectionParams',
  },
];

for (const { bug, gates, why } of BUGS) {
  test(`the tRPC example fails on the planted bug ${bug}, at ${gates.join(' and ')} only`, async () => {
    const run = await runAgainst({ bug });
    assert.equal(run.exitCode, 1, run.output);
    assert.deepEqual(failedGates(run.result), gates, run.output);
    const failed = failedChecks(run.result);
    for (const g of gates)
      assert.ok(
        failed.some((c) => c.gate === g && why(c)),
        `${g}: ${JSON.stringify(
          failed.filter((c) => c.gate === g),
          null,
          2,
        )}`,
      );
  });
}

test('with keep-alive on, the example still passes, and a gate sees the text PING and answers PONG', async () => {
  const healthy = await runAgainst({ pingMs: 150 });
  assert.equal(healthy.exitCode, 0, healthy.output);
  const dir = tempDir('wsgate-trpc-ping-');
  cleanup.push(() => dir.remove());
  const file = path.join(dir.path, 'gates.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'protocol: wsgate:trpc',
      'gates:',
      '  - id: ping',
      '    title: the server pings a quiet client, and a PONG keeps the socket usable',
      '    steps:',
      '      - connect: main',
      '      - expect: [{raw: PING}]',
      '        within: 3s',
      '      - send: PONG',
      '      - send: {id: 1, method: query, params: {path: hello, input: {name: again}}}',
      '        expect: [{type: data, match: {result.data: "Hello, again"}}]',
      '',
    ].join('\n'),
  );
  const ping = await runAgainst({ pingMs: 150 }, file);
  assert.equal(ping.exitCode, 0, ping.output);
  const silent = await runAgainst({}, file);
  assert.equal(silent.exitCode, 1, silent.output);
  const failed = failedChecks(silent.result);
  assert.ok(
    failed.length >= 1 && /PING/.test(failed[0]!.step) && /nothing matching/.test(String(failed[0]!.actual)),
    JSON.stringify(failed, null, 2),
  );
});
