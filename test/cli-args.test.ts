// `wsgate run` command lines: parseRunArgs in-process for the whole table, and a few through the
// real CLI (a child process, CI=true, no stdin) for the exit code and what the user sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRunArgs, RUN_FLAGS, RUN_HELP, RUN_USAGE, type RunArgs } from '../lib/cli/args.ts';
import { EXIT, HarnessFailure, formatError } from '../lib/errors.ts';
import { cliResult } from './helpers/cli.ts';
import { assertHelpLists } from './helpers/flags.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE_LINE = RUN_USAGE.replace(/^usage: /, '');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function refused(argv: string[]): HarnessFailure {
  try {
    const r = parseRunArgs(argv, {}, false);
    assert.fail(`${JSON.stringify(argv)} was accepted: ${JSON.stringify(r)}`);
  } catch (e) {
    if (!(e instanceof HarnessFailure)) throw e;
    return e;
  }
}

const parse = (argv: string[]): RunArgs => parseRunArgs(argv, {}, false);

/** argv → a piece of the one-line message. */
const BAD: [string[], string][] = [
  [['--nope'], "unknown option '--nope'"],
  [['--gatess', 'x.yaml'], "unknown option '--gatess' (did you mean --gates?)"],
  [['-x'], "unknown option '-x'"],
  [['--gates'], '--gates needs a value'],
  [['--list', '--gates'], '--gates needs a value'],
  [['--gate'], '--gate needs a value'],
  [['--gates', '--list'], '--gates needs a value, but the next argument "--list" starts with "-"'],
  [['--gates', ''], '--gates needs a value'],
  [['--list=yes'], '--list takes no value'],
  [['http://x'], 'URL must start with ws:// or wss://, got "http://x"'],
  [['https://example.com/ws', 'proj'], 'URL must start with ws:// or wss://'],
  [['ws:/localhost:1'], 'URL must start with ws:// or wss://, got "ws:/localhost:1"'],
  [['localhost:8080'], 'give the URL as ws://localhost:8080'],
  [['ws://'], 'not a valid URL: "ws://"'],
  [['proj', 'ws://h:1'], 'first argument must be a ws:// or wss:// URL when a PATH follows'],
  [['ws://h:1', 'ws://h:2'], 'PATH must be a folder, got the URL "ws://h:2"'],
  [['--timeout-scale', 'abc'], '--timeout-scale expects a positive number, got "abc"'],
  [['--timeout-scale', '0'], '--timeout-scale expects a positive number, got "0"'],
  [
    ['--timeout-scale', '-1'],
    '--timeout-scale needs a value, but the next argument "-1" starts with "-" (write --timeout-scale=-1 if it is the value)',
  ],
  [['--timeout-scale=-1'], '--timeout-scale expects a positive number, got "-1"'],
  [['--timeout-scale', 'Infinity'], '--timeout-scale expects a positive number'],
  [['--timeout-scale', ' '], '--timeout-scale expects a positive number'],
  [['--var', 'NOEQUALS'], '--var expects NAME=VALUE, got "NOEQUALS"'],
  [['--var', '=x'], '--var expects NAME=VALUE, got "=x"'],
  [['--var', '1A=x'], '--var: "1A" is not a variable name'],
  [['--secret-var', 'TOKEN'], '--secret-var expects NAME=VALUE'],
  [['--secret-var', 'PIN=42'], '--secret-var PIN: a secret must be at least 3 characters long'],
  [['--parallel', '0'], '--parallel expects a whole number of gates >= 1'],
  [['--require-coverage', '120'], '--require-coverage expects a percentage from 0 to 100'],
  [['--shard', '3/2'], '--shard expects K/N with 1 <= K <= N'],
  [['--reporter', 'junit:'], '--reporter expects NAME or NAME:FILE, got "junit:"'],
  [['a', 'b', 'c'], 'too many arguments: c'],
  [['ws://h:1', 'p', 'extra', 'more'], 'too many arguments: extra more'],
  [['--quiet', '--verbose'], '--quiet and --verbose cannot be used together'],
  [['-qv'], '--quiet and --verbose cannot be used together'],
  [[''], 'PATH is empty'],
];

