// The sign-off ledger round trip on real runs: run → status → signoff → status → tamper → stale,
// and a failed run refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { closedPort } from './helpers/servers.ts';
import { runCli, tempDir, ROOT } from './helpers/cli.ts';

const dirs: { remove(): void }[] = [];
after(() => dirs.forEach((d) => d.remove()));

function stateOf(statusOut: string, gate: string): string {
  const line = statusOut.split('\n').find((l) => l.startsWith(gate + ' '));
  assert.ok(line, `no status line for ${gate}:\n${statusOut}`);
  return line.slice(gate.length).trim().split(/\s{2,}/)[0]!;
}

test('run → awaiting sign-off → signoff → signed off → evidence edited → tampered; gates edited → stale', async () => {
  const work = tempDir('wsgate-signoff-');
  dirs.push(work);
  const gates = path.join(work.path, 'gates.yaml');
  copyFileSync(path.join(ROOT, 'gates.yaml'), gates);
  appendFileSync(gates, '  - id: looks-right\n    title: a person checks the stream\n    steps:\n      - connect: main\n      - manual: "The reply streams smoothly"\n');
  const env = { cwd: work.path };
  const run = await runCli(['--gates', gates, '--gate', 'ping', '--gate', 'looks-right'], env);
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /1 awaiting sign-off/);

  const strict = await runCli(['--gates', gates, '--gate', 'looks-right', '--require-signoff'], env);
  assert.equal(strict.exitCode, 1, 'pending manual checks fail a --require-signoff run');

  let status = await runCli(['status', '--gates', gates], env);
  assert.equal(stateOf(status.stdout, 'looks-right'), 'awaiting sign-off');
  assert.equal(stateOf(status.stdout, 'ping'), 'passed');
  assert.equal(stateOf(status.stdout, 'write-file'), 'not run');

  const runs = readdirSync(path.join(work.path, '.wsgate', 'runs')).sort();
  const firstRun = path.join(work.path, '.wsgate', 'runs', runs[0]!);
  const so = await runCli(['signoff', firstRun, '--gate', 'looks-right', '--by', 'Ada Lovelace', '--note', 'smooth'], env);
  assert.equal(so.exitCode, 0, so.stderr);
  const ledger = readFileSync(path.join(work.path, 'gates.signoff.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(ledger.length, 1);
  assert.equal(ledger[0].tester, 'Ada Lovelace');
  assert.equal(ledger[0].gate, 'looks-right');
  assert.deepEqual(ledger[0].manualConfirmed, ['manual: The reply streams smoothly']);
  assert.match(ledger[0].evidenceDigest, /^sha256:[0-9a-f]{64}$/);
  assert.match(ledger[0].gatesDigest, /^sha256:[0-9a-f]{64}$/);
  for (const k of ['runId', 'date', 'durationMs', 'serverUrl', 'notes', 'verdict']) assert.ok(k in ledger[0], k);

  // The --require-signoff run came later and still shows the gate pending, so sign off that one too.
  const latest = path.join(work.path, '.wsgate', 'runs', runs[runs.length - 1]!);
  assert.equal((await runCli(['signoff', latest, '--gate', 'looks-right', '--by', 'Ada Lovelace'], env)).exitCode, 0);
  status = await runCli(['status', '--gates', gates], env);
  assert.equal(stateOf(status.stdout, 'looks-right'), 'signed off');

  appendFileSync(path.join(latest, 'transcript.jsonl'), '{"edited":true}\n');
  status = await runCli(['status', '--gates', gates], env);
  assert.equal(stateOf(status.stdout, 'looks-right'), 'tampered');
  const refused = await runCli(['signoff', latest, '--gate', 'looks-right', '--by', 'Mallory'], env);
  assert.equal(refused.exitCode, 1);
  assert.match(refused.stderr, /transcript\.jsonl changed/);

  // Repair the evidence, then change the gates file: the sign-off is stale.
  writeFileSync(path.join(latest, 'transcript.jsonl'), readFileSync(path.join(latest, 'transcript.jsonl'), 'utf8').replace('{"edited":true}\n', ''));
  assert.equal(stateOf((await runCli(['status', '--gates', gates], env)).stdout, 'looks-right'), 'signed off');
  appendFileSync(gates, '# edited\n');
  assert.equal(stateOf((await runCli(['status', '--gates', gates], env)).stdout, 'looks-right'), 'stale');
});

test('a failed run cannot be signed off, and status says failed', async () => {
  const work = tempDir('wsgate-signoff-fail-');
  dirs.push(work);
  const gates = path.join(work.path, 'gates.yaml');
  copyFileSync(path.join(ROOT, 'gates.yaml'), gates);
  const port = await closedPort();
  const run = await runCli([`ws://127.0.0.1:${port}/ws`, path.join(work.path, 'p'), '--gates', gates, '--gate', 'ping'], { cwd: work.path });
  assert.equal(run.exitCode, 1);
  const so = await runCli(['signoff', '--gate', 'ping', '--by', 'Ada'], { cwd: work.path });
  assert.equal(so.exitCode, 1);
  assert.match(so.stderr, /sign-off refused: gate "ping" failed in run \w+ at step "connect main"/);
  const status = await runCli(['status', '--gates', gates], { cwd: work.path });
  assert.equal(stateOf(status.stdout, 'ping'), 'failed');
  const missingBy = await runCli(['signoff', '--gate', 'ping'], { cwd: work.path });
  assert.equal(missingBy.exitCode, 2);
});
