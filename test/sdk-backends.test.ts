// Agent backends built on the real model SDKs (@anthropic-ai/sdk, openai), each its own process, talk to
// `wsgate model` over real HTTP and run their tools on a real folder; the real CLI runs the default
// gates against them. A healthy backend passes; each planted defect fails at the gate and step that
// names it. Without a model API they still speak the protocol, and say so when the model is gone.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { parse } from 'yaml';
import { spawnChild, stopTree } from '../lib/os/process.ts';
import type { CheckResult, RunResult } from '../lib/evidence/results.ts';
import type { Defect } from './fixtures/sdk-backends/defects.ts';
import { MADE_UP_RESULT } from './fixtures/sdk-backends/reply.ts';
import { TOOL_SPECS } from './fixtures/sdk-backends/tool-specs.ts';
import { BIN, ROOT, SHARED_MACHINE, firstFailure, readResult, runCli, scratch } from './helpers/cli.ts';
import { freePort } from './helpers/servers.ts';

const s = scratch(after);

const BACKENDS = {
  anthropic: { file: 'anthropic-backend.ts', baseVar: 'ANTHROPIC_BASE_URL', base: (model: string) => model },
  openai: { file: 'openai-backend.ts', baseVar: 'OPENAI_BASE_URL', base: (model: string) => `${model}/v1` },
} as const;
type BackendName = keyof typeof BACKENDS;

