// Process hygiene: after a pass, a fail, a deadline, SIGINT and SIGTERM, no wscat, no started
// backend (nor its own child) and no embedded server of the run is left. The CLI is spawned here
// (so its pid is known); its descendants are sampled from /proc while it runs, then the real
// process table is checked after it exits: same pid and start time, same process group, or a
// command line naming the run's unique marker or its server's port.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { makeTmp, writeGates, spawnCli, waitNoSurvivors, assertNoStackTrace, processTable } from './helpers.ts';
import { until, WAIT_FOR_FILE } from '../helpers/servers.ts';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

// A backend that starts a child of its own (same process group), both named by the marker.
const BACKEND = `
const { spawn } = require('node:child_process');
const mark = process.argv[2];
spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'grandchild', mark], { stdio: 'ignore' });
setInterval(() => {}, 1000);
console.log('backend ready ' + mark);
`;

type Scenario = 'pass' | 'fail' | 'deadline' | 'SIGINT' | 'SIGTERM';

/** The embedded server answers {type: ping} with {type: pong}; nothing ever sends `never`. */
function gatesFor(s: Scenario): string {
  const last =
    s === 'pass'
      ? `      - send: {type: ping}
        expect: [{type: pong}]`
      : s === 'fail'
        ? `      - send: {type: ping}
        expect: [{type: pong, match: {type: not-pong}}]`
        : s === 'deadline'
          ? `      - send: {type: ping}
        expect: [{type: never}]
        within: 1s`
          : `      - send: {type: ping}
        expect: [{type: never}]
        within: 60s`;
  return `version: 1
gates:
  - id: hygiene
    title: a backend, a connection and a wait
    steps:
      - start: node "\${BACKEND}" "\${MARK}"
        ready: {log: "backend ready"}
        within: 15s
      - connect: main
        within: 10s
      # Holds the run until the test has seen the wscat, the backend and the backend's child in the
      # process table (it then creates the file): what it expects gone later, it must have seen.
      - run: [node, "\${WAIT_FOR_FILE}", "\${SEEN}", "90000"]
      # Keeps the connection open a moment more.
      - expect: [{type: never, optional: true}]
        within: 700ms
${last}
  - id: after
    title: never reached when interrupted
    steps:
      - connect: main
`;
}

async function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

