// verify: side effects read from the real disk and the real git of a real project folder, after a
// real `ws` server acted (or lied) about them. Each server does exactly what its test needs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { prepareProject } from '../../lib/runner/project.ts';
import { VERIFY_READ_MAX } from '../../steps/verify.ts';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { lineOf, oneGate, tmp, wsServer } from '../helpers/servers.ts';
import type { Reporter } from '../../lib/reporters/types.ts';

interface Behaviour {
  /** Reply "done" to write without writing. */
  lie?: boolean;
  /** Append this to what is written. */
  suffix?: string;
  /** Reply "accepted" and hand the write to this: the test decides when (or whether) it happens. */
  late?: (write: () => void) => void;
  /** Listing: add these names / drop these names. */
  listingExtra?: string[];
  listingDrop?: string[];
  /** git status claim without untracked files. */
  statusNoUntracked?: boolean;
  /** Say "committed" without committing. */
  fakeCommit?: boolean;
  /** append: write the file anew with only the new line, instead of appending it. */
  rewrite?: boolean;
}

/** A small tool server: {op, project, ...} messages, real fs and real git on the project folder. */
async function toolServer(t: TestContext, b: Behaviour = {}) {
  return wsServer(t, (ws) =>
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as {
        op: string;
        project: string;
        path?: string;
        content?: string;
        message?: string;
      };
      const git = (...args: string[]) => execFileSync('git', args, { cwd: m.project, encoding: 'utf8' });
      const reply = (o: object) => ws.send(JSON.stringify({ type: 'done', op: m.op, ...o }));
      switch (m.op) {
        case 'write': {
          const write = () => {
            mkdirSync(path.dirname(path.join(m.project, m.path!)), { recursive: true });
            writeFileSync(path.join(m.project, m.path!), m.content! + (b.suffix ?? ''));
          };
          if (b.lie) return reply({ result: `Wrote ${m.content!.length} bytes` });
          if (b.late) {
            b.late(write);
            return reply({ result: 'accepted' });
          }
          write();
          return reply({ result: `Wrote ${m.content!.length} bytes` });
        }
        case 'append': {
          if (b.lie) return reply({ result: 'appended' });
          (b.rewrite ? writeFileSync : appendFileSync)(path.join(m.project, m.path!), `${m.content!}\n`);
          return reply({ result: 'appended' });
        }
        case 'list': {
          const names = readdirSync(m.project, { withFileTypes: true })
            .filter((e) => e.name !== '.git' && !(b.listingDrop ?? []).includes(e.name))
            .map((e) => (e.isDirectory() ? e.name + '/' : e.name));
          return reply({ listing: [...names, ...(b.listingExtra ?? [])].sort().join('\n') });
        }
        case 'status':
          return reply({ status: git('status', '--porcelain=v1', b.statusNoUntracked ? '-uno' : '-uall') });
        case 'commit':
          if (!b.fakeCommit) {
            git('add', '-A');
            git('commit', '-q', '-m', m.message!);
          }
          return reply({ result: `[main abc1234] ${m.message}` });
      }
    }),
  );
}

async function project(t: TestContext, files: Record<string, string> = {}): Promise<string> {
  const dir = tmp(t, 'wsgate-verify-project-');
  for (const [f, c] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), c);
  }
  return (await prepareProject(dir)).path;
}

const write = (
  file: string,
  content: string,
) => `- send: {op: write, project: "\${PROJECT}", path: "${file}", content: ${JSON.stringify(content)}}
  expect: [{type: done}]`;

