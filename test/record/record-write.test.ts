// Where a recorded gate goes: appended to an existing gates file with every byte of it kept (comments,
// flow maps, keys after the gates list), under an id that does not clash; a broken target, a bad
// command line, a symbolic link at --out or a refused connection writes nothing. Sessions run against the embedded server.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cliResult, scratch, SHARED_MACHINE } from '../helpers/cli.ts';
import { closedPort } from '../helpers/servers.ts';
import { assertHelpLists, assertRefused } from '../helpers/flags.ts';
import { RECORD_FLAGS, RECORD_HELP, RECORD_USAGE } from '../../lib/record/cli.ts';
import { readGates, startRecord } from './helpers.ts';

const s = scratch(after);

const EXISTING = `# yaml-language-server: $schema=./gates.schema.json
# Hand-written gates: this comment, the quoting and the flow maps below must survive.
version: 1
gates:
  - id: ping-by-hand   # written by a person
    title: 'ping → pong'
    steps:
      - connect: main
      - send: {type: ping}
        expect: [{type: pong}]

# The variables come after the gates.
vars:
  GREETING: "hello"   # kept
`;

describe('wsgate record: the gates file', { concurrency: true }, () => {
  test('appends to an existing file byte for byte, with fresh ids; the appended gates run', async (t) => {
    const dir = s.dir('wsgate-recw-');
    const file = path.join(dir, 'gates.yaml');
    writeFileSync(file, EXISTING);
    for (const id of ['ping-by-hand', 'ping-by-hand', undefined]) {
      const rec = startRecord([path.join(dir, 'project'), '--out', file, ...(id ? ['--gate', id] : [])], t);
      rec.line('{"type":"ping"}');
      assert.equal(await rec.finish(), 0, rec.out() + rec.err());
    }
    const text = readFileSync(file, 'utf8');
    const cut = EXISTING.indexOf('\n# The variables');
    assert.ok(text.startsWith(EXISTING.slice(0, cut)), text);
    assert.ok(text.endsWith(EXISTING.slice(cut)), text);
    assert.deepEqual(
      readGates(file).gates.map((g) => g.id),
      ['ping-by-hand', 'ping-by-hand-2', 'ping-by-hand-3', 'recorded'],
    );
    const r = await cliResult(['run', '--gates', file, ...SHARED_MACHINE]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /4 gates: 4 passed/);
  });

  test('a target that is not a gates file is refused before anything runs, and left untouched', async () => {
    const dir = s.dir('wsgate-recw-');
    for (const [name, content, why] of [
      ['broken.yaml', 'gates: [\n', /is not valid YAML/],
      ['other.yaml', 'name: my-app\nversion: 2\n', /is not a gates file/],
    ] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      const r = await cliResult(['record', '--out', file]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, why);
      assert.equal(readFileSync(file, 'utf8'), content);
    }
  });

  test('--out never writes through a symbolic link, even a dangling one', async () => {
    const dir = s.dir('wsgate-recw-');
    const target = path.join(dir, 'elsewhere.yaml');
    const link = path.join(dir, 'gates.yaml');
    symlinkSync(target, link);
    const r = await cliResult([
      'record',
      `ws://127.0.0.1:${await closedPort()}/ws`,
      path.join(dir, 'project'),
      '--out',
      link,
    ]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /is a symbolic link/);
    assert.equal(existsSync(target), false, 'the link target was not created');
  });

  test('a refused connection exits 1 and writes no gate', async () => {
    const dir = s.dir('wsgate-recw-');
    const file = path.join(dir, 'gates.yaml');
    const r = await cliResult([
      'record',
      `ws://127.0.0.1:${await closedPort()}/ws`,
      path.join(dir, 'project'),
      '--out',
      file,
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /connection .* failed: REFUSED/);
    assert.throws(() => readFileSync(file), /ENOENT/);
  });

  test('--help, the main usage and bad options', async () => {
    const help = await cliResult(['record', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: wsgate record \[URL\] \[PATH\]/);
    assert.equal(help.stdout, RECORD_HELP + '\n');
    assertHelpLists(RECORD_FLAGS, RECORD_HELP);
    const main = await cliResult(['help']);
    assert.match(main.stdout, /wsgate record \[URL\] \[PATH\]/);
    for (const [args, why] of [
      [['--idle', 'soon'], /--idle expects a duration/],
      [['ftp://host/ws'], /URL must start with ws:\/\//],
      [['--gate', 'a', '--gate', 'b'], /several only with --from/],
      [['--frm', 'x'], /^wsgate: unknown option '--frm' \(did you mean --from\?\)$/],
      [['--out='], /^wsgate: --out needs a value$/],
      [['--from', 'x', 'ws://127.0.0.1:9/ws'], /give no URL or PATH with it/],
    ] as const) {
      assertRefused(await cliResult(['record', ...args]), why, RECORD_USAGE);
    }
  });
});