interface Listening {
  url: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns a program that prints `listening URL` first, and waits (at most 30 s) for that line. */
async function startListening(args: string[], env: NodeJS.ProcessEnv): Promise<Listening> {
  const child = spawnChild(process.execPath, args, { cwd: ROOT, env });
  const stop = () => stopTree(child, 2000);
  s.server({ close: stop });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no "listening" line within 30 s; stderr: ${err}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^listening (\S+)$/m.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening; stderr: ${err}`)));
    });
    return { url, stderr: () => err, stop };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a backend that is expected to refuse to start: its exit code and stderr (30 s deadline). */
async function refusal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawnChild(process.execPath, args, { cwd: ROOT, env });
  s.server({ close: () => stopTree(child, 2000) });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after 30 s; stderr: ${stderr}`)), 30_000);
      child.once('exit', (c) => resolve(c));
    });
    return { code, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function backendArgs(name: BackendName, extra: string[] = []): string[] {
  return [
    '--import',
    'tsx',
    path.join(ROOT, 'test/fixtures/sdk-backends', BACKENDS[name].file),
    '--port',
    '0',
    ...extra,
  ];
}

function startBackend(name: BackendName, modelUrl: string, extra: string[] = []): Promise<Listening> {
  return startListening(backendArgs(name, extra), {
    ...process.env,
    [BACKENDS[name].baseVar]: BACKENDS[name].base(modelUrl),
  });
}

/** A loopback port nothing listens on: a model API that refuses every connection. */
async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A WebSocket client that answers each sent frame with the next frame received (5 s deadline each). */
async function talk(url: string): Promise<{ ask(frame: unknown): Promise<Record<string, unknown>>; close(): void }> {
  const ws = new WebSocket(url);
  const inbox: Record<string, unknown>[] = [];
  const waiting: ((m: Record<string, unknown>) => void)[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    async ask(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      const ready = inbox.shift();
      if (ready) return ready;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await new Promise((resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(frame)} within 5 s`)), 5000);
          waiting.push(resolve);
        });
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => ws.close(),
  };
}

describe('SDK backends without a model API behind them', { concurrency: 2 }, () => {
  for (const name of Object.keys(BACKENDS) as BackendName[]) {
    test(`${name}: speaks the protocol, and a chat whose model API refuses gets an error`, async () => {
      const backend = await startBackend(name, `http://127.0.0.1:${await closedPort()}`);
      assert.match(backend.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
      const health = await fetch(backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '/health'));
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'healthy');

      const project = s.dir('wsgate-sdk-project-');
      const c = await talk(backend.url);
      const init = await c.ask({ type: 'init_session', projectPath: project });
      assert.equal(init.type, 'session_initialized');
      assert.match(String(init.sessionId), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(init.hasContext, false);
      assert.deepEqual(await c.ask({ type: 'ping' }), { type: 'pong' });
      assert.equal((await c.ask('{not json')).code, 'INVALID_JSON');
      assert.equal((await c.ask({ type: 'no_such_type' })).code, 'UNKNOWN_TYPE');
      const help = await c.ask({ type: 'slash_command', command: '/help' });
      assert.equal(help.type, 'slash_command_response');
      assert.match(String(help.content), /\/help/);
      const failed = await c.ask({ type: 'message', content: 'Hello' });
      assert.equal(failed.type, 'error', JSON.stringify(failed));
      assert.equal(failed.code, 'MODEL_ERROR');
      // Resuming the session: the reply the model API broke off left nothing behind in its history.
      const again = await talk(backend.url);
      const resumed = await again.ask({ type: 'init_session', sessionId: init.sessionId });
      assert.deepEqual(
        [resumed.type, resumed.sessionId, resumed.hasContext],
        ['session_initialized', init.sessionId, false],
      );
      c.close();
      again.close();
      await backend.stop();
    });
  }

  test('a backend refuses to start without its model base URL, or with an unknown defect', async () => {
    const env = { ...process.env };
    delete env.ANTHROPIC_BASE_URL;
    const noUrl = await refusal(backendArgs('anthropic'), env);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /ANTHROPIC_BASE_URL is not set/);

    const bad = await refusal(backendArgs('openai', ['--defect', 'no-such-defect']), {
      ...process.env,
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    });
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /unknown defect no-such-defect; known: wrong-events, fake-tool-result, early-complete, ignore-content \(or none\)/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Against `wsgate model`: the default gates, run by the real CLI.

/**
 * A slow model's pace for each backend: 2 s before the first token and again after the tools for one
 * (the run takes about 90 s), 0.9 s for the other, so the suite pays for one slow run, not two.
 */
const SLOW_PACE_MS: Record<BackendName, number> = { anthropic: 2000, openai: 900 };

const DEFAULT_GATE_IDS = (
  parse(readFileSync(path.join(ROOT, 'gates.yaml'), 'utf8')) as { gates: { id: string }[] }
).gates.map((g) => g.id);
const TOOL_NAMES = TOOL_SPECS.map((t) => t.name);

/** What the stand-in logged, one record per request (model.jsonl). */
interface ModelRecord {
  api: string;
  status: number;
  userText?: string;
  declaredTools?: string[];
  toolResults?: { tool?: string; content: string; isError: boolean }[];
  reply?: { text: string; calls: { name: string; input: Record<string, unknown> }[] };
  checks?: { passed: boolean }[];
}

interface ModelRun {
  code: number | null;
  out: string;
  result: RunResult;
  project: string;
  records: ModelRecord[];
}

/** `wsgate model` at the given pace, a backend pointed at it, and one CLI run of the default gates. */
async function runWithModel(
  name: BackendName,
  opts: { ttftMs?: number; defect?: Defect; cliArgs?: string[]; inRun?: boolean } = {},
): Promise<ModelRun> {
  const work = s.dir('wsgate-sdk-run-');
  const project = path.join(work, 'project');
  const evidence = path.join(work, 'evidence');
  // Standalone (`wsgate model`, as a user's CI job runs it) or served by the run itself (`--model-port`),
  // where the default gates' model steps judge what the backend told the model.
  const port = opts.inRun ? await freePort() : undefined;
  const modelLog = opts.inRun ? path.join(evidence, 'model.jsonl') : path.join(work, 'model.jsonl');
  const model =
    port === undefined
      ? await startListening([BIN, 'model', '--port', '0', '--ttft', String(opts.ttftMs ?? 0), '--log', modelLog], {
          ...process.env,
          NO_COLOR: '1',
        })
      : undefined;
  const backend = await startBackend(
    name,
    model?.url ?? `http://127.0.0.1:${port}`,
    opts.defect ? ['--defect', opts.defect] : [],
  );
  const res = await runCli(
    [
      backend.url,
      project,
      '--out',
      evidence,
      '--quiet',
      ...(port === undefined ? [] : ['--model-port', String(port)]),
      ...(opts.cliArgs ?? SHARED_MACHINE),
    ],
    { timeoutMs: (opts.ttftMs ?? 0) >= 2000 ? 400_000 : 170_000 },
  );
  await backend.stop();
  await model?.stop();
  const records = existsSync(modelLog)
    ? readFileSync(modelLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ModelRecord)
    : [];
  return {
    code: res.exitCode,
    out: res.stdout + res.stderr + backend.stderr(),
    result: readResult(evidence),
    project,
    records,
  };
}

/** The premise of every verdict below: the replies really came from the stand-in, through the SDK. */
function assertModelWasUsed(r: ModelRun, name: BackendName): void {
  assert.ok(r.records.length > 10, `the stand-in saw ${r.records.length} requests`);
  for (const rec of r.records) {
    assert.equal(rec.api, name, JSON.stringify(rec));
    assert.equal(rec.status, 200, JSON.stringify(rec));
    assert.deepEqual(rec.declaredTools, TOOL_NAMES);
  }
}

function assertEveryGatePassed(r: ModelRun): void {
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(
    r.result.gates.map((g) => [g.id, g.status]),
    DEFAULT_GATE_IDS.map((id) => [id, 'passed']),
  );
  assert.equal(r.result.totals.checksFailed, 0);
}

/** The records in which the model asked for `tool`, and the records that carried a result back. */
const askedFor = (r: ModelRun, tool: string) =>
  r.records.filter((rec) => rec.reply?.calls.some((c) => c.name === tool));
const resultsOf = (r: ModelRun, tool: string) =>
  r.records.flatMap((rec) => rec.toolResults ?? []).filter((t) => t.tool === undefined || t.tool === tool);

function failedChecksOf(r: ModelRun, gateId: string, stepLabel: string): CheckResult[] {
  const g = r.result.gates.find((x) => x.id === gateId);
  assert.ok(g, `gate ${gateId} did not run`);
  const st = g.steps.find((x) => x.label === stepLabel);
  assert.ok(st, `${gateId} has no step "${stepLabel}": ${JSON.stringify(g.steps.map((x) => x.label))}`);
  return st.checks.filter((c) => !c.passed);
}

/**
 * model-gates.yaml, run by the real CLI with --model: the run serves the stand-in and starts the backend
 * itself (its start step hands over the base URLs), and a model step judges what the model was sent.
 */
async function runModelGates(
  name: BackendName,
  defect: Defect | 'none',
): Promise<{ code: number | null; out: string; result: RunResult }> {
  const work = s.dir('wsgate-sdk-model-gates-');
  const port = await freePort();
  const evidence = path.join(work, 'evidence');
  const vars = {
    BACKEND: path.join(ROOT, 'test/fixtures/sdk-backends', BACKENDS[name].file),
    PORT: String(port),
    DEFECT: defect,
    REPO: ROOT,
  };
  const args = [
    'run',
    `ws://127.0.0.1:${port}/ws`,
    path.join(work, 'project'),
    '--gates',
    path.join(ROOT, 'test/fixtures/sdk-backends/model-gates.yaml'),
    '--model',
    '--out',
    evidence,
    ...SHARED_MACHINE,
  ];
  const res = await runCli([...args, ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}=${v}`])], {
    timeoutMs: 120_000,
  });
  return { code: res.exitCode, out: res.stdout + res.stderr, result: readResult(evidence) };
}

const MODEL_ON_BRANCH = (await runCli(['model', '--help'], { timeoutMs: 30_000 })).exitCode === 0;

describe('SDK backends against wsgate model', {
  concurrency: 2,
  skip: MODEL_ON_BRANCH ? false : 'wsgate model is not on this branch',
}, () => {
  for (const name of Object.keys(BACKENDS) as BackendName[]) {
    test(`${name}: every default gate passes, the replies coming from the stand-in`, async () => {
      const r = await runWithModel(name);
      assertEveryGatePassed(r);
      assertModelWasUsed(r, name);
      // The backend returned the tools' real output to the model.
      assert.ok(
        resultsOf(r, 'read_file').some((t) => t.content === 'Test content' || /^read check /.test(t.content)),
        JSON.stringify(resultsOf(r, 'read_file')),
      );
      assert.ok(
        r.records.every((rec) => (rec.checks ?? []).every((c) => c.passed)),
        'a check of the stand-in failed',
      );
    });

    test(`${name}: every default gate passes at a slow model's pace (--ttft ${SLOW_PACE_MS[name]})`, {
      timeout: 420_000,
    }, async () => {
      // Deadlines unscaled: they are the subject. Budgets are scaled: the shared machine is not, and the
      // first-delta budget is the model's own time at this pace.
      const r = await runWithModel(name, { ttftMs: SLOW_PACE_MS[name], cliArgs: ['--budget-scale', '20'] });
      assertEveryGatePassed(r);
      assertModelWasUsed(r, name);
    });

    test(`${name} with wrong-events: no tool event reaches the socket, and write-file says so`, async () => {
      const r = await runWithModel(name, { defect: 'wrong-events' });
      assert.equal(r.code, 1, r.out);
      assert.deepEqual(firstFailure(r.result), {
        gate: 'write-file',
        step: 'write_file: tool_execution, tool_result without error, message_complete',
      });
      const causes = failedChecksOf(
        r,
        'write-file',
        'write_file: tool_execution, tool_result without error, message_complete',
      ).map((c) => c.cause ?? c.name);
      assert.ok(
        causes.some((c) => /without tool_execution where tool="write_file"/.test(c)),
        JSON.stringify(causes),
      );
      // The premise: the model did ask for write_file, and the backend never returned a result.
      assert.ok(askedFor(r, 'write_file').length > 0, 'the stand-in never called write_file');
      assert.deepEqual(resultsOf(r, 'write_file'), []);
      assert.equal(existsSync(path.join(r.project, 'test.txt')), false);
    });

    test(`${name}: the run's model step sees the real read_file output reach the model, and a made-up one with fake-tool-result`, async () => {
      const healthy = await runModelGates(name, 'none');
      assert.equal(healthy.code, 0, healthy.out);
      const faked = await runModelGates(name, 'fake-tool-result');
      assert.equal(faked.code, 1, faked.out);
      const step = "the model received read_file's real output";
      assert.deepEqual(firstFailure(faked.result), { gate: 'tool-results-reach-the-model', step });
      const failed = faked.result.gates[0]!.steps.find((x) => x.label === step)!.checks.filter((c) => !c.passed);
      assert.deepEqual(
        failed.map((c) => c.actual),
        [[MADE_UP_RESULT]],
      );
    });
  }

  test("anthropic with fake-tool-result: the socket and the disk are right, and the default gates' model step catches the made-up result", async () => {
    const r = await runWithModel('anthropic', { defect: 'fake-tool-result', inRun: true });
    // The premise: the socket and the disk got the truth, the model got the made-up text.
    assert.equal(readFileSync(path.join(r.project, 'test.txt'), 'utf8'), 'Test content');
    const told = resultsOf(r, 'read_file').map((t) => t.content);
    assert.ok(told.length > 0 && told.every((t) => t === MADE_UP_RESULT), JSON.stringify(told));
    assert.equal(r.code, 1, r.out);
    assert.deepEqual(firstFailure(r.result), { gate: 'read-file', step: "the model received read_file's real output" });
  });

  test('anthropic, healthy, with the stand-in served by the run: the model step passes too', async () => {
    const r = await runWithModel('anthropic', { inRun: true });
    assertEveryGatePassed(r);
    assertModelWasUsed(r, 'anthropic');
  });

  test('anthropic with early-complete: message_complete before tool_result fails write-file', async () => {
    const r = await runWithModel('anthropic', { defect: 'early-complete' });
    assert.equal(r.code, 1, r.out);
    assert.deepEqual(firstFailure(r.result), {
      gate: 'write-file',
      step: 'write_file: tool_execution, tool_result without error, message_complete',
    });
    const causes = failedChecksOf(
      r,
      'write-file',
      'write_file: tool_execution, tool_result without error, message_complete',
    ).map((c) => c.cause ?? c.name);
    assert.ok(
      causes.some((c) => c.startsWith('message_complete arrived before tool_result')),
      JSON.stringify(causes),
    );
    // The tool itself ran: only the order is wrong, and the verify step credits the file.
    assert.equal(readFileSync(path.join(r.project, 'test.txt'), 'utf8'), 'Test content');
  });

  test("openai with ignore-content: the file on disk is not the model's content, and write-file's verify says so", async () => {
    const r = await runWithModel('openai', { defect: 'ignore-content' });
    assert.equal(r.code, 1, r.out);
    const step = "test.txt holds exactly 'Test content', written in this gate";
    assert.deepEqual(firstFailure(r.result), { gate: 'write-file', step });
    assert.ok(failedChecksOf(r, 'write-file', step).length > 0);
    // The premise: the model asked for that content; the backend wrote something else and said it worked.
    assert.ok(
      askedFor(r, 'write_file').some((rec) => rec.reply?.calls.some((c) => c.input.content === 'Test content')),
    );
    assert.equal(readFileSync(path.join(r.project, 'test.txt'), 'utf8'), '');
  });
});