describe('verify', { concurrency: true }, () => {
  describe('files', { concurrency: true }, () => {
    const gate = oneGate(`
      - connect: main
      ${write('test.txt', 'Test content').replace('\n', '\n      ')}
      ${write('out.json', '{"status":"ok","items":[{"n":1},{"n":2}]}').replace('\n', '\n      ')}
      - verify:
          file: test.txt
          content: "Test content"   # CONTENT
          changed: true
      - verify:
          file: out.json
          json:
            status: ok   # JSON
            items[1].n: {gte: 2}
      - verify: {file: stale.txt, exists: false}
    `);

    test('exists, content, json and absent pass for a server that writes', async (t) => {
      const fx = await toolServer(t);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t) });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      const v = r.steps[3]!;
      assert.deepEqual(
        v.checks.map((c) => c.name),
        ['test.txt exists', 'test.txt written during this gate', 'test.txt content'],
      );
      assert.equal(v.observations?.content, 'Test content');
    });

    test('wrong content fails at the content line', async (t) => {
      const fx = await toolServer(t, { suffix: ' (edited)' });
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t) });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.steps[3]!.status, 'failed');
      // out.json got the suffix too: its own step runs and reports it (it needs nothing from test.txt).
      assert.deepEqual(
        r.failedChecks.map((c) => c.name),
        ['test.txt content', 'out.json is JSON'],
        JSON.stringify(r.failedChecks),
      );
      assert.equal(r.failedChecks[0]!.actual, 'Test content (edited)');
      assert.deepEqual(
        r.failedChecks.map((c) => c.failure),
        [
          { kind: 'content', subject: 'the content of test.txt' },
          { kind: 'file', path: 'out.json', want: 'json' },
        ],
      );
      assert.match(String(r.failedChecks[0]!.reason), /differ/, 'the matcher says where the texts differ');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# CONTENT'));
    });

    test('a server that writes nothing fails "exists"', async (t) => {
      const fx = await toolServer(t, { lie: true });
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t) });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks[0]!.name, 'test.txt exists');
      assert.equal(r.failedChecks[0]!.actual, 'absent');
      assert.deepEqual(r.failedChecks[0]!.failure, { kind: 'file', path: 'test.txt', want: 'exists' });
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, 'file: test.txt'));
    });

    test('json field mismatch and non-JSON content fail', async (t) => {
      const fx = await toolServer(t);
      const p = await project(t);
      const bad = gate.replace('{\\"status\\":\\"ok\\"', '{\\"status\\":\\"bad\\"');
      assert.notEqual(bad, gate);
      const r = await runGatesYaml(bad, { url: fx.url, project: p });
      assert.equal(r.result.status, 'failed');
      assert.deepEqual(
        r.failedChecks.map((c) => c.name),
        ['out.json status'],
      );
      assert.deepEqual(r.failedChecks[0]!.failure, { kind: 'field', field: 'out.json status', expected: 'ok' });
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(bad, '# JSON'));

      const notJson = gate.replace('{\\"status\\":\\"ok\\",\\"items\\":[{\\"n\\":1},{\\"n\\":2}]}', 'status ok');
      assert.notEqual(notJson, gate);
      const r2 = await runGatesYaml(notJson, { url: fx.url, project: p });
      assert.equal(r2.failedChecks[0]!.name, 'out.json is JSON');
    });

    test('an unnamed verify is labelled with its variables filled in', async (t) => {
      const r = await runGatesYaml(
        oneGate(`
        - verify: {file: "w-\${RUN_ID}.txt"}
      `),
        { url: 'ws://127.0.0.1:9', project: await project(t, { 'w-test.txt': 'x' }) },
      );
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.equal(r.steps[0]!.label, 'verify file w-test.txt');
    });

    test('exists: false fails when the file is there', async (t) => {
      const fx = await toolServer(t);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t, { 'stale.txt': 'left over' }) });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks[0]!.name, 'stale.txt is absent');
      assert.equal(r.failedChecks[0]!.actual, 'exists');
    });
  });

  describe('jsonl', { concurrency: true }, () => {
    // Two lines left by earlier sessions (keys in another order than the matchers name them), then the gate's own.
    const OLD =
      '{"idTag":"T0","type":"StopTransaction","ts":"2024-05-01T09:00:00Z"}\n{"ts":"2024-05-01T09:30:00+02:00","type":"Heartbeat"}\n';
    const line = JSON.stringify({ type: 'StartTransaction', idTag: 'T1', meter: 12, ts: '2024-05-01T10:00:00.5Z' });
    const gate = oneGate(`
      - connect: main
      - send: {op: append, project: "\${PROJECT}", path: transactions.jsonl, content: ${JSON.stringify(line)}}
        expect: [{type: done}]
      - verify:
          file: transactions.jsonl
          jsonl:
            new: true   # NEW
            some: {type: StartTransaction, idTag: T1, meter: {gt: 0}}   # SOME
            every: {ts: {format: date-time}}   # EVERY
            last: {idTag: T1}   # LAST
      - verify:
          file: transactions.jsonl
          jsonl: {count: 3, some: {type: StopTransaction, idTag: T0}}   # ALL
    `);

    test('passes for a server that appends its line; old lines match as values, whatever their key order', async (t) => {
      const fx = await toolServer(t);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t, { 'transactions.jsonl': OLD }) });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.deepEqual(
        r.steps[2]!.checks.map((c) => [c.name, c.actual]),
        [
          ['transactions.jsonl exists', 'exists'],
          ['transactions.jsonl: number of new lines', 1],
          ['transactions.jsonl: one of its new lines matches', `line 3: ${line}`],
          ['transactions.jsonl: every one of its new lines matches', '1 line, all matching'],
          ['transactions.jsonl: the last of its new lines matches', `line 3: ${line}`],
        ],
      );
      assert.equal(r.steps[3]!.observations?.jsonlLines, 3);
    });

    test('a server that writes nothing fails "new" at its line, and the old lines do not stand in for a new one', async (t) => {
      const fx = await toolServer(t, { lie: true });
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t, { 'transactions.jsonl': OLD }) });
      assert.equal(r.result.status, 'failed');
      assert.deepEqual(
        r.failedChecks.map((c) => [c.name, c.actual, c.loc.line]),
        [
          ['transactions.jsonl: number of new lines', 0, lineOf(gate, '# NEW')],
          ['transactions.jsonl: one of its new lines matches', 'no new lines to match', lineOf(gate, '# SOME')],
          ['transactions.jsonl: the last of its new lines matches', 'no new lines', lineOf(gate, '# LAST')],
          ['transactions.jsonl: number of lines', 2, lineOf(gate, '# ALL')],
        ],
      );
    });

    test('a line that is not JSON fails, named by its line number; a wrong value names the line and field', async (t) => {
      const fx = await toolServer(t);
      const garbled = gate.replace(
        JSON.stringify(line),
        JSON.stringify(line.replace('"meter":12', '"meter":0').slice(0, -1)),
      );
      assert.notEqual(garbled, gate);
      const r = await runGatesYaml(garbled, { url: fx.url, project: await project(t, { 'transactions.jsonl': OLD }) });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks[0]!.name, 'transactions.jsonl: every one of its new lines is JSON');
      assert.match(String(r.failedChecks[0]!.actual), /^line 3 is not JSON \(/);
      const wrong = gate.replace(JSON.stringify(line), JSON.stringify(line.replace('"meter":12', '"meter":0')));
      const r2 = await runGatesYaml(wrong, { url: fx.url, project: await project(t, { 'transactions.jsonl': OLD }) });
      assert.deepEqual(
        r2.failedChecks.map((c) => [c.name, c.actual, c.loc.line]),
        [
          [
            'transactions.jsonl: one of its new lines matches',
            'no line matches; nearest line 3: meter: expected gt 0, got 0',
            lineOf(gate, '# SOME'),
          ],
        ],
      );
    });

    test('a server that rewrites the file instead of appending fails "new": no line counts as new', async (t) => {
      const fx = await toolServer(t, { rewrite: true });
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t, { 'transactions.jsonl': OLD }) });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks[0]!.name, 'transactions.jsonl: lines appended since the gate began');
      assert.match(String(r.failedChecks[0]!.actual), /shorter than at the gate's start \(\d+ → \d+ bytes\)/);
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# NEW'));
      // A file that did not exist at the start: every line is new.
      const fresh = await runGatesYaml(
        gate.replace('count: 3', 'count: 1').replace('some: {type: StopTransaction, idTag: T0}', 'some: {idTag: T1}'),
        { url: fx.url, project: await project(t) },
      );
      assert.equal(fresh.result.status, 'passed', JSON.stringify(fresh.failedChecks));
    });

    test('jsonl: {} is a load error with a hint', async () => {
      await assert.rejects(
        runGatesYaml(oneGate('- verify: {file: a.jsonl, jsonl: {}}'), { url: 'ws://127.0.0.1:1' }),
        /jsonl: \{\} checks nothing/,
      );
    });
  });

  describe('changed: true', { concurrency: true }, () => {
    const gate = oneGate(`
      - connect: main
      ${write('test.txt', 'Test content').replace('\n', '\n      ')}
      - verify: {file: test.txt, content: "Test content", changed: true}   # CHANGED
    `);
    // A test.txt with the right content, left by an earlier run an hour ago.
    const stale = async (t: TestContext) => {
      const p = await project(t, { 'test.txt': 'Test content' });
      const old = new Date(Date.now() - 3600_000);
      utimesSync(path.join(p, 'test.txt'), old, old);
      return p;
    };

    test('fails on a stale file left before the gate when the server writes nothing', async (t) => {
      const fx = await toolServer(t, { lie: true });
      const r = await runGatesYaml(gate, { url: fx.url, project: await stale(t) });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
      assert.equal(r.failedChecks[0]!.name, 'test.txt written during this gate');
      assert.match(String(r.failedChecks[0]!.actual), /unchanged since the gate began/);
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# CHANGED'));
    });

    test('passes when the server rewrites it (same content)', async (t) => {
      const fx = await toolServer(t);
      const r = await runGatesYaml(gate, { url: fx.url, project: await stale(t) });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.equal(r.steps[2]!.checks[1]!.actual, 'modified during the gate');
    });
  });

  describe('sha256', { concurrency: true }, () => {
    // sha256 of the 12 bytes "Test content", computed here rather than trusted from the step.
    const digest = createHash('sha256').update('Test content').digest('hex');
    const gate = oneGate(`
      - connect: main
      ${write('test.bin', 'Test content').replace('\n', '\n      ')}
      - verify: {file: test.bin, sha256: ${digest.toUpperCase()}}   # SHA
    `);

    test('passes when the bytes on disk hash to it (hex in either case)', async (t) => {
      const fx = await toolServer(t);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t) });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.deepEqual(
        r.steps[2]!.checks.map((c) => c.name),
        ['test.bin exists', 'test.bin sha256'],
      );
    });

    test('fails at the sha256 line when the server writes other bytes', async (t) => {
      const fx = await toolServer(t, { suffix: ' (edited)' });
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t) });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1, JSON.stringify(r.failedChecks));
      assert.equal(r.failedChecks[0]!.name, 'test.bin sha256');
      assert.equal(r.failedChecks[0]!.expected, digest);
      assert.equal(r.failedChecks[0]!.actual, createHash('sha256').update('Test content (edited)').digest('hex'));
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# SHA'));
    });

    test('a sha256 that is not 64 hex digits is a load error', async () => {
      await assert.rejects(
        runGatesYaml(gate.replace(digest.toUpperCase(), 'abc123'), { url: 'ws://127.0.0.1:1' }),
        /64 hex digits/,
      );
    });
  });

  describe('wait', { concurrency: true }, () => {
    test('passes for a server that writes the file a second after replying', async (t) => {
      // The second is counted from the end of the send step (a reporter hook), not from the server's
      // reply, which a loaded machine may take long to deliver: the verify step always starts first.
      let pending: (() => void) | undefined;
      const fx = await toolServer(t, { late: (write) => (pending = write) });
      const timers: NodeJS.Timeout[] = [];
      t.after(() => timers.forEach(clearTimeout));
      const writeLater: Reporter = {
        onStepEnd: (_gate, step) =>
          void (step.label.startsWith('send') && timers.push(setTimeout(() => pending?.(), 1000))),
      };
      const gate = oneGate(`
        - connect: main
        ${write('late.txt', 'eventually').replace('\n', '\n        ')}
        - verify: {file: late.txt, content: eventually, changed: true}
          wait: 10s
      `);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t), reporters: [writeLater] });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      const waited = r.steps[2]!.observations?.waitedMs as number;
      assert.ok(waited >= 250, `re-checked until the file appeared, not at once (${waited} ms)`);
    });

    test('fails without wait for a server that writes after replying', async (t) => {
      const fx = await toolServer(t, { late: () => undefined });
      const gate = oneGate(`
        - connect: main
        ${write('late.txt', 'eventually').replace('\n', '\n        ')}
        - verify: {file: late.txt, content: eventually}   # NOWAIT
      `);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t) });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks[0]!.name, 'late.txt exists');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# NOWAIT'));
    });

    test('a wait that runs out still fails, near its deadline', async (t) => {
      const fx = await toolServer(t, { lie: true });
      const gate = oneGate(`
        - connect: main
        ${write('late.txt', 'eventually').replace('\n', '\n        ')}
        - verify: {file: late.txt}
          wait: 400ms
      `);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t) });
      assert.equal(r.result.status, 'failed');
      const waited = r.steps[2]!.observations?.waitedMs as number;
      assert.ok(waited >= 150 && waited < 4000, `waited about 400 ms, not the default deadline (${waited})`);
    });
  });

  describe('listing claims', { concurrency: true }, () => {
    const gate = oneGate(`
      - connect: main
      - send: {op: list, project: "\${PROJECT}"}
        expect: [{type: done, capture: {listing: listing}}]
      - verify:
          dir: "."
          listing: "\${listing}"   # LISTING
    `);
    const files = { 'a.txt': 'a', 'src/index.ts': 'x', 'README.md': '#' };

    test('a claim naming exactly the real entries passes', async (t) => {
      const fx = await toolServer(t);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t, files) });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.deepEqual((r.steps[2]!.observations!.real as string[]).sort(), ['README.md', 'a.txt', 'src']);
    });

    test('an invented entry fails as claimed but not on disk', async (t) => {
      const fx = await toolServer(t, { listingExtra: ['ghost.txt'] });
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t, files) });
      assert.equal(r.result.status, 'failed');
      assert.match(String(r.failedChecks[0]!.actual), /claimed but not on disk: \["ghost.txt"\]/);
      assert.match(String(r.failedChecks[0]!.actual), /missing from the claim: \[\]/);
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# LISTING'));
    });

    test('a real entry left out fails as missing', async (t) => {
      const fx = await toolServer(t, { listingDrop: ['src'] });
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t, files) });
      assert.equal(r.result.status, 'failed');
      assert.match(String(r.failedChecks[0]!.actual), /missing from the claim: \["src"\]/);
    });
  });

  describe('git', { concurrency: true }, () => {
    test('clean passes on a fresh repository and fails once the server writes', async (t) => {
      const fx = await toolServer(t);
      const gate = oneGate(`
        - verify: {git: {clean: true}}
        - connect: main
        ${write('new.txt', 'n').replace('\n', '\n        ')}
        - verify: {git: {clean: false}}
        - verify:
            git:
              clean: true   # CLEAN
      `);
      const r = await runGatesYaml(gate, { url: fx.url, project: await project(t) });
      assert.equal(r.result.status, 'failed');
      assert.deepEqual(
        r.steps.map((s) => s.status),
        ['passed', 'passed', 'passed', 'passed', 'failed'],
      );
      assert.equal(r.failedChecks[0]!.actual, 'dirty: new.txt');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# CLEAN'));
    });

    const statusGate = oneGate(`
      - connect: main
      ${write('new.txt', 'n').replace('\n', '\n      ')}
      ${write('tracked.txt', 'changed').replace('\n', '\n      ')}
      - send: {op: status, project: "\${PROJECT}"}
        expect: [{type: done, capture: {status: status}}]
      - verify:
          git: {status: "\${status}"}   # STATUS
    `);
    const committed = async (t: TestContext) => {
      const p = await project(t, { 'tracked.txt': 'original', 'same.txt': 'same' });
      execFileSync('git', ['add', '-A'], { cwd: p });
      execFileSync('git', ['commit', '-q', '-m', 'base'], { cwd: p });
      return p;
    };

    test('a status claim naming every change passes', async (t) => {
      const fx = await toolServer(t);
      const r = await runGatesYaml(statusGate, { url: fx.url, project: await committed(t) });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    });

    test('a status claim missing an untracked file fails', async (t) => {
      const fx = await toolServer(t, { statusNoUntracked: true });
      const r = await runGatesYaml(statusGate, { url: fx.url, project: await committed(t) });
      assert.equal(r.result.status, 'failed');
      assert.match(String(r.failedChecks[0]!.actual), /claim misses: \["new.txt"\]/);
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(statusGate, '# STATUS'));
    });

    const commitGate = oneGate(`
      - connect: main
      ${write('c.txt', 'c').replace('\n', '\n      ')}
      - send: {op: commit, project: "\${PROJECT}", message: "wsgate commit \${RUN_ID}"}
        expect: [{type: done}]
      - verify:
          git:
            lastMessage: "wsgate commit \${RUN_ID}"   # LAST
            headMoved: true   # MOVED
      - verify: {git: {clean: true}}
    `);

    test('lastMessage and headMoved pass when the server really commits', async (t) => {
      const fx = await toolServer(t);
      const r = await runGatesYaml(commitGate, { url: fx.url, project: await committed(t) });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      assert.equal(r.steps[3]!.observations?.lastMessage, 'wsgate commit test');
    });

    test('a fake commit fails lastMessage and headMoved', async (t) => {
      const fx = await toolServer(t, { fakeCommit: true });
      const r = await runGatesYaml(commitGate, { url: fx.url, project: await committed(t) });
      assert.equal(r.result.status, 'failed');
      // The clean check runs too: the uncommitted file is a defect of its own.
      assert.deepEqual(
        r.failedChecks.map((c) => c.name),
        ['git log -1 message', 'HEAD moved during the gate', 'git working tree is clean'],
      );
      assert.equal(r.failedChecks[0]!.actual, 'base');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(commitGate, '# LAST'));
      assert.equal(r.failedChecks[1]!.loc.line, lineOf(commitGate, '# MOVED'));
    });

    test('headMoved: false passes when nothing was committed and fails when something was', async (t) => {
      const fx = await toolServer(t);
      const gate = oneGate(`
        - verify: {git: {headMoved: false}}
        - connect: main
        ${write('c.txt', 'c').replace('\n', '\n        ')}
        - send: {op: commit, project: "\${PROJECT}", message: second}
          expect: [{type: done}]
        - verify: {git: {headMoved: false}}   # NOT MOVED
      `);
      const r = await runGatesYaml(gate, { url: fx.url, project: await committed(t) });
      assert.equal(r.steps[0]!.status, 'passed');
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks[0]!.name, 'HEAD did not move during the gate');
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# NOT MOVED'));
    });
  });
});