for (const [argv, msg] of BAD) {
  test(`refused: wsgate run ${argv.map((a) => JSON.stringify(a)).join(' ')}`, () => {
    const e = refused(argv);
    assert.equal(e.exitCode, EXIT.usage);
    assert.equal(e.errors.length, 1);
    const err = e.errors[0]!;
    assert.equal(err.code, 'USAGE');
    assert.ok(err.title.includes(msg), `wanted "${msg}" in "${err.title}"`);
    assert.doesNotMatch(err.title, /\n/, 'a usage message is one line');
    assert.equal(err.hint, USAGE_LINE);
    assert.equal(err.loc, undefined);
    assert.equal(formatError(err), `wsgate: ${err.title}\n  hint: ${USAGE_LINE}`);
  });
}

test('no arguments: the embedded server and a temp project, default gates, console output', () => {
  const r = parse([]);
  assert.equal(r.url, undefined);
  assert.equal(r.project, undefined);
  assert.equal(r.gatesFile, undefined);
  assert.deepEqual(r.gates, []);
  assert.equal(r.timeoutScale, 1);
  assert.deepEqual(r.vars, {});
  assert.deepEqual(r.reporters, []);
  assert.equal(r.list || r.bail || r.quiet || r.verbose || r.keep || r.help || r.version || r.requireSignoff, false);
});

test('a single argument that is not a URL is the PATH', () => {
  for (const p of ['proj', './proj', '/tmp/some where', 'C:\\work\\proj', 'my-project:v2']) {
    const r = parse([p]);
    assert.equal(r.project, p);
    assert.equal(r.url, undefined);
  }
});

test('ws:// or wss:// first, then PATH', () => {
  assert.deepEqual(
    [parse(['ws://localhost:8080', 'proj']).url, parse(['ws://localhost:8080', 'proj']).project],
    ['ws://localhost:8080', 'proj'],
  );
  const r = parse(['wss://example.com/socket?x=1', '/tmp/p']);
  assert.equal(r.url, 'wss://example.com/socket?x=1');
  assert.equal(r.project, '/tmp/p');
  const only = parse(['ws://127.0.0.1:3001']);
  assert.equal(only.url, 'ws://127.0.0.1:3001');
  assert.equal(only.project, undefined);
  // Options and positionals mix in any order.
  const mixed = parse(['--list', 'ws://h:1', '--bail', 'proj']);
  assert.deepEqual([mixed.url, mixed.project, mixed.list, mixed.bail], ['ws://h:1', 'proj', true, true]);
  // After `--` a PATH may start with a dash.
  assert.equal(parse(['--', '-odd-folder']).project, '-odd-folder');
});

test('repeated --gate keeps every id, in order', () => {
  assert.deepEqual(parse(['--gate', 'ping', '--gate', 'health', '--gate=chat-stream']).gates, [
    'ping',
    'health',
    'chat-stream',
  ]);
});

test('--var A=1 --var B=x=y: a value keeps its "=", later wins, secrets are remembered', () => {
  const r = parse([
    '--var',
    'A=1',
    '--var',
    'B=x=y',
    '--var',
    'EMPTY=',
    '--var',
    'A=2',
    '--secret-var',
    'TOKEN=s3=cr=t',
  ]);
  assert.deepEqual(r.vars, { A: '2', B: 'x=y', EMPTY: '', TOKEN: 's3=cr=t' });
  assert.deepEqual(r.secrets, ['s3=cr=t']);
});

test('values: --timeout-scale, --reporter, --out, --gates, switches', () => {
  assert.equal(parse(['--timeout-scale', '2.5']).timeoutScale, 2.5);
  assert.equal(parse(['--timeout-scale=0.5']).timeoutScale, 0.5);
  assert.deepEqual(parse(['--reporter', 'junit:out/j.xml', '--reporter', 'json']).reporters, [
    { name: 'junit', file: 'out/j.xml' },
    { name: 'json' },
  ]);
  const r = parse(['--out', 'ev', '--gates', 'g.yaml', '--keep', '--require-signoff', '-q']);
  assert.deepEqual(
    [r.out, r.gatesFile, r.keep, r.requireSignoff, r.quiet, r.verbose],
    ['ev', 'g.yaml', true, true, true, false],
  );
  assert.equal(parse(['-v']).verbose, true);
});

test('--help, -h, --version, -V are flags the CLI answers before anything else', () => {
  assert.equal(parse(['--help']).help, true);
  assert.equal(parse(['-h']).help, true);
  assert.equal(parse(['--version']).version, true);
  assert.equal(parse(['-V']).version, true);
});

