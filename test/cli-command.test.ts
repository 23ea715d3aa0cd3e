import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { defineCommand, exitCodeOf, type CommandContext } from '../lib/cli/command.ts';
import { HELP, list, on, text } from '../lib/cli/flags.ts';
import { HarnessFailure } from '../lib/errors.ts';

const CONTEXT: CommandContext = { defaultGatesFile: () => '/nowhere/gates.yaml' };

function demo(max?: number) {
  const seen: unknown[] = [];
  const command = defineCommand({
    name: 'demo',
    summary: 'Does a demo.',
    positionals: { usage: '[THING]', help: [['THING', 'what to demo']], ...(max !== undefined ? { max } : {}) },
    flags: {
      out: text('out', 'FILE', 'where it goes'),
      tags: list('tag', 'T', 'a tag'),
      loud: on('loud', 'shout'),
      help: HELP,
    },
    epilogue: 'exit codes: 0 done',
    run: ({ flags, positionals, context }) => {
      seen.push({ flags, positionals, gates: context.defaultGatesFile() });
      return 7;
    },
  });
  return { command, seen };
}

async function refusal(work: () => Promise<unknown>): Promise<HarnessFailure> {
  try {
    await work();
  } catch (e) {
    assert.ok(e instanceof HarnessFailure, String(e));
    return e;
  }
  assert.fail('the command line was accepted');
}

test('the usage line and help come from the declaration', () => {
  const { command } = demo(1);
  assert.equal(command.usage, 'usage: wsgate demo [THING] [--out FILE] [--tag T]... [--loud] [--help]');
  assert.equal(command.help.split('\n\n')[0], command.usage);
  assert.match(command.help, /\n\nDoes a demo\.\n\n {2}THING {15}what to demo\n {2}--out FILE {10}where it goes\n/);
  assert.ok(command.help.endsWith('\n\nexit codes: 0 done'));
});

test('run gets the flags read, the positionals and the context; its exit code is returned', async () => {
  const { command, seen } = demo(1);
  assert.equal(await command.main(['x', '--out', 'f', '--tag', 'a', '--tag', 'b'], CONTEXT), 7);
  assert.deepEqual(seen, [
    {
      flags: { out: 'f', tags: ['a', 'b'], loud: false, help: false },
      positionals: ['x'],
      gates: '/nowhere/gates.yaml',
    },
  ]);
});

test('an unknown flag, a bad value or too many arguments is a usage error (exit 2) with the usage as hint; run is not called', async () => {
  const { command, seen } = demo(1);
  const cases: [string[], string][] = [
    [['--lodu'], "unknown option '--lodu' (did you mean --loud?)"],
    [['--out='], '--out needs a value'],
    [['a', 'b', 'c'], 'too many arguments: b c'],
  ];
  for (const [argv, title] of cases) {
    const e = await refusal(() => command.main(argv, CONTEXT));
    assert.equal(e.exitCode, 2);
    assert.deepEqual(e.errors, [{ code: 'USAGE', title, hint: command.usage.replace(/^usage: /, '') }]);
  }
  const none = defineCommand({ name: 'bare', summary: 's', flags: { help: HELP }, epilogue: 'e', run: () => 0 });
  assert.equal((await refusal(() => none.main(['x'], CONTEXT))).errors[0]?.title, 'bare takes no arguments, got "x"');
  const open = demo();
  assert.equal(await open.command.main(['a', 'b', 'c'], CONTEXT), 7, 'without max, run judges the positionals');
  assert.deepEqual(seen, []);
});

test('exitCodeOf: a harness error is printed and becomes its exit code, any other error is an internal error (exit 3)', async () => {
  let said = '';
  const stderr = new Writable({
    write(chunk, _encoding, done) {
      said += String(chunk);
      done();
    },
  });
  assert.equal(await exitCodeOf(() => 5, stderr), 5);
  assert.equal(said, '');
  assert.equal(
    await exitCodeOf(
      () => Promise.reject(new HarnessFailure([{ code: 'USAGE', title: 'no', hint: 'try yes' }], 2)),
      stderr,
    ),
    2,
  );
  assert.equal(said, 'wsgate: no\n  hint: try yes\n');
  const bug = () => {
    throw new Error('a bug');
  };
  assert.equal(await exitCodeOf(bug, stderr), 3);
  assert.match(said, /wsgate: internal error: Error: a bug\n {4}at /);
});
