// --parallel gives the same verdicts as a serial run; --shard splits the gates the same way every
// time; merge puts the shards back together into one result, one JUnit file and one exit code.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { startReferenceServer } from '../reference-server/index.ts';
import { startForeignAgent } from './fixtures/agent-backend/server.ts';
import { cliResult, runCli, scratch, readResult, SHARED_MACHINE } from './helpers/cli.ts';
import { assertHelpLists, assertRefused } from './helpers/flags.ts';
import { MERGE_FLAGS, MERGE_HELP, MERGE_USAGE } from '../lib/cli/merge.ts';
import { shardGates } from '../lib/runner/run.ts';
import type { RunResult } from '../lib/evidence/results.ts';

const scr = scratch(after);
const tmp = () => scr.dir();
const verdicts = (r: RunResult) => Object.fromEntries(r.gates.map((g) => [g.id, g.status]));
// Concurrent runs share two cores: budgets are not what these tests are about.
const RELAXED = [...SHARED_MACHINE, '--quiet'];

describe('parallel and sharded runs', { concurrency: true }, () => {
  // One test per target: each is two whole runs of the default gates, which take a while on a busy box.
  for (const target of ['embedded', 'faulted'] as const) {
    test(`--parallel 4 and a serial run give the same verdicts (${target} server)`, async () => {
      let args: string[] = [];
      if (target === 'faulted') {
        // Faults whose effect stays inside one gate: a fault that stops files being written (lie-write)
        // also changes what later gates find in a shared PATH, which parallel gates never share.
        const server = await startReferenceServer({
          port: 0,
          root: tmp(),
          dataDir: tmp(),
          faults: ['fake-listing', 'fake-status'],
          allowAnyProject: true,
        });
        scr.server(server);
        args = [server.url, tmp()];
      }
      const serialOut = path.join(tmp(), 'ev');
      const parallelOut = path.join(tmp(), 'ev');
      const [serial, parallel] = [
        await runCli([...args, ...RELAXED, '--out', serialOut]),
        await runCli([...args, ...RELAXED, '--parallel', '4', '--out', parallelOut]),
      ];
      assert.equal(parallel.exitCode, serial.exitCode, parallel.stdout);
      assert.deepEqual(verdicts(readResult(parallelOut)), verdicts(readResult(serialOut)));
      if (target === 'faulted') {
        const failed = readResult(parallelOut)
          .gates.filter((g) => g.status === 'failed')
          .map((g) => g.id);
        assert.deepEqual(failed, ['list-files', 'git-status']);
      } else assert.equal(serial.exitCode, 0, serial.stdout);
    });
  }

  test('a server confined to its root (PATH): --parallel 4 gives the serial verdicts; per-gate folders outside its root are refused', async () => {
    const project = tmp();
    const agent = await startForeignAgent({ root: project, listGit: true, unknownSlash: 'response' });
    scr.server(agent);
    const serialOut = path.join(tmp(), 'ev');
    const parallelOut = path.join(tmp(), 'ev');
    const serial = await runCli([agent.url, project, ...RELAXED, '--out', serialOut]);
    const parallel = await runCli([agent.url, project, ...RELAXED, '--parallel', '4', '--out', parallelOut]);
    assert.equal(serial.exitCode, 0, serial.stdout + serial.stderr);
    assert.equal(parallel.exitCode, 0, parallel.stdout + parallel.stderr);
    const verdict = verdicts(readResult(parallelOut));
    assert.deepEqual(verdict, verdicts(readResult(serialOut)));
    assert.ok(
      Object.values(verdict).every((v) => v === 'passed'),
      JSON.stringify(verdict),
    );
    assert.match(
      readFileSync(path.join(parallelOut, 'transcript.jsonl'), 'utf8'),
      /\.wsgate-parallel-/,
      'the gates ran in folders of their own',
    );
    assert.deepEqual(
      readdirSync(project).filter((n) => n.startsWith('.wsgate-parallel-')),
      [],
      'removed at the end of the run',
    );
    // The same run with the folders elsewhere: the server refuses those sessions, as a confined one must.
    const outOfRoot = path.join(tmp(), 'ev');
    const refused = await runCli([
      agent.url,
      project,
      ...RELAXED,
      '--parallel',
      '2',
      '--parallel-root',
      tmp(),
      '--gate',
      'session-init',
      '--gate',
      'write-file',
      '--out',
      outOfRoot,
    ]);
    assert.equal(refused.exitCode, 1, refused.stdout);
    assert.deepEqual(verdicts(readResult(outOfRoot)), { 'session-init': 'failed', 'write-file': 'skipped' });
  });

  test('--parallel-root DIR with the embedded server: the server admits the per-gate folders under DIR', async () => {
    const project = tmp();
    const root = tmp();
    const out = path.join(tmp(), 'ev');
    const r = await runCli([
      project,
      ...RELAXED,
      '--parallel',
      '2',
      '--parallel-root',
      root,
      '--gate',
      'session-init',
      '--gate',
      'write-file',
      '--out',
      out,
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.deepEqual(verdicts(readResult(out)), { 'session-init': 'passed', 'write-file': 'passed' });
    assert.match(
      readFileSync(path.join(out, 'transcript.jsonl'), 'utf8'),
      new RegExp(`${root}/\\.wsgate-parallel-`),
      'the gates ran under DIR',
    );
  });

  test('a serial git-clean check gives the same verdict after --parallel gates: their folders inside PATH are ignored by its git', async () => {
    const dir = tmp();
    const file = path.join(dir, 'g.yaml');
    writeFileSync(
      file,
      `version: 1
gates:
  - id: apart
    title: a gate in a folder of its own
    steps:
      - verify: {git: {clean: true}}
  - id: on-path
    title: a gate on PATH itself
    serial: true
    steps:
      - verify: {git: {clean: true}}
`,
    );
    const verdictsOf = async (...flags: string[]) => {
      const out = path.join(tmp(), 'ev');
      const r = await runCli([tmp(), ...RELAXED, '--gates', file, '--out', out, ...flags]);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      return verdicts(readResult(out));
    };
    const serial = await verdictsOf();
    assert.deepEqual(serial, { apart: 'passed', 'on-path': 'passed' });
    assert.deepEqual(await verdictsOf('--parallel', '2'), serial);
  });

  test('--parallel gives each concurrent gate its own project folder and leaves PATH alone', async () => {
    const project = tmp();
    const out = path.join(tmp(), 'ev');
    const r = await runCli([
      project,
      ...RELAXED,
      '--parallel',
      '3',
      '--gate',
      'write-file',
      '--gate',
      'git-commit',
      '--out',
      out,
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(existsSync(path.join(project, 'test.txt')), false, 'the gates ran in folders of their own');
    const transcript = readFileSync(path.join(out, 'transcript.jsonl'), 'utf8');
    assert.match(transcript, /wsgate-parallel-/);
  });

  test('the shard split is stable, disjoint and complete', () => {
    const ids = Array.from({ length: 17 }, (_, i) => `g${i}`);
    const parts = [1, 2, 3].map((index) => shardGates(ids, { index, total: 3 }));
    assert.deepEqual(parts.flat().sort(), [...ids].sort());
    assert.equal(new Set(parts.flat()).size, ids.length);
    assert.deepEqual(shardGates(ids, { index: 2, total: 3 }), parts[1], 'same split on a second call');
  });

  test('three shards merge into one result in file order, one JUnit file and one exit code', async () => {
    const outs = [1, 2, 3].map(() => path.join(tmp(), 'ev'));
    const runs = await Promise.all(outs.map((out, i) => runCli([...RELAXED, '--shard', `${i + 1}/3`, '--out', out])));
    runs.forEach((r) => assert.equal(r.exitCode, 0, r.stdout + r.stderr));
    const counts = outs.map((o) => readResult(o).gates.length);
    assert.equal(
      counts.reduce((a, b) => a + b),
      20,
    );
    const mergedDir = path.join(tmp(), 'merged');
    const junit = path.join(tmp(), 'junit.xml');
    const m = await runCli(['merge', ...outs, '--out', mergedDir, '--reporter', `junit:${junit}`]);
    assert.equal(m.exitCode, 0, m.stdout + m.stderr);
    const merged = readResult(mergedDir);
    const list = await runCli(['--list']);
    assert.deepEqual(
      merged.gates.map((g) => g.id),
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
    );
    assert.equal(merged.coverage?.percent.overall, 100, 'the shards together cover the whole protocol');
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8'));
    const suites = [xml.testsuites.testsuite].flat();
    assert.equal(suites.length, 20);
  });

  test('a failing shard fails the merge; a missing shard is named and fails it too', async () => {
    const server = await startReferenceServer({ port: 0, root: tmp(), dataDir: tmp(), faults: ['unhealthy'] });
    scr.server(server);
    const outs = [1, 2].map(() => path.join(tmp(), 'ev'));
    // Each shard in a project folder of its own, as on separate CI machines.
    const runs = await Promise.all(
      outs.map((out, i) =>
        runCli([
          server.url,
          tmp(),
          ...RELAXED,
          '--gate',
          'ping',
          '--gate',
          'health',
          '--shard',
          `${i + 1}/2`,
          '--out',
          out,
        ]),
      ),
    );
    assert.deepEqual(
      runs.map((r) => r.exitCode),
      [0, 1],
      runs.map((r) => r.stdout + r.stderr).join('\n'),
    );
    const m = await runCli(['merge', ...outs, '--out', path.join(tmp(), 'm')]);
    assert.equal(m.exitCode, 1, m.stdout + m.stderr);
    const only = await runCli(['merge', outs[0]!, '--out', path.join(tmp(), 'm2')]);
    assert.match(only.stdout, /shards missing from the merge: 2\/2/);
    assert.equal(only.exitCode, 1, only.stdout + only.stderr);
  });

  test('a shard that exits 4 (--require-checked, a gate not checked) merges to 4, not 0', async () => {
    const agent = await startForeignAgent({ healthLogDir: false });
    scr.server(agent);
    const outs = [1, 2].map(() => path.join(tmp(), 'ev'));
    const runs = await Promise.all(
      outs.map((out, i) =>
        runCli([
          agent.url,
          tmp(),
          ...RELAXED,
          '--gate',
          'health',
          '--gate',
          'logs',
          '--require-checked',
          '--shard',
          `${i + 1}/2`,
          '--out',
          out,
        ]),
      ),
    );
    assert.deepEqual(
      runs.map((r) => r.exitCode),
      [0, 4],
      runs.map((r) => r.stdout + r.stderr).join('\n'),
    );
    const mergedDir = path.join(tmp(), 'm');
    const m = await runCli(['merge', ...outs, '--out', mergedDir]);
    assert.equal(m.exitCode, 4, m.stdout + m.stderr);
    assert.equal(readResult(mergedDir).exitCode, 4);
    assert.match(m.stdout, /NOT CHECKED \(1 gate\)/);
    assert.match(MERGE_HELP, /4 nothing failed, but a shard left a gate/);
  });

  test('merge: --help lists every flag of its table; a bad command line exits 2 with the usage hint', async () => {
    const help = await cliResult(['merge', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.equal(help.stdout, MERGE_HELP + '\n');
    assertHelpLists(MERGE_FLAGS, MERGE_HELP);
    const out = path.join(tmp(), 'never-made');
    assertRefused(
      await cliResult(['merge', tmp(), '--otu', out]),
      "unknown option '--otu' (did you mean --out?)",
      MERGE_USAGE,
    );
    assertRefused(
      await cliResult(['merge', tmp(), '--out', out, '--reporter', 'junit:']),
      '--reporter expects NAME or NAME:FILE, got "junit:"',
      MERGE_USAGE,
    );
    assertRefused(
      await cliResult(['merge', '--out', out]),
      'give the result folders (or result.json files) of the shards',
      MERGE_USAGE,
    );
    assert.equal(existsSync(out), false);
  });

  test('bad --parallel and --shard values are usage errors', async () => {
    for (const bad of [
      ['--parallel', '0'],
      ['--parallel', 'x'],
      ['--shard', '4/3'],
      ['--shard', '0/2'],
      ['--shard', 'a'],
    ]) {
      const r = await runCli(bad);
      assert.equal(r.exitCode, 2, bad.join(' '));
      assert.match(r.stderr, /usage|expects/);
    }
  });
});
