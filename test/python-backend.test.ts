// The default gates against an agent backend written independently, in Python, from the protocol notes
// alone (test/fixtures/python-backend/): the healthy backend must pass, and each bug planted in it with
// `--defect NAME` must fail the run at the gate and step meant to catch it, with a message that names it.
// Everything is real: the Python server process, the CLI, wscat, the project folder and its git history.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, runCli, readResult, firstFailure, scratch, SHARED_MACHINE } from './helpers/cli.ts';

// Debian's python3-websockets (10.x) is installed for the system interpreter, not for a pyenv one.
const PYTHON = '/usr/bin/python3';
const SERVER = path.join(ROOT, 'test', 'fixtures', 'python-backend', 'server.py');
const GATES = path.join(ROOT, 'gates.yaml');

interface DefectCase {
  defect: string;
  gate: string;
  /** The label of the first failed step. */
  step: string;
  /** Matched against the failed checks of the run, one line each: `name | cause | actual`. */
  says: RegExp;
  /** Latency budgets at their real value: the defect is a latency. */
  realBudgets?: boolean;
}

const DEFECTS: DefectCase[] = [
  {
    defect: 'unsafe-relative-path',
    gate: 'tool-errors',
    step: 'a write by a ../ path out of the project is refused',
    says: /wsgate-outside-[^/]+\/relative\.txt is absent \|.*\| "exists"/,
  },
  {
    defect: 'trailing-newline',
    gate: 'write-file',
    step: "test.txt holds exactly 'Test content', written in this gate",
    says: /^test\.txt content \|.*\| "Test content\\n"$/m,
  },
  {
    defect: 'fake-commit',
    gate: 'git-commit',
    step: 'verify git lastMessage, headMoved',
    says: /^HEAD moved during the gate \|.*\| "none"$/m,
  },
  {
    defect: 'status-omits-untracked',
    gate: 'git-status',
    step: 'verify git status',
    says: /claim misses: \[[^\]]*wsgate-status\.txt/,
  },
  {
    defect: 'order',
    gate: 'write-file',
    step: 'write_file: tool_execution, tool_result without error, message_complete',
    says: /message_complete arrived before tool_result where tool="write_file"/,
  },
  { defect: 'bad-uuid', gate: 'session-init', step: 'send init_session', says: /expected format uuid.*"session-1"/ },
  {
    defect: 'wrong-error-code',
    gate: 'error-recovery',
    step: 'send raw "{this is not json"',
    says: /error\.code: expected "INVALID_JSON".*"BAD_REQUEST"/,
  },
  {
    defect: 'close-on-error',
    gate: 'error-recovery',
    step: 'send no_such_message_type',
    says: /the server closed the connection \(1008/,
  },
  {
    defect: 'slow-init',
    gate: 'session-init',
    step: 'send init_session',
    says: /^latency within 200 ms \| over its latency budget/m,
    realBudgets: true,
  },
  { defect: 'no-delta', gate: 'chat-stream', step: 'first content_delta arrives', says: /no content_delta/ },
];

const hasWebsockets = spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0;
const skip = hasWebsockets
  ? false
  : `${PYTHON} cannot import websockets: install Debian's python3-websockets (.ci/run does)`;

const s = scratch(after);

interface Backend {
  url: string;
  logDir: string;
  /** SIGTERM, then the exit code (a clean shutdown is 0); the process group is killed past the deadline. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

async function startBackend(defect?: string): Promise<Backend> {
  const logDir = path.join(s.dir('wsgate-py-logs-'), 'logs');
  const args = ['-B', SERVER, '--port', '0', '--log-dir', logDir, ...(defect ? ['--defect', defect] : [])];
  // Its own process group, so the commands it runs are ended with it.
  const child = spawn(PYTHON, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  exited.then(() => running.delete(child));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the Python backend printed no "listening" line within 15 s; stderr: ${err}`)),
      15_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening (ws:\/\/\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the Python backend exited with ${code} before listening; stderr: ${err}`));
    });
  }).catch((e: unknown) => {
    killGroup(child, 'SIGKILL');
    throw e;
  });
  return {
    url,
    logDir,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function runDefaultGates(url: string, extra: string[]) {
  const project = s.dir('wsgate-py-project-');
  const out = path.join(s.dir('wsgate-py-evidence-'), 'ev');
  const r = await runCli(['run', url, project, '--gates', GATES, '--out', out, '--quiet', ...extra], {
    timeoutMs: 120_000,
  });
  assert.ok(existsSync(path.join(out, 'result.json')), `no result.json; exit ${r.exitCode}, stderr: ${r.stderr}`);
  return { exitCode: r.exitCode, result: readResult(out) };
}

type Result = ReturnType<typeof readResult>;

/** Every failed check as one line, `name | cause | actual`, for matching what a failure says. */
function failedChecks(result: Result, gateId?: string): string {
  return result.gates
    .filter((g) => gateId === undefined || g.id === gateId)
    .flatMap((g) => g.steps)
    .flatMap((st) => st.checks.filter((c) => !c.passed))
    .map((c) => {
      const check = c as { name: string; cause?: string; actual?: unknown };
      return `${check.name} | ${check.cause ?? ''} | ${JSON.stringify(check.actual)}`;
    })
    .join('\n');
}

test('the healthy Python backend passes every default gate, with no flag; logs is not checked without LOG_DIR', {
  skip,
}, async (t) => {
  const backend = await startBackend();
  let run: Awaited<ReturnType<typeof runDefaultGates>>;
  try {
    run = await runDefaultGates(backend.url, SHARED_MACHINE);
  } finally {
    assert.equal(await backend.stop(), 0, 'SIGTERM ends the backend cleanly');
  }
  const status = Object.fromEntries(run.result.gates.map((g) => [g.id, g.status]));
  t.diagnostic(`gate statuses: ${JSON.stringify(status)}`);
  assert.equal(run.exitCode, 0, failedChecks(run.result));
  assert.ok(run.result.gates.length >= 15, `the default gates ran (${run.result.gates.length})`);
  // Where its logs live is not in the protocol, and its /health does not say: that gate is not checked.
  const wrong = run.result.gates.filter((g) => g.status !== (g.id === 'logs' ? 'unchecked' : 'passed'));
  assert.deepEqual(
    wrong.map((g) => [g.id, g.status]),
    [],
    `gates that did not pass the healthy backend:\n${failedChecks(run.result)}`,
  );
  // Its own log files, which the logs gate checks when given --var LOG_DIR.
  assert.match(readFileSync(path.join(backend.logDir, 'combined.log'), 'utf8'), /"message": "session initialized"/);
  assert.match(readFileSync(path.join(backend.logDir, 'error.log'), 'utf8'), /"code": "INVALID_JSON"/);
});

test('each planted defect fails the run at its gate and step, saying what is wrong', {
  skip,
  concurrency: 2,
}, async (t) => {
  const cases = DEFECTS.map((c) => {
    return t.test(`--defect ${c.defect} → ${c.gate}`, async () => {
      const backend = await startBackend(c.defect);
      let run: Awaited<ReturnType<typeof runDefaultGates>>;
      try {
        run = await runDefaultGates(backend.url, ['--gate', c.gate, ...(c.realBudgets ? [] : SHARED_MACHINE)]);
      } finally {
        await backend.stop();
      }
      assert.equal(run.exitCode, 1, `the run fails (status ${run.result.status})`);
      const first = firstFailure(run.result);
      assert.equal(first?.gate, c.gate);
      assert.equal(first?.step, c.step);
      assert.match(failedChecks(run.result), c.says);
    });
  });
  await Promise.all(cases);
});
