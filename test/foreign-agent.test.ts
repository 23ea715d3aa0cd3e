// The default verdict holds for a server wsgate did not write: a second, independent agent backend
// (test/fixtures/agent-backend) that sends only the documented fields passes every default gate, with
// or without tokensUsed in either documented shape; and when it misbehaves, one run names every defect
// (the order, the missing commit) while still crediting the files it really wrote.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parse } from 'yaml';
import { spawnChild, stopTree } from '../lib/os/process.ts';
import type { CheckResult, GateResult, RunResult } from '../lib/evidence/results.ts';
import { startForeignAgent, type ForeignAgentOptions } from './fixtures/agent-backend/server.ts';
import { runCli, readResult, scratch, ROOT, SHARED_MACHINE } from './helpers/cli.ts';

const s = scratch(after);

const DEFAULT_GATE_IDS = (
  parse(readFileSync(path.join(ROOT, 'gates.yaml'), 'utf8')) as { gates: { id: string }[] }
).gates.map((g) => g.id);

/** The fields the specification defines for each server message (protocol-notes.md, "required"). */
const DOCUMENTED: Record<string, string[]> = {
  session_initialized: ['type', 'sessionId', 'hasContext'],
  content_delta: ['type', 'delta'],
  tool_execution: ['type', 'tool', 'input'],
  tool_result: ['type', 'tool', 'result', 'error'],
  message_complete: ['type'],
  slash_command_response: ['type', 'content'],
  error: ['type', 'error', 'code'],
  pong: ['type'],
};
/** Not in the specification's message list: any fields, but they must be these kinds. */
const UNLISTED = ['sessions_list', 'session_data', 'session_deleted'];

async function runAgainst(
  url: string,
  extra: string[] = [],
): Promise<{ code: number | null; out: string; result: RunResult; project: string; evidence: string }> {
  const project = s.dir('wsgate-foreign-project-');
  const evidence = path.join(s.dir('wsgate-foreign-out-'), 'ev');
  const res = await runCli([url, project, ...SHARED_MACHINE, '--out', evidence, '--quiet', ...extra], {
    timeoutMs: 150_000,
  });
  return { code: res.exitCode, out: res.stdout + res.stderr, result: readResult(evidence), project, evidence };
}

async function runForeign(opts: ForeignAgentOptions, extra: string[] = []) {
  const agent = s.server(await startForeignAgent(opts));
  return runAgainst(agent.url, extra);
}