describe('verify changed: a path known only from a capture', { concurrency: true }, () => {
  // The file name comes from the server's reply, so the gate cannot record it before it starts.
  const gate = oneGate(`
    - connect: main
    - send: {op: write, project: "\${PROJECT}", path: "test.txt", content: "Test content"}
      expect: [{type: done, capture: {written: path}}]
    - verify: {file: "\${written}", changed: true}   # CAPTURED PATH
  `);
  const echoPath = (b: Behaviour) => async (t: TestContext) =>
    wsServer(t, (ws) =>
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { project: string; path: string; content: string };
        if (!b.lie) writeFileSync(path.join(m.project, m.path), m.content);
        ws.send(JSON.stringify({ type: 'done', path: m.path }));
      }),
    );

  test('a stale file left before the gate still fails for a server that writes nothing', async (t) => {
    const fx = await echoPath({ lie: true })(t);
    const p = await project(t, { 'test.txt': 'Test content' });
    const old = new Date(Date.now() - 3600_000);
    utimesSync(path.join(p, 'test.txt'), old, old);
    const r = await runGatesYaml(gate, { url: fx.url, project: p });
    assert.equal(r.result.status, 'failed', 'an hour-old file was not written during this gate');
    assert.equal(r.failedChecks[0]!.name, 'test.txt written during this gate');
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(gate, '# CAPTURED PATH'));
  });

  test('passes when the server writes it', async (t) => {
    const fx = await echoPath({})(t);
    const p = await project(t, { 'test.txt': 'Test content' });
    const old = new Date(Date.now() - 3600_000);
    utimesSync(path.join(p, 'test.txt'), old, old);
    const r = await runGatesYaml(gate, { url: fx.url, project: p });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
  });
});