test('colour only on a TTY, without --no-color and NO_COLOR', () => {
  assert.equal(parseRunArgs([], {}, true).color, true);
  assert.equal(parseRunArgs([], {}, false).color, false);
  assert.equal(parseRunArgs(['--no-color'], {}, true).color, false);
  assert.equal(parseRunArgs([], { NO_COLOR: '' }, true).color, false);
});

test('the flag table is the one source: every flag once in the usage line and once in the help, with its value name', () => {
  for (const f of Object.values(RUN_FLAGS)) {
    const shown = `--${f.name}${f.value ? ` ${f.value}` : ''}`;
    assert.equal(RUN_USAGE.split(`[${shown}]`).length - 1, 1, `${shown} in the usage line`);
  }
  assertHelpLists(RUN_FLAGS, RUN_HELP);
});

// ---- the real CLI ----

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const cli = (args: string[]): Promise<CliResult> => cliResult(args);

async function inBatches<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

test('the real CLI: bad command lines exit 2 with one message and the usage hint, and run nothing', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-args-'));
  try {
    const project = path.join(dir, 'never-made');
    const cases: [string[], string][] = [
      [['run', '--nope'], "wsgate: unknown option '--nope'"],
      [['run', '--list', '--gates'], 'wsgate: --gates needs a value'],
      [['run', 'http://x', project], 'wsgate: URL must start with ws:// or wss://, got "http://x"'],
      [
        ['run', 'ws://127.0.0.1:9', project, '--timeout-scale', '-1'],
        'wsgate: --timeout-scale needs a value, but the next argument "-1" starts with "-"',
      ],
      [
        ['run', 'ws://127.0.0.1:9', project, '--quiet', '--verbose'],
        'wsgate: --quiet and --verbose cannot be used together',
      ],
      [['run', 'ws://127.0.0.1:9', project, '--var', 'NOEQUALS'], 'wsgate: --var expects NAME=VALUE, got "NOEQUALS"'],
    ];
    const results = await inBatches(cases, 4, ([argv]) => cli(argv));
    cases.forEach(([argv, first], i) => {
      const r = results[i]!;
      const what = `wsgate ${argv.join(' ')}\nexit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      assert.equal(r.code, 2, what);
      assert.equal(r.stdout, '', what);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, what);
      assert.ok(lines[0]!.startsWith(first), what);
      assert.equal(lines[1], `  hint: ${USAGE_LINE}`, what);
    });
    assert.equal(existsSync(project), false, 'a refused command line prepared the project folder');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real CLI: --help and --version exit 0; --var reaches the gates loader; PATH is not made by --list', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-args-'));
  try {
    const project = path.join(dir, 'not-made-by-list');
    const needsNope = path.join(ROOT, 'test', 'fixtures', 'bad-gates', 'unknown-variable.yaml');
    const [help, version, withVar, withoutVar, single] = await inBatches(
      [
        ['run', '--help'],
        ['--version'],
        ['run', '--list', '--gates', needsNope, '--var', 'A=1', '--var', 'NOPE=x=y'],
        ['run', '--list', '--gates', needsNope, '--var', 'A=1'],
        ['run', project, '--list', '--gate', 'ping', '--gate', 'health'],
      ],
      4,
      cli,
    );
    assert.equal(help!.code, 0, help!.stderr);
    assert.ok(help!.stdout.startsWith(`${RUN_USAGE}\n`), help!.stdout);
    assert.match(help!.stdout, /exit codes: 0 no check failed/);
    assert.equal(help!.stderr, '');
    assert.equal(version!.code, 0, version!.stderr);
    assert.match(
      version!.stdout,
      new RegExp(`^wsgate ${VERSION.replace(/\./g, '\\.')} \\(wscat \\S+, node v\\d+\\.\\d+\\.\\d+\\)\\n$`),
    );
    assert.equal(withVar!.code, 0, withVar!.stderr);
    assert.equal(withVar!.stdout, 'ping  ping\n');
    assert.equal(withoutVar!.code, 2, withoutVar!.stdout);
    assert.match(withoutVar!.stderr, /unknown-variable\.yaml:7:32: gate "ping" step 2: unknown variable \$\{NOPE\}/);
    assert.equal(single!.code, 0, single!.stderr);
    assert.match(single!.stdout, /^connection\s+Connection succeeds/m);
    assert.equal(existsSync(project), false, '--list made the project folder');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
