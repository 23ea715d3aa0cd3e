// manual: a check only a person can make. Without a terminal it is recorded as pending (and so is
// its gate); at a terminal the answer decides. The terminal here is a real node:readline interface
// over a stream the test types into when the question appears (as lib/cli/run/execute.ts wires process.stdin).
import assert from 'node:assert/strict';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline/promises';
import { describe, test } from 'node:test';
import { loadGatesText } from '../../lib/gates/load.ts';
import { runGates } from '../../lib/runner/run.ts';
import { EvidenceWriter } from '../../lib/evidence/writer.ts';
import { prepareProject } from '../../lib/runner/project.ts';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { lineOf, oneGate, tmp } from '../helpers/servers.ts';

const URL = 'ws://127.0.0.1:9/unused';
const GATE = oneGate(`
  - run: "true"
  - manual: "The reply streams smoothly in \${GATE_ID}"   # MANUAL
  - run: "true"
`);

/** Run GATE at a "terminal" where the person types `answer` once the question is printed. */
async function atTerminal(t: import('node:test').TestContext, answer: string) {
  const loaded = loadGatesText(GATE, 'test.gates.yaml');
  assert.ok(loaded.ok);
  const input = new PassThrough();
  const output = new PassThrough();
  const asked: string[] = [];
  output.setEncoding('utf8');
  output.on('data', (s: string) => {
    asked.push(s);
    if (s.includes('[y/n/skip]')) input.write(answer + '\n');
  });
  let rl: ReturnType<typeof createInterface> | undefined;
  const ev = tmp(t, 'wsgate-manual-ev-');
  const evidence = new EvidenceWriter(path.join(ev, 'ev'));
  const result = await runGates({
    gates: loaded.gates,
    url: URL,
    project: (await prepareProject(tmp(t, 'wsgate-manual-project-'))).path,
    runId: 'test',
    bail: false,
    timeoutScale: 1,
    cliVars: {},
    verbose: false,
    interactive: true,
    ask: (q) => {
      rl ??= createInterface({ input, output });
      return rl.question(q);
    },
    reporters: [],
    evidence,
    signal: new AbortController().signal,
  });
  rl?.close();
  await evidence.finish('test');
  return { result, asked: asked.join(''), step: result.gates[0]!.steps[1]! };
}

describe('manual', { concurrency: true }, () => {
  test('non-interactive: the step and its gate are pending, nothing failed', async () => {
    const r = await runGatesYaml(GATE, { url: URL });
    const step = r.steps[1]!;
    assert.equal(step.status, 'pending');
    assert.equal(step.checks.length, 0);
    assert.match(step.note ?? '', /awaiting a person/);
    assert.equal(step.loc.line, lineOf(GATE, '# MANUAL'));
    assert.equal(r.steps[2]!.status, 'passed', 'steps after a pending one still run');
    assert.equal(r.result.gates[0]!.status, 'pending');
    assert.equal(r.result.totals.pending, 1);
    assert.equal(r.result.status, 'passed');
    assert.equal(r.result.exitCode, 0);
  });

  test('at a terminal, "y" passes with a confirmed check', async (t) => {
    const { result, asked, step } = await atTerminal(t, 'y');
    assert.match(asked, /The reply streams smoothly in g \[y\/n\/skip\]/);
    assert.equal(step.status, 'passed');
    assert.equal(step.checks[0]!.actual, 'confirmed');
    assert.equal(result.gates[0]!.status, 'passed');
  });

  test('at a terminal, "n" fails the step and the gate, at the manual line', async (t) => {
    const { result, step } = await atTerminal(t, 'n');
    assert.equal(step.status, 'failed');
    assert.equal(step.checks[0]!.actual, 'rejected');
    assert.equal(step.checks[0]!.loc.line, lineOf(GATE, '# MANUAL'));
    assert.equal(result.gates[0]!.status, 'failed');
    assert.equal(
      result.gates[0]!.steps[2]!.status,
      'passed',
      'the next step needs nothing from a person\'s "no": it still runs',
    );
    assert.equal(result.exitCode, 1);
  });

  test('at a terminal, "skip" leaves it pending', async (t) => {
    const { result, step } = await atTerminal(t, 'skip');
    assert.equal(step.status, 'pending');
    assert.equal(result.gates[0]!.status, 'pending');
  });
});
