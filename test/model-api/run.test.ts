// The stand-in inside `wsgate run`: a gates file with model: and a start: step gets the stand-in, the
// started backend (on the real @anthropic-ai/sdk) reaches it through ANTHROPIC_BASE_URL, model.jsonl
// is evidence, and a model step catches a backend that tells the model a made-up tool result.
// Without a stand-in a model step is skipped; --model serves one for a backend started by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, cliResult, readResult, tempDir } from '../helpers/cli.ts';
import { freePort, until } from '../helpers/servers.ts';
import { spawnChild, stopTree } from '../../lib/os/process.ts';
import { runGatesYaml } from '../helpers/run-gates.ts';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'model-loop');

async function runLoop(t: import('node:test').TestContext, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir('wsgate-model-run-');
  t.after(() => dir.remove());
  const port = await freePort();
  const out = path.join(dir.path, 'ev');
  const r = await cliResult(
    [
      'run',
      `ws://127.0.0.1:${port}/ws`,
      path.join(dir.path, 'project'),
      '--gates',
      path.join(FIXTURE, 'gates.yaml'),
      '--var',
      `PORT=${port}`,
      '--var',
      `BACKEND=${path.join(FIXTURE, 'backend.mjs')}`,
      '--out',
      out,
      '--timeout-scale',
      '3',
    ],
    { env, timeoutMs: 120_000 },
  );
  return { ...r, out };
}

test('a gates file with model: and start: runs its backend against the stand-in; model.jsonl holds what it sent', async (t) => {
  // A real key in the environment must not reach the started backend: it gets a placeholder.
  const r = await runLoop(t, { ANTHROPIC_API_KEY: 'sk-ant-real-key-must-not-leak' });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /model stand-in at http:\/\/127\.0\.0\.1:\d+/);
  const records = readFileSync(path.join(r.out, 'model.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          userText: string;
          rule: number | null;
          declaredTools: string[];
          toolResults: { tool: string; content: string }[];
        },
    );
  const runId = readResult(r.out).runId;
  assert.deepEqual(
    records.map((x) => x.userText),
    [
      `Create a test.txt file with 'Test content ${runId}'`,
      `Create a test.txt file with 'Test content ${runId}'`,
      'Read test.txt',
      'Read test.txt',
    ],
  );
  assert.deepEqual(
    records.map((x) => x.rule),
    [1, 1, 2, 2],
  );
  assert.deepEqual([...new Set(records.map((x) => (x as { key?: string }).key))], ['placeholder']);
  assert.deepEqual(records[3]!.toolResults, [{ tool: 'read_file', content: `Test content ${runId}`, isError: false }]);
  // The rule's requireToolResult had the run's ${RUN_ID} in it, and held.
  assert.deepEqual(
    (records[3] as unknown as { checks: { expected: unknown; passed: boolean }[] }).checks.map((c) => [
      c.expected,
      c.passed,
    ]),
    [[{ contains: `Test content ${runId}` }, true]],
  );
  const step = readResult(r.out).gates[0]!.steps.at(-1)!;
  assert.equal(step.kind, 'model');
  assert.equal(step.status, 'passed');
  assert.ok(
    step.checks.some((c) => /requireToolResult|read_file result the backend returned/.test(c.name) && c.passed),
  );
});

test('a backend that tells the model a made-up read_file result fails the model step, naming what the model received', async (t) => {
  const r = await runLoop(t, { MADE_UP_RESULT: '1' });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const steps = readResult(r.out).gates[0]!.steps;
  assert.deepEqual(
    steps.filter((s) => s.status === 'failed').map((s) => s.kind),
    ['model'],
  );
  const failed = steps.at(-1)!.checks.filter((c) => !c.passed);
  assert.deepEqual(
    failed.map((c) => c.actual),
    ['I read the file, it looks fine.', ['I read the file, it looks fine.']],
  );
});

test('without a stand-in in the run a model step is skipped, not failed', async () => {
  const run = await runGatesYaml(
    'version: 1\ngates:\n  - id: g\n    title: t\n    steps:\n      - model: {toolResult: {tool: read_file}}\n',
    { url: 'ws://127.0.0.1:9/ws' },
  );
  assert.equal(run.steps[0]!.status, 'skipped');
  assert.match(run.steps[0]!.note ?? '', /no model stand-in/);
  assert.equal(run.result.gates[0]!.status === 'failed', false);
});

