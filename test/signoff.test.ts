// The sign-off ledger round trip on real runs: run → status → signoff → status → tamper → stale,
// and a failed run refused; with a signing key file a forged run cannot be signed off, and the key is in
// the environment of no process the run starts, nor of wsgate itself; the newest
// run by its own start time decides; a broken run folder is skipped; the ledger is not a link.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { closedPort } from './helpers/servers.ts';
import { startForeignAgent } from './fixtures/agent-backend/server.ts';
import { cliResult, runCli, tempDir, ROOT } from './helpers/cli.ts';
import { assertHelpLists, assertRefused } from './helpers/flags.ts';
import {
  SIGNOFF_FLAGS,
  SIGNOFF_HELP,
  SIGNOFF_USAGE,
  STATUS_FLAGS,
  STATUS_HELP,
  STATUS_USAGE,
} from '../lib/signoff/cli.ts';
import { buildManifest } from '../lib/evidence/writer.ts';
import type { RunResult } from '../lib/evidence/results.ts';

const dirs: { remove(): void }[] = [];
after(() => dirs.forEach((d) => d.remove()));

function stateOf(statusOut: string, gate: string): string {
  const line = statusOut.split('\n').find((l) => l.startsWith(gate + ' '));
  assert.ok(line, `no status line for ${gate}:\n${statusOut}`);
  return line
    .slice(gate.length)
    .trim()
    .split(/\s{2,}/)[0]!;
}