describe('verify on a file too large to read whole', () => {
  // 1.5 GB of zeros in a sparse file (no disk used). Its sha256, by coreutils:
  // head -c 1610612736 /dev/zero | sha256sum
  const SIZE = 1536 * 1024 * 1024;
  const ZEROS_SHA256 = 'b7a1ca05cae9eefbf2deee895f4fb34c8d8ffc5d6665982424e0b2711c79ed1d';
  const gate = oneGate(`
    - verify: {file: big.bin, sha256: ${ZEROS_SHA256}}
    - verify: {file: big.bin, content: "x"}   # CONTENT
  `);

  test('is hashed by streaming, and its content is read only up to the cap: a bounded memory, a clear failure', async (t) => {
    const p = await project(t);
    const fd = openSync(path.join(p, 'big.bin'), 'w');
    ftruncateSync(fd, SIZE);
    closeSync(fd);
    const peakBefore = process.resourceUsage().maxRSS;
    const r = await runGatesYaml(gate, { url: 'ws://127.0.0.1:1', project: p });
    const grewMb = (process.resourceUsage().maxRSS - peakBefore) / 1024;
    assert.ok(grewMb < 256, `the peak RSS grew by ${Math.round(grewMb)} MB: the file was read whole`);
    assert.equal(r.steps[0]!.status, 'passed', JSON.stringify(r.steps[0]!.checks));
    assert.equal(r.steps[0]!.observations?.size, SIZE);
    assert.equal(r.steps[1]!.status, 'failed');
    const tooBig = r.failedChecks.find((c) => c.name === 'big.bin is small enough to read');
    assert.ok(tooBig, JSON.stringify(r.failedChecks));
    assert.match(String(tooBig.actual), /1610612736 bytes/);
    assert.match(String(tooBig.expected), new RegExp(`${VERIFY_READ_MAX} bytes`));
    assert.equal(tooBig.loc.line, lineOf(gate, '# CONTENT'));
  });

  test('a file of exactly the cap is still read and matched', async (t) => {
    const p = await project(t);
    const fd = openSync(path.join(p, 'edge.txt'), 'w');
    ftruncateSync(fd, VERIFY_READ_MAX);
    closeSync(fd);
    const edge = oneGate(`
      - verify: {file: edge.txt, content: {length: ${VERIFY_READ_MAX}}}
    `);
    const r = await runGatesYaml(edge, { url: 'ws://127.0.0.1:1', project: p });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
  });
});
