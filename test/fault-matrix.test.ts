// The verdict is the product: the default gates pass the healthy reference server and the two
// legal modes, and fail every fault at the gate and step meant to catch it.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startReferenceServer, FAULTS } from '../reference-server/index.ts';
import { runCli, tempDir, readResult, firstFailure, ROOT, SHARED_MACHINE } from './helpers/cli.ts';
import { FAULT_MATRIX, FAULT_ARGS, FAULT_CLI } from './fault-matrix.ts';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function runAgainst(fault: string | undefined) {
  const project = tempDir('wsgate-matrix-project-');
  const out = tempDir('wsgate-matrix-out-');
  const data = tempDir('wsgate-matrix-data-');
  cleanups.push(project.remove, out.remove, data.remove);
  const server = await startReferenceServer({
    port: 0,
    root: project.path,
    dataDir: data.path,
    faults: fault ? [FAULT_ARGS[fault] ?? fault] : [],
  });
  cleanups.push(() => server.close());
  const extra = fault ? (FAULT_CLI[fault] ?? []) : [];
  const res = await runCli([
    server.url,
    project.path,
    '--bail',
    ...SHARED_MACHINE,
    '--out',
    path.join(out.path, 'ev'),
    '--quiet',
    ...extra,
  ]);
  await server.close();
  return { res, result: readResult(path.join(out.path, 'ev')) };
}

describe('fault matrix', { concurrency: 3 }, () => {
  test('every fault of the reference server has a row, and no row names a missing fault', () => {
    assert.deepEqual(Object.keys(FAULT_MATRIX).sort(), Object.keys(FAULTS).sort());
  });

  test('the fault table in docs/agent-backend.md lists every row', () => {
    const readme = readFileSync(path.join(ROOT, 'docs', 'agent-backend.md'), 'utf8');
    for (const [fault, row] of Object.entries(FAULT_MATRIX)) {
      const cells = row === 'passes' ? [`\`${fault}\``, 'passes'] : [`\`${fault}\``, `\`${row.gate}\``, row.step];
      if (row !== 'passes' && 'gatesFile' in row) cells.push(`(${row.gatesFile})`);
      const line = readme.split('\n').find((l) => l.startsWith(`| \`${fault}\``));
      assert.ok(line, `docs/agent-backend.md has no row for ${fault}`);
      for (const c of cells) assert.ok(line.includes(c), `docs/agent-backend.md row for ${fault} lacks ${c}: ${line}`);
    }
  });

  test('healthy server: every default gate passes', async () => {
    const { res, result } = await runAgainst(undefined);
    assert.equal(res.exitCode, 0, res.stdout + res.stderr);
    assert.equal(result.status, 'passed');
    assert.equal(result.totals.failed, 0);
  });

  for (const [fault, row] of Object.entries(FAULT_MATRIX)) {
    // A row caught by another gates file is listed (and in the README) but not claimed as caught here.
    const skip = row !== 'passes' && 'pending' in row ? `caught elsewhere (${row.gatesFile}): ${row.pending}` : false;
    test(`${fault}: ${row === 'passes' ? 'legal, passes' : `caught by ${row.gate} / ${row.step}`}`, {
      skip,
    }, async () => {
      const { res, result } = await runAgainst(fault);
      if (row === 'passes') {
        assert.equal(res.exitCode, 0, `expected a pass:\n${res.stdout}${res.stderr}`);
        return;
      }
      assert.equal(res.exitCode, 1, `expected a failed check (exit 1):\n${res.stdout}${res.stderr}`);
      assert.deepEqual(firstFailure(result), { gate: row.gate, step: row.step }, res.stdout);
      assert.match(res.stdout, new RegExp(`first failure: gate ${row.gate}, step`));
    });
  }
});