/** The JSON frames the server sent, read back from the run's transcript. */
function serverFrames(evidence: string): Record<string, unknown>[] {
  return readFileSync(path.join(evidence, 'transcript.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { dir: string; text: string })
    .filter((l) => l.dir === 'in')
    .map((l) => JSON.parse(l.text) as Record<string, unknown>);
}

function assertEveryGatePassed(r: Awaited<ReturnType<typeof runAgainst>>): void {
  assert.equal(r.code, 0, r.out);
  assert.equal(r.result.status, 'passed');
  assert.deepEqual(
    r.result.gates.map((g) => [g.id, g.status]),
    DEFAULT_GATE_IDS.map((id) => [id, 'passed']),
  );
  assert.equal(r.result.totals.checksFailed, 0);
}

function gate(r: RunResult, id: string): GateResult {
  const g = r.gates.find((x) => x.id === id);
  assert.ok(g, `gate ${id} did not run`);
  return g;
}

const checksOf = (g: GateResult): CheckResult[] => g.steps.flatMap((st) => st.checks);

/** The same backend as its own process, through the CLI wrapper: its URL, and how to stop it. */
async function startAgentProcess(args: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawnChild(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test/fixtures/agent-backend/cli.ts'), ...args],
    { cwd: ROOT },
  );
  const stop = () => stopTree(child, 2000);
  s.server({ close: stop });
  let seen = '';
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      seen += b.toString();
      const m = seen.match(/^listening (\S+)$/m);
      if (m) resolve(m[1]!);
    });
    void once(child, 'exit').then(([code]) =>
      reject(new Error(`the agent exited (${code}) before listening: ${seen}`)),
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the agent did not print "listening" within 30 s: ${seen}`)), 30_000);
  });
  try {
    return { url: await Promise.race([listening, deadline]), stop };
  } finally {
    clearTimeout(timer);
  }
}

describe('an independent agent backend', { concurrency: 2 }, () => {
  test('sending only the documented fields, it passes every default gate', async () => {
    const r = await runForeign({ tokensUsed: 'none' });
    assertEveryGatePassed(r);
    // The premise of the claim, read from what really went over the wire: no greeting, no timestamps,
    // no field the specification does not define.
    const frames = serverFrames(r.evidence);
    const kinds = new Set(frames.map((f) => f.type as string));
    for (const k of [
      'session_initialized',
      'content_delta',
      'tool_execution',
      'tool_result',
      'message_complete',
      'slash_command_response',
      'error',
      'pong',
    ])
      assert.ok(kinds.has(k), `no ${k} was sent`);
    for (const f of frames) {
      const type = f.type as string;
      if (UNLISTED.includes(type)) continue;
      assert.ok(type in DOCUMENTED, `an undocumented message kind went out: ${JSON.stringify(f)}`);
      const extra = Object.keys(f).filter((k) => !DOCUMENTED[type]!.includes(k));
      assert.deepEqual(extra, [], `undocumented fields in ${JSON.stringify(f)}`);
    }
  });

  test("making the protocol's open choices the other way (.git listed, unknown command answered, no logDir), it passes every default gate it can be judged on", async () => {
    const r = await runForeign({ listGit: true, unknownSlash: 'response', healthLogDir: false });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(
      r.result.gates.map((g) => [g.id, g.status]),
      DEFAULT_GATE_IDS.map((id) => [id, id === 'logs' ? 'unchecked' : 'passed']),
    );
    assert.equal(r.result.totals.checksFailed, 0);
    // The choices were really made: the listing named .git, the unknown command got a response.
    const listing = serverFrames(r.evidence).find((f) => f.type === 'tool_result' && f.tool === 'list_files');
    assert.match(String(listing?.result), /^\.git\/$/m);
    assert.ok(
      serverFrames(r.evidence).some(
        (f) => f.type === 'slash_command_response' && String(f.content).startsWith('Unknown command'),
      ),
    );
  });

  test('.git counts on both sides or neither: named where git made it, it passes; named where there is none, it is a claim of an entry not on disk', async () => {
    const agent = s.server(await startForeignAgent({}));
    const file = path.join(s.dir('wsgate-foreign-gates-'), 'g.yaml');
    writeFileSync(
      file,
      'version: 1\ngates:\n  - id: l\n    title: listing\n    steps:\n      - verify: {dir: ".", listing: ".git/\\nsub/"}\n',
    );
    const listing = async (gitInit: boolean) => {
      const project = s.dir('wsgate-foreign-project-');
      mkdirSync(path.join(project, 'sub'));
      const evidence = path.join(s.dir('wsgate-foreign-out-'), 'ev');
      const res = await runCli([
        agent.url,
        project,
        '--gates',
        file,
        '--out',
        evidence,
        '--quiet',
        ...(gitInit ? ['--git-init'] : []),
      ]);
      return {
        code: res.exitCode,
        out: res.stdout + res.stderr,
        check: readResult(evidence).gates[0]!.steps[0]!.checks[0]!,
      };
    };
    const withGit = await listing(true);
    assert.equal(withGit.code, 0, withGit.out);
    const without = await listing(false);
    assert.equal(without.code, 1, without.out);
    assert.match(String(without.check.actual), /claimed but not on disk: \[".git"\]/);
  });

  test('without a path check, tool-errors fails at each escape probe, and every write landed in the harness folder, removed afterwards', async () => {
    const r = await runForeign({ unsafePaths: true }, ['--gate', 'session-init', '--gate', 'tool-errors']);
    assert.equal(r.code, 1, r.out);
    const g = gate(r.result, 'tool-errors');
    const failedSteps = g.steps.filter((st) => st.status === 'failed').map((st) => st.label);
    assert.deepEqual(failedSteps, [
      'a write by an absolute path outside the project is refused',
      'a write by a ../ path out of the project is refused',
      'a write through the symbolic link is refused',
      'nothing was written outside by the absolute path',
      'nothing was written outside by the ../ path',
      'nothing was written outside through the link',
    ]);
    const outside = g.steps.filter((st) => st.kind === 'verify').map((st) => String(st.observations?.path));
    assert.equal(outside.length, 3);
    for (const p of outside) {
      assert.ok(!p.startsWith(r.project + path.sep), `${p} is outside PATH`);
      assert.ok(p.startsWith(realpathSync(os.tmpdir())), `${p} is in a folder of the harness's, under the temp folder`);
      assert.equal(existsSync(path.dirname(p)), false, 'the harness removed its folder at the end of the run');
    }
    assert.deepEqual(
      readdirSync(r.project).filter((n) => n.startsWith('wsgate-escape-')),
      [],
      "the probe's link is gone",
    );
    assert.doesNotMatch(readFileSync(path.join(ROOT, 'gates.yaml'), 'utf8'), /\/etc\//, 'no gate names a system file');
  });

  test("under --bail the harness still removes tool-errors' probe link from PATH (the gate stops at its first failure)", async () => {
    const r = await runForeign({ unsafePaths: true }, ['--gate', 'session-init', '--gate', 'tool-errors', '--bail']);
    assert.equal(r.code, 1, r.out);
    const g = gate(r.result, 'tool-errors');
    assert.equal(
      g.steps.find((st) => st.label === 'a symbolic link inside the project leads out of it')?.status,
      'passed',
      'the link was made',
    );
    assert.deepEqual(
      readdirSync(r.project).filter((n) => n.startsWith('wsgate-escape-')),
      [],
      "the probe's link is gone, not left dangling",
    );
  });

  test('tokensUsed as {input, output} passes every default gate', async () => {
    const r = await runForeign({ tokensUsed: 'object' });
    assertEveryGatePassed(r);
    const tokens = serverFrames(r.evidence)
      .filter((f) => f.type === 'message_complete')
      .map((f) => f.tokensUsed);
    assert.ok(
      tokens.length > 0 && tokens.every((t) => JSON.stringify(t) === '{"input":30,"output":12}'),
      JSON.stringify(tokens),
    );
  });

  test('tokensUsed as a number passes every default gate (the backend run as its own process)', async () => {
    // Its logs go to a folder of the test's, so a slow shutdown cannot leave them behind.
    const agent = await startAgentProcess(['--tokens-used', 'number', '--log-dir', s.dir('wsgate-foreign-logs-')]);
    const r = await runAgainst(agent.url);
    await agent.stop();
    assertEveryGatePassed(r);
    const tokens = serverFrames(r.evidence)
      .filter((f) => f.type === 'message_complete')
      .map((f) => f.tokensUsed);
    assert.ok(tokens.length > 0 && tokens.every((t) => t === 42), JSON.stringify(tokens));
  });

  test('message_complete before tool_result and a faked commit: one run fails both and credits the real writes', async () => {
    const r = await runForeign({ completeBeforeResult: true, fakeCommit: true });
    assert.equal(r.code, 1, r.out);
    const failed = (id: string) => checksOf(gate(r.result, id)).filter((c) => !c.passed);

    // The order, named in every gate whose reply runs one tool.
    for (const id of ['write-file', 'read-file', 'list-files', 'execute-command', 'git-status']) {
      const order = failed(id).filter(
        (c) =>
          c.failure?.kind === 'order' &&
          c.failure.then === 'message_complete' &&
          c.failure.first.startsWith('tool_result'),
      );
      assert.ok(
        order.length > 0,
        `${id}: no failed check with the order as its cause; failed: ${JSON.stringify(failed(id).map((c) => c.failure ?? c.name))}`,
      );
    }

    // The commit that never happened.
    const commitFailures = failed('git-commit').map((c) => c.name);
    assert.ok(commitFailures.includes('git log -1 message'), JSON.stringify(commitFailures));
    assert.ok(
      commitFailures.some((n) => n.startsWith('HEAD moved')),
      JSON.stringify(commitFailures),
    );

    // The files it really wrote are credited, in the same run.
    const writeVerify = gate(r.result, 'write-file').steps.find((st) => st.kind === 'verify');
    assert.ok(writeVerify, 'write-file has no verify step');
    assert.equal(writeVerify.status, 'passed', JSON.stringify(writeVerify.checks));
    assert.ok(writeVerify.checks.length >= 2 && writeVerify.checks.every((c) => c.passed));
    for (const id of ['read-file', 'execute-command']) {
      const verify = gate(r.result, id).steps.find((st) => st.kind === 'verify');
      assert.equal(verify?.status, 'passed', `${id}: ${JSON.stringify(verify?.checks)}`);
    }
    assert.equal(readFileSync(path.join(r.project, 'test.txt'), 'utf8'), 'Test content');
  });
});

