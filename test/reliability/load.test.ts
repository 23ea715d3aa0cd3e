// Load through the real CLI: one gate with 50 concurrent connections against the embedded server,
// a send + expect on the whole group, distinct session ids; it must pass.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WAIT_FOR_FILE } from '../helpers/servers.ts';
import { makeTmp, writeGates, assertNoStackTrace, spawnCli, processTable } from './helpers.ts';
import { readResult } from '../helpers/cli.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

export const N = 50;
export const LOAD_GATES = `version: 1
gates:
  - id: load
    title: ${N} concurrent connections
    steps:
      - connect: {name: c, count: ${N}}
        within: 60s
      - run: [node, "\${WAIT_FOR_FILE}", "\${COUNTED}", "120000"]
      - send: {type: init_session, projectPath: "\${PROJECT}"}
        on: c
        expect: [{type: session_initialized, match: {sessionId: {format: uuid}}, capture: {sessionId: sessionId}}]
        distinct: [sessionId]
        within: 30s
      - send: {type: ping}
        on: c
        expect: [{type: pong}]
        within: 30s
`;

describe('load', { concurrency: true }, () => {
  test(`a gate with ${N} concurrent connections passes against the embedded server`, async () => {
    const dir = makeTmp(cleanups);
    const out = path.join(dir, 'ev');
    const gates = writeGates(dir, LOAD_GATES);
    const counted = path.join(dir, 'counted');
    const cli = spawnCli([
      '--gates',
      gates,
      '--out',
      out,
      '--var',
      `WAIT_FOR_FILE=${WAIT_FOR_FILE}`,
      '--var',
      `COUNTED=${counted}`,
    ]);
    // The gate holds its group open (a run step waits for the file \`counted\`) while the test counts
    // this run's wscat processes: all 50 really exist at once.
    let wscats = 0;
    let exit: Awaited<typeof cli.exited>;
    try {
      await cli.waitStdout(/✓ connect c ×50/, 90_000);
      wscats = processTable().filter((p) => p.cmdline.includes('wscat') && p.ppid === cli.pid).length;
      writeFileSync(counted, '');
      exit = await Promise.race([
        cli.exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the CLI did not end within 90 s')), 90_000).unref(),
        ),
      ]);
    } finally {
      await cli.kill(); // a no-op once it has exited; reaps it when an assertion above threw
    }
    const text = cli.stdout() + cli.stderr();
    assertNoStackTrace(text);
    assert.equal(exit.code, 0, text);
    // One more may be the pool's pre-opened spare for the next connect.
    assert.ok(wscats >= N, `only ${wscats} wscat processes of the run while the group is open`);
    const result = readResult(out);
    const steps = result.gates[0]!.steps;
    assert.equal(steps[0]!.checks.filter((c) => c.passed && /opens$/.test(c.name)).length, N);
    assert.ok(steps[2]!.checks.some((c) => c.name === `sessionId differs on each of ${N} connections` && c.passed));
    assert.equal(steps[3]!.checks.filter((c) => c.passed).length, N);
    process.stdout.write(
      `# ${N} connections: CLI wall ${exit.wallMs} ms, run ${result.ms} ms, connect ${steps[0]!.ms} ms\n`,
    );
  });
});
