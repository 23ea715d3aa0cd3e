// `wsgate record --from`: the evidence of a real run (default gates against `wsgate serve` as its
// own process) becomes a gates file that passes against that same server in a fresh folder and
// fails against one that lies about writing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliResult, firstFailure, readResult, scratch, SHARED_MACHINE } from '../helpers/cli.ts';
import { serveProcess, type ServeProcess } from '../helpers/serve-process.ts';
import { ISO_TIME_ANYWHERE, readGates, UUID_ANYWHERE } from './helpers.ts';

const s = scratch(after);
let healthy: ServeProcess;
let evidence: string;
let run: { PROJECT: string; RUN_ID: string };
const GATES = ['session-init', 'chat-stream', 'write-file', 'git-commit', 'sessions', 'error-recovery'];

before(async () => {
  healthy = s.server({ ...(await serveProcess({ root: s.dir('wsgate-from-root-') })), close: () => healthy.stop() });
  evidence = path.join(s.dir('wsgate-from-ev-'), 'run');
  const r = await cliResult([
    'run',
    healthy.url,
    s.dir('wsgate-from-project-'),
    ...GATES.flatMap((g) => ['--gate', g]),
    '--out',
    evidence,
    ...SHARED_MACHINE,
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  run = JSON.parse(readFileSync(path.join(evidence, 'variables.json'), 'utf8')) as typeof run;
});

async function replay(url: string, file: string) {
  const out = path.join(s.dir('wsgate-from-ev-'), 'ev');
  const r = await cliResult([
    'run',
    url,
    s.dir('wsgate-from-fresh-'),
    '--gates',
    file,
    '--out',
    out,
    ...SHARED_MACHINE,
  ]);
  return { ...r, result: readResult(out) };
}

describe('wsgate record --from', { concurrency: true }, () => {
  test("a run's evidence gives gates that pass against that server in a fresh folder, and fail on lie-write at test.txt", async () => {
    const file = path.join(s.dir('wsgate-from-'), 'recorded.yaml');
    const r = await cliResult(['record', '--from', evidence, '--out', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`wrote ${GATES.length} gates to`));
    const { text, gates } = readGates(file);
    assert.deepEqual(
      gates.map((g) => g.id),
      GATES,
    );
    assert.doesNotMatch(text, UUID_ANYWHERE);
    assert.doesNotMatch(text, ISO_TIME_ANYWHERE);
    assert.ok(!text.includes(run.PROJECT), "the run's project folder is ${PROJECT}");
    const body = text.replace(/^\s*#.*$/gm, '');
    assert.ok(!body.includes(run.RUN_ID), 'the run id is ${RUN_ID} (comments may name the run it came from)');
    assert.match(body, /message: Commit all changes with message 'wsgate commit \$\{RUN_ID\}'/);
    const sessions = gates.find((g) => g.id === 'sessions')!.steps;
    assert.deepEqual(
      sessions.find((x) => (x.send as { type?: string } | undefined)?.type === 'init_session')!.expect![0]!.capture,
      { sessionId: 'sessionId' },
    );
    assert.ok(
      sessions.some(
        (x) => x.on === 'resumed' && (x.send as { sessionId?: string } | undefined)?.sessionId === '${sessionId}',
      ),
      'the id is reused on the second connection',
    );
    const write = gates.find((g) => g.id === 'write-file')!.steps;
    assert.deepEqual(write.find((x) => x.verify)?.verify, { file: 'test.txt', content: 'Test content', changed: true });

    const green = await replay(healthy.url, file);
    assert.equal(green.code, 0, green.stdout + green.stderr);
    assert.equal(green.result.gates.filter((g) => g.status === 'passed').length, GATES.length);

    const lying = await serveProcess({ root: s.dir('wsgate-from-root-'), faults: ['lie-write'] });
    try {
      const red = await replay(lying.url, file);
      assert.equal(red.code, 1, red.stdout);
      assert.deepEqual(firstFailure(red.result), { gate: 'write-file', step: 'test.txt as the session left it' });
      assert.match(red.stdout, /✗ test\.txt exists/);
    } finally {
      await lying.stop();
    }
  });

  test('--from a transcript.jsonl with --gate takes that gate; recording it again into the same file appends it under a new id', async () => {
    const file = path.join(s.dir('wsgate-from-'), 'gates.yaml');
    for (let i = 0; i < 2; i++) {
      const r = await cliResult([
        'record',
        '--from',
        path.join(evidence, 'transcript.jsonl'),
        '--gate',
        'write-file',
        '--out',
        file,
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    assert.deepEqual(
      readGates(file).gates.map((g) => g.id),
      ['write-file', 'write-file-2'],
    );
    const list = await cliResult(['run', '--gates', file, '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^write-file-2 /m);
  });

  test("a server's close (code and reason) becomes a close step: the replay passes on that server, fails where it stays open", async () => {
    const dropping = await serveProcess({ root: s.dir('wsgate-from-root-'), faults: ['drop-on-error'] });
    try {
      const ev = path.join(s.dir('wsgate-from-ev-'), 'run');
      const run = await cliResult([
        'run',
        dropping.url,
        s.dir('wsgate-from-project-'),
        '--gate',
        'error-recovery',
        '--out',
        ev,
        ...SHARED_MACHINE,
      ]);
      assert.equal(run.code, 1, 'the default gate fails on a server that drops the connection');
      const file = path.join(s.dir('wsgate-from-'), 'gates.yaml');
      const r = await cliResult(['record', '--from', ev, '--out', file]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /note: gate error-recovery failed in that run/);
      const steps = readGates(file).gates[0]!.steps;
      assert.deepEqual(steps.find((x) => x.close)?.close, {
        on: 'main',
        by: 'server',
        code: 1008,
        reason: 'invalid JSON',
      });
      const same = await replay(dropping.url, file);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      const open = await replay(healthy.url, file);
      assert.equal(open.code, 1, open.stdout);
      assert.equal(firstFailure(open.result)?.step, 'expect the server to close main with 1008');
    } finally {
      await dropping.stop();
    }
  });

  test('bad input is a usage error naming it, and writes nothing', async () => {
    const dir = s.dir('wsgate-from-');
    const file = path.join(dir, 'gates.yaml');
    const missing = await cliResult(['record', '--from', path.join(dir, 'nowhere'), '--out', file]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such run folder or transcript/);
    const unknown = await cliResult(['record', '--from', evidence, '--gate', 'write-fil', '--out', file]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /did you mean "write-file"/);
    const both = await cliResult(['record', '--from', evidence, healthy.url]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give no URL or PATH/);
    assert.throws(() => readFileSync(file), /ENOENT/);
  });
});