// A backend with a model behind it is silent for seconds before its first delta and again after its
// tools. The default gates wait while its frames keep coming and time each budget where the protocol
// document does (a tool's from tool_execution to tool_result), so the model's pace is no defect.
// Run with the real default deadline (no --timeout-scale); --parallel 4 keeps the 2 s pace under a minute.
describe('an agent backend at a model pace', { concurrency: 2 }, () => {
  test('2 s before its first delta and after its tools: nothing fails but the first-delta budget', async () => {
    const agent = s.server(await startForeignAgent({ paceMs: 2000 }));
    const r = await runAgainst(agent.url, ['--parallel', '4', '--budget-scale', '1', '--timeout-scale', '1']);
    assert.equal(r.code, 1, r.out);
    const failed = r.result.gates.flatMap((g) =>
      checksOf(g)
        .filter((c) => !c.passed)
        .map((c) => ({ gate: g.id, ...c })),
    );
    // A budget of its own (the 50 ms health answer) may miss on a loaded machine; nothing else may fail.
    assert.deepEqual(
      failed.filter((c) => c.failure?.kind !== 'budget').map((c) => `${c.gate}: ${c.name}: ${String(c.actual)}`),
      [],
      r.out,
    );
    assert.ok(
      failed.some((c) => c.gate === 'chat-stream' && /^latency within 1000 ms$/.test(c.name)),
      `the first delta came after 2 s: ${r.out}`,
    );
    const write = gate(r.result, 'write-file')
      .steps.flatMap((st) => st.checks)
      .find((c) => c.name === 'latency within 500 ms');
    assert.ok(
      write?.passed,
      `write_file is timed from tool_execution to tool_result, not the model's turn: ${JSON.stringify(write)}`,
    );
    assert.match(String(write.actual), /from tool_execution to tool_result$/);
  });

  test('0.9 s: every default gate passes', async () => {
    const agent = s.server(await startForeignAgent({ paceMs: 900 }));
    // Budgets doubled only for the shared test machine: 0.9 s to the first delta is inside 1 s.
    const r = await runAgainst(agent.url, ['--parallel', '4', '--budget-scale', '2', '--timeout-scale', '1']);
    assertEveryGatePassed(r);
  });
});