test('run → awaiting sign-off → signoff → signed off → evidence edited → tampered; gates edited → stale', async () => {
  const work = tempDir('wsgate-signoff-');
  dirs.push(work);
  const gates = path.join(work.path, 'gates.yaml');
  copyFileSync(path.join(ROOT, 'gates.yaml'), gates);
  appendFileSync(
    gates,
    '  - id: looks-right\n    title: a person checks the stream\n    steps:\n      - connect: main\n      - manual: "The reply streams smoothly"\n',
  );
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
  const so = await runCli(
    ['signoff', firstRun, '--gate', 'looks-right', '--by', 'Ada Lovelace', '--note', 'smooth'],
    env,
  );
  assert.equal(so.exitCode, 0, so.stderr);
  const ledger = readFileSync(path.join(work.path, 'gates.signoff.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
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
  writeFileSync(
    path.join(latest, 'transcript.jsonl'),
    readFileSync(path.join(latest, 'transcript.jsonl'), 'utf8').replace('{"edited":true}\n', ''),
  );
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
  const run = await runCli(
    [`ws://127.0.0.1:${port}/ws`, path.join(work.path, 'p'), '--gates', gates, '--gate', 'ping'],
    { cwd: work.path },
  );
  assert.equal(run.exitCode, 1);
  const so = await runCli(['signoff', '--gate', 'ping', '--by', 'Ada'], { cwd: work.path });
  assert.equal(so.exitCode, 1);
  assert.match(so.stderr, /sign-off refused: gate "ping" failed in run \w+ at step "connect main"/);
  const status = await runCli(['status', '--gates', gates], { cwd: work.path });
  assert.equal(stateOf(status.stdout, 'ping'), 'failed');
  const missingBy = await runCli(['signoff', '--gate', 'ping'], { cwd: work.path });
  assert.equal(missingBy.exitCode, 2);
});

test('signoff and status: --help lists every flag of their tables; bad command lines exit 2 with the usage hint', async () => {
  for (const [argv, help, flags] of [
    [['signoff', '--help'], SIGNOFF_HELP, SIGNOFF_FLAGS],
    [['signoff', '-h'], SIGNOFF_HELP, SIGNOFF_FLAGS],
    [['status', '--help'], STATUS_HELP, STATUS_FLAGS],
  ] as const) {
    const r = await cliResult([...argv]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, help + '\n');
    assertHelpLists(flags, help);
  }
  // Required flags stand bare in the usage line.
  assert.match(SIGNOFF_USAGE, / --gate ID\.\.\. --by NAME \[--note TEXT\]/);
  for (const [argv, message] of [
    [['signoff', '--gaet', 'g', '--by', 'Ada'], "unknown option '--gaet' (did you mean --gate?)"],
    [['signoff', '--by', 'Ada'], '--gate ID is required'],
    [['signoff', '--gate', 'g'], '--by NAME is required: a sign-off names the person'],
    [['signoff', '--gate', 'g', '--by', ' '], '--by NAME is required: a sign-off names the person'],
    [['signoff', 'a', 'b', '--gate', 'g', '--by', 'Ada'], 'too many arguments: b'],
  ] as const) {
    assertRefused(await cliResult([...argv]), message, SIGNOFF_USAGE);
  }
  assertRefused(
    await cliResult(['status', '--rnus', 'x']),
    "unknown option '--rnus' (did you mean --runs?)",
    STATUS_USAGE,
  );
  assertRefused(await cliResult(['status', 'x']), 'status takes no arguments, got "x"', STATUS_USAGE);
});

// ---- what a sign-off can prove, and ordering by run times -----------------------------------------

const MANUAL_GATES = `version: 1
vars: {OUTCOME: ok, WALK: walk.cjs}
gates:
  - id: g
    title: a command, then a person
    steps:
      - run: [sh, -c, 'test "$0" = ok', "\${OUTCOME}"]
      - run: [node, "\${WALK}"]
      - manual: "looks right"
  - id: h
    title: another gate
    steps:
      - run: "true"
`;

test('a gate not checked is "not checked" in status, never passed', async () => {
  const work = tempDir('wsgate-signoff-unchecked-');
  dirs.push(work);
  const gates = path.join(work.path, 'gates.yaml');
  copyFileSync(path.join(ROOT, 'gates.yaml'), gates);
  // A server whose /health names no logDir, and no --var LOG_DIR: the logs gate cannot be checked.
  const agent = await startForeignAgent({ healthLogDir: false });
  try {
    const run = await runCli(
      [
        agent.url,
        path.join(work.path, 'p'),
        '--gates',
        gates,
        '--gate',
        'health',
        '--gate',
        'logs',
        '--budget-scale',
        '20',
      ],
      { cwd: work.path },
    );
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  } finally {
    await agent.close();
  }
  const status = await runCli(['status', '--gates', gates], { cwd: work.path });
  assert.equal(stateOf(status.stdout, 'health'), 'passed');
  assert.equal(stateOf(status.stdout, 'logs'), 'not checked');
  assert.match(status.stdout, /needs \$\{LOG_DIR\}/);
});

async function manualRun(work: string, outcome: 'ok' | 'broken', env: NodeJS.ProcessEnv = {}): Promise<string> {
  const port = await closedPort();
  const gates = path.join(work, 'gates.yaml');
  const runs = path.join(work, '.wsgate', 'runs');
  const before = new Set(existsSync(runs) ? readdirSync(runs) : []);
  const r = await runCli(
    [
      `ws://127.0.0.1:${port}/ws`,
      path.join(work, 'p'),
      '--gates',
      gates,
      '--no-pool',
      '--var',
      `OUTCOME=${outcome}`,
      '--var',
      `WALK=${path.join(work, 'walk.cjs')}`,
    ],
    { cwd: work, env },
  );
  assert.equal(r.exitCode, outcome === 'ok' ? 0 : 1, r.stdout + r.stderr);
  const made = readdirSync(runs).filter((n) => !before.has(n));
  assert.equal(made.length, 1);
  return path.join(runs, made[0]!);
}

/**
 * What a hostile server started by the run would do: read the initial environment of itself and of every
 * ancestor (wsgate, the shell) through /proc, and fail when a signing key is in one of them.
 */
const WALK_ANCESTORS = `const fs = require('fs');
let pid = process.pid;
while (pid > 1) {
  let env = '';
  try { env = fs.readFileSync('/proc/' + pid + '/environ', 'latin1'); } catch { break; }
  if (/(^|\\0)WSGATE_SIGNING_KEY=/.test(env)) { console.error('the signing key is in the environment of pid ' + pid); process.exit(1); }
  pid = Number(/PPid:\\s+(\\d+)/.exec(fs.readFileSync('/proc/' + pid + '/status', 'utf8'))[1]);
}
`;

function manualWork(): string {
  const work = tempDir('wsgate-signoff-key-');
  dirs.push(work);
  writeFileSync(path.join(work.path, 'gates.yaml'), MANUAL_GATES);
  writeFileSync(path.join(work.path, 'walk.cjs'), WALK_ANCESTORS);
  return work.path;
}

/** The environment naming a key file (mode 0600) that holds `secret`. */
function keyFile(work: string, secret: string, name = 'signing.key'): NodeJS.ProcessEnv {
  const file = path.join(work, name);
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return { WSGATE_SIGNING_KEY_FILE: file };
}

/** Edits result.json so gate g passed, then recomputes the manifest exactly as wsgate writes it. */
function forge(runDir: string): void {
  const file = path.join(runDir, 'result.json');
  const result = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  const g = result.gates.find((x) => x.id === 'g')!;
  g.status = 'pending';
  for (const s of g.steps) {
    s.status = s.kind === 'manual' ? 'pending' : 'passed';
    for (const c of s.checks) c.passed = true;
  }
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(
    path.join(runDir, 'manifest.json'),
    JSON.stringify(buildManifest(runDir, result.runId), null, 2) + '\n',
  );
}

describe('what a sign-off proves', { concurrency: true }, () => {
  test('with a signing key file a forged run (result.json edited, manifest recomputed) cannot be signed off; no environment holds the key', async () => {
    const work = manualWork();
    const key = keyFile(work, `k-${Date.now()}-secret`);
    const failed = await manualRun(work, 'broken', key);
    assert.ok(existsSync(path.join(failed, 'manifest.sig')), 'the run signed its manifest');
    const result = JSON.parse(readFileSync(path.join(failed, 'result.json'), 'utf8')) as RunResult;
    // The second step found no key in its own environment nor in any ancestor's (wsgate's included).
    assert.equal(result.gates.find((x) => x.id === 'h')!.status, 'passed');
    forge(failed);

    const refused = await runCli(['signoff', failed, '--gate', 'g', '--by', 'Mallory'], { cwd: work, env: key });
    assert.equal(refused.exitCode, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /manifest signature does not verify with WSGATE_SIGNING_KEY_FILE/);
    let status = await runCli(['status', '--gates', path.join(work, 'gates.yaml')], { cwd: work, env: key });
    assert.equal(stateOf(status.stdout, 'g'), 'tampered', status.stdout);
    assert.match(status.stdout, /note: the evidence digest shows .*HMAC/);

    // Without the key the same forgery passes: that is what "integrity, not authenticity" means, and it is said.
    const unkeyed = await runCli(['signoff', failed, '--gate', 'g', '--by', 'Mallory'], { cwd: work });
    assert.equal(unkeyed.exitCode, 0, unkeyed.stderr);
    assert.match(
      unkeyed.stdout,
      /note: .*\(integrity\), not who made the run \(authenticity\).*set WSGATE_SIGNING_KEY_FILE/,
    );
    // ...but with the key, that unsigned ledger line does not count.
    status = await runCli(['status', '--gates', path.join(work, 'gates.yaml')], { cwd: work, env: key });
    assert.equal(stateOf(status.stdout, 'g'), 'tampered');

    // A genuine run signed off with the key is signed off, and its ledger line carries a signature.
    const good = await manualRun(work, 'ok', key);
    const so = await runCli(['signoff', good, '--gate', 'g', '--by', 'Ada'], { cwd: work, env: key });
    assert.equal(so.exitCode, 0, so.stderr);
    assert.match(so.stdout, /signed with key [0-9a-f]{16}/);
    const last = readFileSync(path.join(work, 'gates.signoff.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .at(-1);
    assert.equal(last.signature.alg, 'HMAC-SHA256');
    assert.equal(
      last.runStartedAt,
      (JSON.parse(readFileSync(path.join(good, 'result.json'), 'utf8')) as RunResult).startedAt,
    );
    status = await runCli(['status', '--gates', path.join(work, 'gates.yaml')], { cwd: work, env: key });
    assert.equal(stateOf(status.stdout, 'g'), 'signed off', status.stdout);
    // Another key does not verify it; no key at all shows it as it is.
    status = await runCli(['status', '--gates', path.join(work, 'gates.yaml')], {
      cwd: work,
      env: keyFile(work, 'another key', 'other.key'),
    });
    assert.equal(stateOf(status.stdout, 'g'), 'tampered');
    // An edited ledger line (another tester) no longer verifies.
    const ledger = path.join(work, 'gates.signoff.jsonl');
    writeFileSync(ledger, readFileSync(ledger, 'utf8').replace('"tester":"Ada"', '"tester":"Eve"'));
    status = await runCli(['status', '--gates', path.join(work, 'gates.yaml')], { cwd: work, env: key });
    assert.equal(stateOf(status.stdout, 'g'), 'tampered');
  });

  test('the key itself in the environment, or a key file others can read, another user owns or a link names: exit 2 with the fix', async () => {
    const work = manualWork();
    const gates = path.join(work, 'gates.yaml');
    const inEnv = await runCli(['status', '--gates', gates], {
      cwd: work,
      env: { WSGATE_SIGNING_KEY: 'a-key-in-the-environment' },
    });
    assert.equal(inEnv.exitCode, 2, inEnv.stdout + inEnv.stderr);
    assert.match(
      inEnv.stderr,
      /WSGATE_SIGNING_KEY holds the signing key in the environment.*\n.*hint: write the key to a file of mode 0600 and set WSGATE_SIGNING_KEY_FILE/,
    );
    const run = await runCli([path.join(work, 'p'), '--gates', gates], {
      cwd: work,
      env: { WSGATE_SIGNING_KEY: 'a-key-in-the-environment' },
    });
    assert.equal(run.exitCode, 2, run.stdout + run.stderr);

    const open = keyFile(work, 'group-readable-key', 'open.key');
    chmodSync(open.WSGATE_SIGNING_KEY_FILE!, 0o640);
    const loose = await runCli(['status', '--gates', gates], { cwd: work, env: open });
    assert.equal(loose.exitCode, 2);
    assert.match(loose.stderr, /can be read or written by others \(mode 640\)[\s\S]*chmod 600/);

    const link = path.join(work, 'link.key');
    symlinkSync(keyFile(work, 'linked-key-123', 'target.key').WSGATE_SIGNING_KEY_FILE!, link);
    const linked = await runCli(['status', '--gates', gates], { cwd: work, env: { WSGATE_SIGNING_KEY_FILE: link } });
    assert.equal(linked.exitCode, 2);
    assert.match(linked.stderr, /names a symbolic link/);

    if (process.getuid?.() === 0) {
      const theirs = keyFile(work, 'someone-elses-key', 'theirs.key');
      chownSync(theirs.WSGATE_SIGNING_KEY_FILE!, 65534, 65534);
      const foreign = await runCli(['status', '--gates', gates], { cwd: work, env: theirs });
      assert.equal(foreign.exitCode, 2);
      assert.match(foreign.stderr, /belongs to another user \(uid 65534\)/);
    }
  });

  test('the newest run decides, by run start times: a far-future ledger date does not hide a newer failing run', async () => {
    const work = manualWork();
    const first = await manualRun(work, 'ok');
    assert.equal((await runCli(['signoff', first, '--gate', 'g', '--by', 'Ada'], { cwd: work })).exitCode, 0);
    const ledger = path.join(work, 'gates.signoff.jsonl');
    writeFileSync(ledger, readFileSync(ledger, 'utf8').replace(/"date":"[^"]+"/, '"date":"2999-01-01T00:00:00.000Z"'));
    let status = await runCli(['status', '--gates', path.join(work, 'gates.yaml')], { cwd: work });
    assert.equal(stateOf(status.stdout, 'g'), 'signed off');
    await manualRun(work, 'broken');
    status = await runCli(['status', '--gates', path.join(work, 'gates.yaml')], { cwd: work });
    assert.equal(stateOf(status.stdout, 'g'), 'failed', status.stdout);
  });

  test('an unreadable result.json under the runs folder is skipped with a warning, not exit 3', async () => {
    const work = manualWork();
    await manualRun(work, 'ok');
    const broken = path.join(work, '.wsgate', 'runs', '0000-broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'result.json'), '{"schemaVersion": 1, "gates": [');
    const status = await runCli(['status', '--gates', path.join(work, 'gates.yaml')], { cwd: work });
    assert.equal(status.exitCode, 0, status.stderr);
    assert.match(status.stderr, /warning: skipped .*0000-broken: its result\.json cannot be read/);
    assert.equal(stateOf(status.stdout, 'g'), 'awaiting sign-off');
    assert.equal(stateOf(status.stdout, 'h'), 'passed');
    // signoff without RUN_DIR picks the newest readable run the same way.
    const so = await runCli(['signoff', '--gate', 'g', '--by', 'Ada'], { cwd: work });
    assert.equal(so.exitCode, 0, so.stderr);
  });

  test('the ledger is never appended through a symbolic link', async () => {
    const work = manualWork();
    const run = await manualRun(work, 'ok');
    const victim = path.join(work, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, path.join(work, 'gates.signoff.jsonl'));
    const so = await runCli(['signoff', run, '--gate', 'g', '--by', 'Ada'], { cwd: work });
    assert.equal(so.exitCode, 1);
    assert.match(so.stderr, /gates\.signoff\.jsonl \(it is a symbolic link\)/);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  });
});
