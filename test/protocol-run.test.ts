// Protocol checks in real runs: violations in each direction fail the step they happen in and name
// the message, field and rule; --lenient keeps them as warnings; coverage counts what a run exercised.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startReferenceServer } from '../reference-server/index.ts';
import { runCli, scratch, readResult, ROOT, SHARED_MACHINE } from './helpers/cli.ts';

const scr = scratch(after);
const tmp = () => scr.dir();
const fixture = (name: string) => path.join(ROOT, 'test', 'fixtures', 'protocol', name);

describe('protocol checks in runs', { concurrency: true }, () => {
  test('a violation in each direction is a failed check naming message, field and rule; --lenient warns', async () => {
    const server = await startReferenceServer({
      port: 0,
      root: tmp(),
      dataDir: tmp(),
      faults: ['bad-session-id'],
      allowAnyProject: true,
    });
    scr.server(server);
    const out = path.join(tmp(), 'ev');
    const r = await runCli([server.url, tmp(), '--gates', fixture('violations.gates.yaml'), '--out', out]);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const res = readResult(out);
    const failed = (gate: string) =>
      res.gates
        .find((g) => g.id === gate)!
        .steps.flatMap((s) => s.checks.filter((c) => !c.passed).map((c) => `${s.label} | ${String(c.actual)}`));
    assert.ok(
      failed('outgoing').some((c) => c.startsWith('send init_session | init_session.projectPath: must be string')),
      failed('outgoing').join('\n'),
    );
    assert.ok(
      failed('incoming').some((c) =>
        c.startsWith('send init_session | session_initialized.sessionId: must match format "uuid"'),
      ),
      failed('incoming').join('\n'),
    );
    assert.match(r.stdout, /session_initialized\.sessionId: must match format "uuid"/);

    const lenientOut = path.join(tmp(), 'ev');
    const lenient = await runCli([
      server.url,
      tmp(),
      '--gates',
      fixture('violations.gates.yaml'),
      '--lenient',
      '--out',
      lenientOut,
    ]);
    assert.equal(lenient.exitCode, 0, lenient.stdout);
    const warnings = readResult(lenientOut).gates.flatMap((g) =>
      g.steps.flatMap((s) => s.checks.filter((c) => c.warning)),
    );
    assert.ok(warnings.length >= 2, 'both violations are kept as warnings');
    assert.match(lenient.stdout, /! .*follows the protocol/);
  });

  test('coverage of a gates file written to exercise half the tools and slash commands', async () => {
    const out = path.join(tmp(), 'ev');
    const r = await runCli(['--gates', fixture('half.gates.yaml'), '--out', out]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const cov = readResult(out).coverage!;
    assert.deepEqual(cov.percent, { messages: 52.6, tools: 50, slashCommands: 50, overall: 51.5 });
    const seen = (list: { name?: string; type?: string; count: number }[]) =>
      list
        .filter((x) => x.count > 0)
        .map((x) => x.name ?? x.type)
        .sort();
    assert.deepEqual(seen(cov.lists.find((l) => l.key === 'tools')!.items), [
      'execute_command',
      'git_status',
      'list_files',
      'read_file',
      'write_file',
    ]);
    assert.deepEqual(seen(cov.lists.find((l) => l.key === 'slashCommands')!.items), ['/help', '/status']);
    const req = await runCli([
      '--gates',
      fixture('half.gates.yaml'),
      '--require-coverage',
      '60',
      '--out',
      path.join(tmp(), 'ev'),
    ]);
    assert.equal(req.exitCode, 1);
    assert.match(req.stdout, /protocol coverage 51\.5% is below --require-coverage 60%/);
  });

  test('the default gates reach 100 % of the shipped protocol', async () => {
    const out = path.join(tmp(), 'ev');
    const r = await runCli(['--require-coverage', '100', ...SHARED_MACHINE, '--out', out]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(readResult(out).coverage!.percent.overall, 100);
  });

  test('a protocol file that does not load stops the run before it starts (exit 2)', async () => {
    const dir = tmp();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'p.yaml'), 'asyncapi: 3.0.0\ninfo: {title: x, version: "1"}\nchannels: [oops\n');
    writeFileSync(
      path.join(dir, 'g.yaml'),
      'version: 1\nprotocol: p.yaml\ngates:\n  - id: a\n    title: a\n    steps:\n      - connect: main\n',
    );
    const r = await runCli(['--gates', path.join(dir, 'g.yaml'), tmp()]);
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /p\.yaml:\d+:\d+: /);
  });
  test('a protocol file that does not load is a usage error that leaves nothing behind, with or without PATH', async () => {
    const dir = tmp();
    const gates = path.join(dir, 'gates.yaml');
    writeFileSync(
      gates,
      'version: 1\nprotocol: ./missing.asyncapi.yaml\ngates:\n  - id: a\n    title: a\n    steps:\n      - connect: main\n',
    );
    // Without PATH the server and the first wscat start while the protocol compiles (a temp project);
    // with a PATH of the user's, the protocol is checked before the folder is created.
    const cwd = tmp();
    const tmpRoot = tmp();
    const noPath = await runCli(['--gates', gates], { cwd, env: { ...process.env, TMPDIR: tmpRoot } });
    assert.equal(noPath.exitCode, 2, noPath.stdout + noPath.stderr);
    assert.match(noPath.stderr, /protocol file not found/);
    assert.deepEqual(readdirSync(cwd), [], 'no evidence folder');
    assert.deepEqual(readdirSync(tmpRoot), [], 'no temp project or server data left');
    const project = path.join(tmp(), 'not-yet');
    const withPath = await runCli([project, '--gates', gates], { cwd });
    assert.equal(withPath.exitCode, 2, withPath.stdout + withPath.stderr);
    assert.equal(existsSync(project), false, 'the PATH was not created');
    assert.deepEqual(readdirSync(cwd), []);
  });
});
