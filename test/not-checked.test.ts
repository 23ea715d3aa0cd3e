// "Not checked": a step whose premise could not be established (a value only the user can give, a
// request that never reached the server) is neither a pass nor the server's failure. Every report says
// so, the run exits 0 unless --require-checked (then 4), and the same step is judged, pass or fail,
// once its premise holds.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { startForeignAgent } from './fixtures/agent-backend/server.ts';
import { closedPort } from './helpers/servers.ts';
import { runCli, readResult, scratch, SHARED_MACHINE } from './helpers/cli.ts';
import type { RunResult } from '../lib/evidence/results.ts';

const s = scratch(after);
const statuses = (r: RunResult) => r.gates.map((g) => [g.id, g.status]);

describe('not checked', { concurrency: 2 }, () => {
  test('logs without LOG_DIR or a logDir in /health: not checked in the summary and every report, exit 0 (4 with --require-checked)', async () => {
    const agent = s.server(await startForeignAgent({ healthLogDir: false }));
    const dir = s.dir('wsgate-unchecked-');
    const out = path.join(dir, 'ev');
    const rep = (name: string) => path.join(dir, name);
    const reporters = [
      '--reporter',
      `junit:${rep('junit.xml')}`,
      '--reporter',
      `markdown:${rep('summary.md')}`,
      '--reporter',
      `html:${rep('report.html')}`,
      '--reporter',
      `github:${rep('github.txt')}`,
      '--reporter',
      `json:${rep('result.json')}`,
    ];
    const r = await runCli([
      agent.url,
      s.dir(),
      '--gate',
      'health',
      '--gate',
      'logs',
      ...SHARED_MACHINE,
      '--out',
      out,
      ...reporters,
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = readResult(out);
    assert.deepEqual(statuses(result), [
      ['health', 'passed'],
      ['logs', 'unchecked'],
    ]);
    assert.equal(result.status, 'passed');
    assert.equal(result.totals.unchecked, 1);
    assert.equal(result.totals.passed, 1, 'a gate not checked is not counted as passed');
    assert.equal(result.totals.checksFailed, 0, 'nor as a failure');
    const logs = result.gates[1]!;
    assert.deepEqual(
      logs.steps.map((st) => st.status),
      ['passed', 'unchecked', 'unchecked'],
    );
    assert.match(logs.steps[1]!.note!, /^not checked: needs \$\{LOG_DIR\} \(give --var LOG_DIR=VALUE\)$/);

    assert.match(r.stdout, /PASS \(1 gate not checked\) {2}2 gates: 1 passed, 0 failed, 1 not checked/);
    assert.match(r.stdout, /○ not checked: logs: needs \$\{LOG_DIR\}/);
    assert.match(r.stdout, /○ verify file \$\{LOG_DIR\}\/combined\.log/);
    const junit = readFileSync(rep('junit.xml'), 'utf8');
    assert.match(junit, /<skipped message="not checked: needs \$\{LOG_DIR\}/);
    assert.doesNotMatch(junit, /<failure/);
    assert.match(readFileSync(rep('summary.md'), 'utf8'), /\| \*\*logs\*\*.*\| ○ not checked \|/);
    assert.match(readFileSync(rep('summary.md'), 'utf8'), /1 not checked/);
    assert.match(readFileSync(rep('report.html'), 'utf8'), /○ not checked/);
    const github = readFileSync(rep('github.txt'), 'utf8');
    assert.match(github, /^::warning .*not checked: needs \$\{LOG_DIR\}/m);
    assert.doesNotMatch(github, /::error/);
    assert.equal((JSON.parse(readFileSync(rep('result.json'), 'utf8')) as RunResult).gates[1]!.status, 'unchecked');

    const strict = await runCli([
      agent.url,
      s.dir(),
      '--gate',
      'health',
      '--gate',
      'logs',
      ...SHARED_MACHINE,
      '--out',
      path.join(s.dir(), 'ev'),
      '--require-checked',
      '--quiet',
    ]);
    assert.equal(strict.exitCode, 4, strict.stdout + strict.stderr);
    assert.match(strict.stdout, /1 gate\(s\) not checked and --require-checked is set/);
    assert.match(strict.stdout, /NOT CHECKED \(1 gate\) {2}2 gates/);
    assert.doesNotMatch(strict.stdout, /PASS/);
  });

  test('a gate awaiting sign-off with a step not checked: --require-checked counts it (4), --require-signoff fails it first (1)', async () => {
    const agent = s.server(await startForeignAgent({}));
    const dir = s.dir('wsgate-unchecked-pending-');
    const file = path.join(dir, 'g.yaml');
    writeFileSync(
      file,
      `version: 1
gates:
  - id: both
    title: a person's check and a premise never established
    steps:
      - http: GET \${HTTP_URL}/health
        capture: {X: "nosuch?"}
      - manual: "looks right"
      - verify: {file: "\${X}/a.txt"}
`,
    );
    const run = (...flags: string[]) =>
      runCli([
        agent.url,
        s.dir(),
        '--gates',
        file,
        ...SHARED_MACHINE,
        '--out',
        path.join(s.dir(), 'ev'),
        '--quiet',
        ...flags,
      ]);
    const plain = await run();
    assert.equal(plain.exitCode, 0, plain.stdout + plain.stderr);
    assert.match(plain.stdout, /PASS \(1 gate not checked\)/);
    const checked = await run('--require-checked');
    assert.equal(checked.exitCode, 4, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /1 gate\(s\) not checked and --require-checked is set/);
    const both = await run('--require-checked', '--require-signoff');
    assert.equal(both.exitCode, 1, both.stdout + both.stderr);
    assert.match(both.stdout, /1 gate\(s\) await sign-off and --require-signoff is set/);
    assert.match(both.stdout, /FAIL/);
  });

  test('with --var LOG_DIR the same gate is judged: passes where the logs are, fails on an empty folder', async () => {
    const logDir = s.dir('wsgate-unchecked-logs-');
    const agent = s.server(await startForeignAgent({ healthLogDir: false, logDir }));
    const good = path.join(s.dir(), 'ev');
    const r = await runCli([
      agent.url,
      s.dir(),
      '--gate',
      'health',
      '--gate',
      'logs',
      '--var',
      `LOG_DIR=${logDir}`,
      ...SHARED_MACHINE,
      '--out',
      good,
      '--quiet',
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.deepEqual(statuses(readResult(good)), [
      ['health', 'passed'],
      ['logs', 'passed'],
    ]);
    const empty = s.dir('wsgate-unchecked-nologs-');
    const bad = path.join(s.dir(), 'ev');
    const f = await runCli([
      agent.url,
      s.dir(),
      '--gate',
      'health',
      '--gate',
      'logs',
      '--var',
      `LOG_DIR=${empty}`,
      ...SHARED_MACHINE,
      '--out',
      bad,
      '--quiet',
    ]);
    assert.equal(f.exitCode, 1, f.stdout + f.stderr);
    const failed = readResult(bad)
      .gates[1]!.steps.flatMap((st) => st.checks)
      .filter((c) => !c.passed)
      .map((c) => c.name);
    assert.deepEqual(failed, [`${empty}/combined.log exists`, `${empty}/error.log exists`]);
  });

  test('a --var LOG_DIR wins over the logDir /health names', async () => {
    const agent = s.server(await startForeignAgent({}));
    const empty = s.dir('wsgate-unchecked-nologs-');
    const out = path.join(s.dir(), 'ev');
    const r = await runCli([
      agent.url,
      s.dir(),
      '--gate',
      'logs',
      '--var',
      `LOG_DIR=${empty}`,
      ...SHARED_MACHINE,
      '--out',
      out,
      '--quiet',
    ]);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(
      JSON.stringify(readResult(out).gates[0]!.steps[1]!.checks),
      new RegExp(`${empty}/combined.log exists`),
    );
  });

  test('a missing variable after a skipped step (a model step with no stand-in) is not checked, never a pass', async () => {
    const agent = s.server(await startForeignAgent({}));
    const dir = s.dir('wsgate-unchecked-skipped-');
    const file = path.join(dir, 'g.yaml');
    writeFileSync(
      file,
      `version: 1
gates:
  - id: premise
    title: a capture that found nothing, then a skipped step
    steps:
      - http: GET \${HTTP_URL}/health
        capture: {X: "nosuch?"}
      - model: {requests: 1}
      - verify: {file: "\${X}/a.txt"}
`,
    );
    const out = path.join(dir, 'ev');
    const r = await runCli([agent.url, s.dir(), '--gates', file, ...SHARED_MACHINE, '--out', out, '--quiet']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const gate = readResult(out).gates[0]!;
    assert.deepEqual(
      gate.steps.map((st) => st.status),
      ['passed', 'skipped', 'unchecked'],
    );
    assert.equal(gate.status, 'unchecked');
    const strict = await runCli([
      agent.url,
      s.dir(),
      '--gates',
      file,
      ...SHARED_MACHINE,
      '--out',
      path.join(dir, 'ev2'),
      '--quiet',
      '--require-checked',
    ]);
    assert.equal(strict.exitCode, 4, strict.stdout + strict.stderr);
  });

  test('a send on a connection not tried (its target failed in an earlier gate) is not checked: the gate does not pass on its other steps', async () => {
    const url = `ws://127.0.0.1:${await closedPort()}/ws`;
    const dir = s.dir('wsgate-unchecked-nottried-');
    const file = path.join(dir, 'g.yaml');
    writeFileSync(
      file,
      `version: 1
gates:
  - id: first
    title: the target is judged here
    steps:
      - connect: {name: main, url: "${url}"}
  - id: second
    title: a passing step, then the same target
    steps:
      - run: ["true"]
      - connect: {name: main, url: "${url}"}
      - send: {type: ping}
        expect: [{type: pong}]
`,
    );
    const out = path.join(dir, 'ev');
    const r = await runCli([url, s.dir(), '--gates', file, ...SHARED_MACHINE, '--out', out, '--quiet']);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const second = readResult(out).gates[1]!;
    assert.deepEqual(
      second.steps.map((st) => st.status),
      ['passed', 'skipped', 'unchecked'],
      JSON.stringify(second.steps),
    );
    assert.equal(second.status, 'unchecked');
    assert.match(second.steps[2]!.note!, /^not checked: connection main was not tried \(step 2: not tried: /);
  });

  // exists: false is evidence only when the request that could have created the file was delivered.
  const ABSENT_GATES = (url: string, text: string) => `version: 1
gates:
  - id: absent
    title: the server does not create the file
    steps:
      - connect: {name: main, url: "${url}"}
      - send: {type: init_session, projectPath: "\${PROJECT}"}
        expect: [{type: session_initialized}]
      - send: {type: message, message: "${text}", content: "${text}"}
        expect: [{type: message_complete}]
      - verify: {file: made.txt, exists: false}
`;

  async function absentRun(url: string, text: string, exitCode: number) {
    const dir = s.dir('wsgate-absent-');
    mkdirSync(path.join(dir, 'p'));
    const file = path.join(dir, 'g.yaml');
    writeFileSync(file, ABSENT_GATES(url, text));
    const out = path.join(dir, 'ev');
    const r = await runCli([url, path.join(dir, 'p'), '--gates', file, ...SHARED_MACHINE, '--out', out, '--quiet']);
    assert.equal(r.exitCode, exitCode, r.stdout + r.stderr);
    return { result: readResult(out), stdout: r.stdout };
  }

  test('verify exists: false after a refused connection is not checked, not passed', async () => {
    const url = `ws://127.0.0.1:${await closedPort()}/ws`;
    const { result, stdout } = await absentRun(url, "Create a made.txt file with 'x'", 1);
    const verify = result.gates[0]!.steps[3]!;
    assert.equal(verify.status, 'unchecked');
    assert.deepEqual(verify.checks, []);
    assert.match(
      verify.note!,
      /^not checked: made\.txt is absent, but nothing shows that step 1 \(connect main\) reached the server: REFUSED/,
    );
    assert.match(stdout, /○ verify file made\.txt/);
  });

  test('verify exists: false after the server closed the connection before the request: not checked', async () => {
    // A real server that answers init_session and then closes: the message that could create the file never goes out.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    s.server({ close: () => new Promise<void>((resolve) => wss.close(() => resolve())) });
    wss.on('connection', (ws) => {
      ws.on('message', () => {
        ws.send(
          JSON.stringify({
            type: 'session_initialized',
            sessionId: '8c1a5f0e-51b3-4d1c-9a55-0c4c8f2b8e11',
            hasContext: false,
          }),
          () => ws.close(1000, 'bye'),
        );
      });
    });
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
    const { result } = await absentRun(url, "Create a made.txt file with 'x'", 1);
    const [, init, message, verify] = result.gates[0]!.steps;
    assert.equal(init!.status, 'passed');
    assert.equal(message!.status, 'failed');
    assert.equal(verify!.status, 'unchecked', JSON.stringify(verify));
    assert.match(
      verify!.note!,
      /nothing shows that step 3 \(send message\) reached the server: the server closed the connection/,
    );
  });

  test('verify exists: false after a delivered request: passes when the server made nothing, fails when it made the file', async () => {
    const agent = s.server(await startForeignAgent({}));
    const kept = await absentRun(agent.url, 'Read nothing-here.txt', 0);
    assert.equal(kept.result.gates[0]!.steps[3]!.status, 'passed');
    const made = await absentRun(agent.url, "Create a made.txt file with 'x'", 1);
    const verify = made.result.gates[0]!.steps[3]!;
    assert.equal(verify.status, 'failed');
    assert.deepEqual(
      verify.checks.map((c) => [c.name, c.actual]),
      [['made.txt is absent', 'exists']],
    );
  });
});
