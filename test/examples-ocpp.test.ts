// examples/ocpp16-gates.yaml runs as a user runs it: the real CLI, through real wscat, against the
// ocpp-rpc library's own OCPP 1.6J server (test/fixtures/protocol-servers/ocpp-server.ts). Frames
// are JSON arrays written as YAML lists; the shipped protocol reads kinds and answer ids by index
// path, so an answer is tied to its CALL and a wrong kind of answer fails at once. It passes on the
// healthy server and fails each planted bug at the gate meant to catch it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCli, tempDir, readResult, ROOT, SHARED_MACHINE } from './helpers/cli.ts';
import { startOcppServer, type OcppBug } from './fixtures/protocol-servers/ocpp-server.ts';
import type { RunResult } from '../lib/evidence/results.ts';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const OCPP = path.join(ROOT, 'examples', 'ocpp16-gates.yaml');

async function runAgainst(bug?: OcppBug) {
  const project = tempDir('wsgate-ocpp-project-');
  const out = tempDir('wsgate-ocpp-out-');
  cleanup.push(
    () => project.remove(),
    () => out.remove(),
  );
  const server = await startOcppServer(bug ? { bug } : {});
  try {
    const ev = path.join(out.path, 'ev');
    const r = await runCli([server.url, project.path, '--gates', OCPP, '--out', ev, ...SHARED_MACHINE]);
    return { exitCode: r.exitCode, output: r.stdout + r.stderr, result: readResult(ev) };
  } finally {
    await server.close();
  }
}

const failed = (r: RunResult) =>
  r.gates.flatMap((g) =>
    g.steps.flatMap((s) =>
      s.checks.filter((c) => !c.passed).map((c) => ({ ...c, gate: g.id, step: s.label, ms: s.ms })),
    ),
  );

test('examples/ocpp16-gates.yaml passes against ocpp-rpc: array frames sent as YAML lists, answers tied to their CALL', async () => {
  const run = await runAgainst();
  assert.equal(run.exitCode, 0, run.output);
  assert.deepEqual(failed(run.result), []);
  const cov = run.result.coverage!;
  assert.deepEqual(
    cov.lists.find((l) => l.key === 'answers')?.items.map((i) => [i.name, i.count > 0]),
    [
      ['CALLRESULT', true],
      ['CALLERROR', true],
    ],
  );
  assert.deepEqual(
    cov.lists
      .find((l) => l.key === 'actions')
      ?.unlisted?.map((u) => u.name)
      .sort(),
    ['Authorize', 'BootNotification', 'DataTransfer', 'Heartbeat'],
  );
});

test('a server that accepts a BootNotification without chargePointModel fails invalid-payload at once, on the forbidden CALLRESULT', async () => {
  const run = await runAgainst('not-strict');
  assert.equal(run.exitCode, 1, run.output);
  const f = failed(run.result);
  assert.deepEqual([...new Set(f.map((c) => c.gate))], ['invalid-payload'], run.output);
  const forbidden = f.find((c) => /CALLRESULT/.test(c.name) && /"boot-2"/.test(String(c.actual)));
  assert.ok(forbidden, JSON.stringify(f, null, 2));
  assert.ok(forbidden.ms < 2000, `failed when the CALLRESULT came, not at the deadline (${forbidden.ms} ms)`);
});

test('a server that authorizes any idTag fails the authorize gate, at the stolen tag', async () => {
  const run = await runAgainst('authorize-anyone');
  assert.equal(run.exitCode, 1, run.output);
  const f = failed(run.result);
  assert.deepEqual(
    f.map((c) => [c.gate, c.step, c.actual]),
    [['authorize', 'send [2,"auth-2","Authorize",{"idTag":"TAG-STOLEN"}]', 'Accepted']],
  );
});
