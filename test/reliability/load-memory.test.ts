// The harness's own memory under load stays flat: the 50-connection gate (plus a burst of exchanges
// on the whole group) runs several rounds in-process against the reference server, and the heap
// after a full GC must not grow from round to round.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startReferenceServer } from '../../reference-server/index.ts';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { makeTmp } from './helpers.ts';
import { prepareProject } from '../../lib/runner/project.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

// Node exposes gc() to code only with --expose-gc; setting the flag at run time and reading gc from
// a fresh context is the documented way to get it without changing how the test runner starts node.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const N = 50;
const ROUNDS = 3;
const EXCHANGES = 10;
const exchanges = Array.from(
  { length: EXCHANGES },
  (_, i) => `      - send: {type: ping, n: ${i}}
        on: c
        expect: [{type: pong}]
        within: 30s`,
).join('\n');
const GATES = `version: 1
gates:
  - id: load
    title: ${N} concurrent connections
    steps:
      - connect: {name: c, count: ${N}}
        within: 60s
      - send: {type: init_session, projectPath: "\${PROJECT}"}
        on: c
        expect: [{type: session_initialized, capture: {sessionId: sessionId}}]
        distinct: [sessionId]
        within: 30s
${exchanges}
`;

const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

describe('memory under load', () => {
  test(`${ROUNDS} rounds of ${N} connections × ${EXCHANGES + 1} exchanges: heap stays flat`, async () => {
    const root = makeTmp(cleanups, 'wsgate-rel-mem-');
    const project = (await prepareProject(root)).path;
    const server = await startReferenceServer({
      host: '127.0.0.1',
      port: 0,
      root: project,
      dataDir: makeTmp(cleanups, 'wsgate-rel-mem-data-'),
    });
    try {
      const samples: { heap: number; rss: number; ms: number }[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const t0 = performance.now();
        const run = await runGatesYaml(GATES, { url: server.url, project });
        assert.equal(run.result.status, 'passed', JSON.stringify(run.failedChecks, null, 2));
        assert.equal(
          run.steps.flatMap((s) => s.checks).filter((c) => c.passed).length,
          N /* opens */ + N + 1 /* sessions, distinct */ + N * EXCHANGES,
        );
        gc();
        gc();
        const m = process.memoryUsage();
        samples.push({ heap: m.heapUsed, rss: m.rss, ms: Math.round(performance.now() - t0) });
      }
      const line = samples
        .map((s, i) => `round ${i + 1}: heap ${mb(s.heap)} MB, rss ${mb(s.rss)} MB, ${s.ms} ms`)
        .join('; ');
      process.stdout.write(`# memory: ${line}\n`);
      // Round 1 pays for module loading and JIT; from round 2 on the heap must be flat.
      const growth = samples[ROUNDS - 1]!.heap - samples[1]!.heap;
      assert.ok(growth < 4 * 1024 * 1024, `heap grew ${mb(growth)} MB from round 2 to round ${ROUNDS}: ${line}`);
    } finally {
      await server.close();
    }
  });
});