test('wsgate run --model serves the stand-in for a backend started by hand and prints the line to set', async (t) => {
  const dir = tempDir('wsgate-model-flag-');
  t.after(() => dir.remove());
  const out = path.join(dir.path, 'ev');
  const r = await cliResult(['run', '--model', '--gate', 'ping', '--out', out], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:\d+ OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/v1/);
  assert.ok(existsSync(path.join(out, 'model.jsonl')));
});

test('--model-port: a backend started by hand with that URL before the run reaches the stand-in the run serves', async (t) => {
  const dir = tempDir('wsgate-model-port-');
  t.after(() => dir.remove());
  const [wsPort, modelPort] = [await freePort(), await freePort()];
  const project = path.join(dir.path, 'project');
  mkdirSync(project);
  const backend = spawnChild(process.execPath, [path.join(FIXTURE, 'backend.mjs'), String(wsPort), project], {
    env: { ...process.env, ANTHROPIC_BASE_URL: `http://127.0.0.1:${modelPort}`, ANTHROPIC_API_KEY: 'test' },
  });
  t.after(() => stopTree(backend, 2000));
  let out = '';
  backend.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  assert.ok(await until(() => out.includes('backend listening'), 20_000), 'the backend listens');
  const gates = path.join(dir.path, 'gates.yaml');
  writeFileSync(
    gates,
    [
      'version: 1',
      'gates:',
      '  - id: by-hand',
      '    title: a backend started by hand',
      '    steps:',
      '      - connect: main',
      '      - send: {type: message, message: "Create a test.txt file with \'Test content\'"}',
      '        expect: [{type: tool_result, where: {tool: write_file}}, {type: message_complete}]',
      '      - verify: {file: test.txt, content: "Test content"}',
      '      - model: {toolResult: {tool: write_file, content: {contains: "wrote test.txt"}}, requests: 2}',
      '',
    ].join('\n'),
  );
  const ev = path.join(dir.path, 'ev');
  const r = await cliResult(
    [
      'run',
      `ws://127.0.0.1:${wsPort}/ws`,
      project,
      '--gates',
      gates,
      '--model-port',
      String(modelPort),
      '--out',
      ev,
      '--timeout-scale',
      '3',
    ],
    { timeoutMs: 90_000 },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`ANTHROPIC_BASE_URL=http://127\\.0\\.0\\.1:${modelPort} `));
  assert.equal(readResult(ev).gates[0]!.steps.at(-1)!.status, 'passed');
  assert.equal(readFileSync(path.join(ev, 'model.jsonl'), 'utf8').trim().split('\n').length, 2);
});

test('--model-port on a port another program holds is a usage error (exit 2) that names the port, not a harness crash', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const port = (holder.address() as net.AddressInfo).port;
  const r = await cliResult(['run', '--gate', 'session-init', '--model-port', String(port)], { timeoutMs: 60_000 });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`is port ${port} taken\\? give another --model-port`));
});

test('under --parallel a model step of a concurrent gate is not checked (the records carry no gate); a serial gate still judges its own', async (t) => {
  const dir = tempDir('wsgate-model-parallel-');
  t.after(() => dir.remove());
  const file = path.join(dir.path, 'gates.yaml');
  // a and b run at once on folders of their own; c (serial) runs afterwards, alone, on PATH.
  const gate = (id: string, extra: string) =>
    `  - id: ${id}\n    title: ${id}\n${extra}    steps:\n      - model: {requests: 0}\n`;
  writeFileSync(file, `version: 1\ngates:\n${gate('a', '')}${gate('b', '')}${gate('c', '    serial: true\n')}`);
  const out = path.join(dir.path, 'ev');
  const r = await cliResult(
    ['run', '--model', '--parallel', '2', path.join(dir.path, 'project'), '--gates', file, '--out', out],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const steps = Object.fromEntries(readResult(out).gates.map((g) => [g.id, g.steps[0]!]));
  assert.equal(steps.a!.status, 'unchecked');
  assert.equal(steps.b!.status, 'unchecked');
  assert.match(steps.a!.note ?? '', /not checked under --parallel.*serial: true/);
  assert.equal(steps.c!.status, 'passed', 'the serial gate runs alone: its window is its own');
  assert.ok(steps.c!.checks.some((c) => c.name === 'requests the backend sent the model' && c.passed));
});