async function scenario(s: Scenario, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const dir = makeTmp(cleanups, 'wsgate-rel-hyg-');
  const mark = `wsgate-hygiene-${s}-${randomBytes(6).toString('hex')}`;
  const backend = path.join(dir, 'backend.cjs');
  writeFileSync(backend, BACKEND);
  const gates = writeGates(dir, gatesFor(s));
  const seenFile = path.join(dir, 'seen');
  const cli = spawnCli(
    [
      '--gates',
      gates,
      '--var',
      `MARK=${mark}`,
      '--var',
      `BACKEND=${backend}`,
      '--var',
      `WAIT_FOR_FILE=${WAIT_FOR_FILE}`,
      '--var',
      `SEEN=${seenFile}`,
      '--out',
      path.join(dir, 'ev'),
    ],
    { env },
  );
  const kinds = () => {
    const all = [...cli.seen.values()];
    return {
      all,
      wscat: all.filter((p) => /wscat/.test(p.cmdline)),
      backends: all.filter((p) => p.cmdline.includes(mark) && /backend\.cjs/.test(p.cmdline)),
      grandchildren: all.filter((p) => p.cmdline.includes(mark) && p.cmdline.includes('grandchild')),
    };
  };
  try {
    await cli.waitStdout(/✓ connect main/, 60_000);
    // Whether or not all three show up in time, the run goes on: the assertions below name what was never seen.
    await until(() => {
      cli.sample();
      const k = kinds();
      return k.wscat.length > 0 && k.backends.length > 0 && k.grandchildren.length > 0;
    }, 60_000);
    writeFileSync(seenFile, '');
    if (s === 'SIGINT' || s === 'SIGTERM') {
      // In the middle of the long wait: the backend runs and the connection is open.
      await cli.waitStdout(/✓ expect never/, 60_000).catch(async (e) => {
        await cli.kill();
        throw e;
      });
      cli.sample();
      process.kill(cli.pid, s);
    }
    const exit = await Promise.race([
      cli.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`the CLI did not exit within 90 s:\n${cli.stdout()}`)), 90_000).unref(),
      ),
    ]).catch(async (e) => {
      await cli.kill();
      throw e;
    });
    const out = cli.stdout() + cli.stderr();
    assertNoStackTrace(out);
    const expected = { pass: 0, fail: 1, deadline: 1, SIGINT: 130, SIGTERM: 130 }[s];
    const environment = JSON.parse(readFileSync(path.join(dir, 'ev', 'environment.json'), 'utf8')) as {
      processTable: string;
    };
    assert.equal(
      environment.processTable,
      env.WSGATE_PROCESS_TABLE ?? 'proc',
      'the CLI read the process table the way this case is about',
    );
    assert.equal(exit.code, expected, `${s}: exit ${exit.code} signal ${exit.signal}\n${out}`);

    // What ran was printed, in every case.
    assert.match(cli.stdout(), /✓ start node/);
    assert.match(cli.stdout(), /✓ connect main/);
    if (s === 'deadline') assert.match(cli.stdout(), /nothing matching within 1000 ms/);
    if (s === 'SIGINT' || s === 'SIGTERM') {
      assert.match(cli.stderr(), new RegExp(`${s} received, stopping`));
      assert.match(cli.stdout(), /^INTERRUPTED {2}2 gates: 0 passed/m, cli.stdout());
      assert.match(cli.stdout(), /✓ expect never/);
      assert.match(cli.stdout(), /- send ping .*\(interrupted\)/, 'the step that was cut short is named');
      assert.doesNotMatch(cli.stdout(), /^after {2}/m, 'the gate after the interrupt did not run');
    }

    // The test really saw the processes it then expects gone (otherwise it could not fail).
    const { all: seen, wscat, backends, grandchildren } = kinds();
    assert.ok(wscat.length >= 1, `no wscat seen among ${seen.map((p) => p.cmdline).join('\n')}`);
    assert.ok(backends.length >= 1, 'the backend was seen');
    assert.ok(grandchildren.length >= 1, "the backend's own child was seen");

    const port = Number(/ws:\/\/127\.0\.0\.1:(\d+)\S* \(embedded reference server\)/.exec(cli.stdout())?.[1]);
    assert.ok(port > 0, `the embedded server port is printed:\n${cli.stdout()}`);
    const left = await waitNoSurvivors(seen, [mark, `127.0.0.1:${port}`], 5000);
    const groups = new Set(seen.map((p) => p.pgid));
    const inGroups = processTable().filter((p) => groups.has(p.pgid) && p.pgid !== process.pid);
    assert.deepEqual(
      left.map((p) => `${p.pid} ${p.cmdline}`),
      [],
      `${s}: processes of the run survived it`,
    );
    assert.deepEqual(
      inGroups.map((p) => `${p.pid} ${p.cmdline}`),
      [],
      `${s}: processes left in the run's process groups`,
    );
    assert.ok(await portClosed(port), `${s}: the embedded server still listens on ${port}`);
  } finally {
    await cli.kill();
  }
}

describe('process hygiene: nothing of the run survives it', { concurrency: true }, () => {
  for (const s of ['pass', 'fail', 'deadline', 'SIGINT', 'SIGTERM'] as const) {
    test(`after ${s}`, () => scenario(s));
  }
});

// The same guarantees where there is no /proc (macOS): the CLI reads the process table with POSIX ps.
// WSGATE_PROCESS_TABLE=ps makes it do so here; the test still watches the real table through /proc.
describe('process hygiene with the portable process table (ps)', { concurrency: true }, () => {
  for (const s of ['pass', 'fail', 'deadline', 'SIGINT', 'SIGTERM'] as const) {
    test(`after ${s}`, () => scenario(s, { WSGATE_PROCESS_TABLE: 'ps' }));
  }
});
