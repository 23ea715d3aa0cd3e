// The gates loader against a corpus of broken gates files (test/fixtures/bad-gates/, one kind of
// mistake each) and of valid ones (test/fixtures/good-gates/ and the shipped gates.yaml).
// Every bad file is pinned to the LINE:COL and the message of its first problem; a handful go
// through the real CLI to prove exit code 2, the `FILE:LINE:COL: message` lines, no stack trace
// and that nothing ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGatesFile, loadGatesText, MAX_GATES_BYTES, type LoadResult } from '../lib/gates/load.ts';
import { formatError, type HarnessError } from '../lib/errors.ts';
import { MATCHER_KEYS, FORMATS } from '../lib/gates/common-schema.ts';
import { STEP_KINDS } from '../steps/index.ts';
import { cliResult } from './helpers/cli.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BAD = path.join(ROOT, 'test', 'fixtures', 'bad-gates');
const GOOD = path.join(ROOT, 'test', 'fixtures', 'good-gates');
const DEFAULT_GATES = path.join(ROOT, 'gates.yaml');

interface Case {
  /** LINE:COL of the first problem (problems come in file order). */
  at: string;
  /** A piece of its message. */
  msg: string;
  /** A piece of its hint, when the hint is the point. */
  hint?: string;
  /** How many problems the loader must report (default 1). */
  count?: number;
}

const CASES: Record<string, Case> = {
  // YAML syntax
  'yaml-unclosed-quote.yaml': { at: '4:12', msg: 'unclosed quote', hint: 'add the closing "' },
  'yaml-bad-indentation.yaml': { at: '5:4', msg: 'bad indentation', hint: 'indentation' },
  'yaml-unclosed-flow-map.yaml': {
    at: '7:15',
    msg: 'unclosed flow map: this { has no matching }',
    hint: 'gave up at line 8',
  },
  'yaml-tab-indentation.yaml': { at: '6:1', msg: 'a tab is used for indentation', hint: 'spaces' },
  'yaml-bracket-key-in-flow-map.yaml': {
    at: '7:43',
    msg: 'the key payload[0].message needs quotes inside a flow map',
    hint: 'write "payload[0].message": …',
  },
  'yaml-duplicate-key.yaml': { at: '5:5', msg: 'duplicate key "title"', hint: 'already set at line 4' },
  // unknown step kind and keys, with "did you mean"
  'unknown-step-kind.yaml': { at: '7:9', msg: 'unknown step kind "sned"', hint: 'did you mean "send"?' },
  'unknown-key-top.yaml': {
    at: '2:1',
    msg: 'unknown key "defualts" in the top level',
    hint: 'did you mean "defaults"?',
  },
  'unknown-key-defaults.yaml': { at: '3:3', msg: 'unknown key "timout" in defaults', hint: 'did you mean "timeout"?' },
  'unknown-key-gate.yaml': { at: '5:5', msg: 'unknown key "serail" in gate "ping"', hint: 'did you mean "serial"?' },
  'unknown-key-step.yaml': { at: '9:9', msg: 'unknown key "forbidd"', hint: 'did you mean "forbid"?' },
  'unknown-key-expectation.yaml': { at: '10:13', msg: 'unknown key "mach" in expect.0', hint: 'did you mean "match"?' },
  'unknown-key-matcher.yaml': {
    at: '11:22',
    msg: 'unknown key "formt" in expect.0.match.time',
    hint: 'did you mean "format"?',
  },
  // wrong types
  'wrong-type-timeout.yaml': { at: '3:12', msg: 'timeout: expected number or string, got boolean true' },
  'wrong-type-steps-string.yaml': { at: '5:12', msg: 'steps must be a non-empty list' },
  'wrong-type-gates-map.yaml': { at: '3:3', msg: 'gates must be a list, got a map' },
  'wrong-type-step-list.yaml': {
    at: '7:9',
    msg: 'a step is a map such as {send: ...}, got a list',
    hint: 'step kinds: connect, send',
  },
  'file-is-list.yaml': { at: '1:1', msg: 'a gates file is a map with version and gates, got a list' },
  // missing required fields
  'missing-gate-id.yaml': { at: '3:5', msg: 'gate #1 has no id' },
  'missing-gate-title.yaml': { at: '3:5', msg: 'gate #1 has no title' },
  'missing-gate-steps.yaml': { at: '3:5', msg: 'gate #1 has no steps' },
  'missing-verify-file.yaml': { at: '6:17', msg: 'missing required verify.file' },
  'missing-version.yaml': { at: '1:1', msg: 'missing `version: 1`' },
  'missing-gates.yaml': { at: '1:1', msg: 'missing `gates:`' },
  // variables
  'unknown-variable.yaml': { at: '7:32', msg: 'unknown variable ${NOPE}', hint: 'known here: URL' },
  'capture-used-too-early.yaml': {
    at: '7:46',
    msg: 'unknown variable ${sessionId}',
    hint: 'captures are usable from the next step on',
  },
  'capture-used-in-same-step.yaml': {
    at: '12:32',
    msg: 'unknown variable ${sessionId}',
    hint: 'captures are usable from the next step on',
  },
  'env-unset.yaml': {
    at: '6:44',
    msg: 'environment variable WSGATE_SURELY_UNSET is not set',
    hint: 'export WSGATE_SURELY_UNSET=',
  },
  'vars-circle.yaml': { at: '3:6', msg: 'vars: ${A} → ${B} → ${A} is a circle', hint: 'give one of them a value' },
  'vars-unknown.yaml': { at: '3:9', msg: 'vars.NOTE: unknown variable ${SUFIX}', hint: 'did you mean ${SUFFIX}?' },
  // semantic checks
  'duplicate-gate-id.yaml': { at: '7:9', msg: 'duplicate gate id "ping" (first at line 3)' },
  'invalid-regex.yaml': { at: '10:35', msg: 'invalid regex /([0-9]+/: Unterminated group' },
  'bad-start-ready-regex.yaml': {
    at: '7:22',
    msg: 'invalid regex /listening on (port/ in ready.log: Unterminated group',
  },
  'raw-send-slash.yaml': { at: '7:15', msg: 'a raw line cannot start with "/"', hint: 'slash_command' },
  'raw-send-newline.yaml': { at: '7:15', msg: 'a raw line cannot contain a newline' },
  'collect-last.yaml': { at: '10:13', msg: 'a collect expectation needs a later expectation that ends it' },
  'on-unknown-connection.yaml': {
    at: '8:13',
    msg: 'no connection named "other" is open at this point',
    hint: 'open here: main',
  },
  'distinct-across-unknown.yaml': {
    at: '10:45',
    msg: 'distinct across: no connection named "cp2" is open at this point',
    hint: 'open here: cp1',
  },
  'no-connect.yaml': {
    at: '6:9',
    msg: 'no connection named "main" is open at this point',
    hint: 'add a `connect` step',
  },
  'two-step-kinds.yaml': { at: '7:9', msg: 'one step has one kind, found connect and verify' },
  'needs-unknown.yaml': {
    at: '9:13',
    msg: 'gate "chat" needs "sesion-init", but no gate has that id',
    hint: 'did you mean "session-init"?',
  },
  'needs-circle.yaml': { at: '5:13', msg: 'needs go round in a circle: a → b → a', hint: 'remove one of these needs' },
  'needs-later.yaml': {
    at: '5:13',
    msg: 'gate "chat" needs "session-init", which comes later in the file',
    hint: 'move "session-init" above "chat"',
  },
  'group-unknown.yaml': { at: '9:14', msg: 'no group named "handshak"', hint: 'did you mean "handshake"?' },
  'group-circle.yaml': { at: '6:12', msg: 'groups use each other in a circle: a → b → a' },
  'top-key-unknown.yaml': { at: '2:1', msg: 'unknown key "handshake" in the top level', hint: 'start the key with x-' },
  'name-before-unknown-kind.yaml': { at: '8:9', msg: 'unknown step kind "sned"', hint: 'did you mean "send"?' },
  'collect-unordered.yaml': { at: '10:13', msg: 'collect needs an ordered list', hint: 'remove `unordered: true`' },
  'close-client-reason-matcher.yaml': {
    at: '7:47',
    msg: 'the reason the harness sends is a text, not a matcher',
    hint: 'by: server',
  },
  // keys the loader would accept and never check: refused, with what to write instead
  'send-forbid-no-expect.yaml': {
    at: '8:9',
    msg: 'forbid is only checked while the step waits for expectations, and this send has no expect:',
    hint: 'add `expect:` (e.g. `expect: [{none: error, for: 1s}]`',
  },
  'soak-distinct.yaml': {
    at: '11:15',
    msg: 'soak step 1: distinct compares a capture across a connection group, but a soak step runs on one connection alone',
    hint: 'remove `distinct` here',
  },
  'verify-git-empty.yaml': {
    at: '6:18',
    msg: 'verify git: {} checks nothing',
    hint: 'give at least one of clean, status, lastMessage, headMoved',
  },
  'matcher-empty.yaml': {
    at: '10:27',
    msg: 'expect.0.match.time: an empty matcher {} checks nothing (it passes even when the field is missing)',
    hint: '`{exists: true}` to require the field',
  },
  'matcher-exists-absent.yaml': {
    at: '11:44',
    msg: 'expect.0.match.time.absent: exists: true and absent: true together can never pass',
    hint: 'keep one of them',
  },
  'verify-absent-with-content.yaml': {
    at: '9:11',
    msg: 'verify file: content is never checked with exists: false',
    hint: 'remove `content`',
  },
  'http-json-and-body.yaml': {
    at: '10:11',
    msg: 'the request has both json and body; only json would be sent',
    hint: 'keep `json:` to send JSON',
  },
  'run-capture-bad-name.yaml': {
    at: '7:19',
    msg: 'capture: "node-version": a variable name is letters, digits and "_"',
    hint: 'write "node_version"',
  },
  'group-unused-bad-step.yaml': {
    at: '5:7',
    msg: 'group "handshake" step 2: unknown step kind "sned"',
    hint: 'did you mean "send"?',
  },
  'gate-tags.yaml': {
    at: '5:5',
    msg: 'unknown key "tags" in gate "ping"',
    hint: 'allowed here: id, title, steps, serial, needs',
  },
  'soak-memory-of-and-http.yaml': {
    at: '16:11',
    msg: "memory has both of (a start step's process tree) and http; with of, http is never read",
    hint: 'not both',
  },
  // values
  'empty-gates.yaml': { at: '2:8', msg: 'gates is empty: nothing to run' },
  'version-2.yaml': { at: '1:10', msg: 'unsupported version 2; this wsgate reads version 1' },
  'bad-duration.yaml': { at: '9:17', msg: 'within: a duration such as 500ms, 5s or 1m, got string "5 seconds"' },
  'bad-format-enum.yaml': { at: '10:41', msg: 'format: expected one of "uuid"|"iso-date"' },
  'bad-gate-id.yaml': { at: '3:9', msg: 'id: letters, digits' },
  'close-count-range.yaml': { at: '7:23', msg: 'close.code: Too small: expected number to be >=1000, got number 99' },
  'empty-expect.yaml': { at: '8:17', msg: 'expect must not be empty' },
  'empty-file.yaml': { at: '1:1', msg: 'the gates file is empty', hint: '`version: 1`' },
  'comments-only.yaml': { at: '1:1', msg: 'the gates file has no content (only comments)' },
  // several problems in one file: all reported, in file order
  'multi-errors-file.yaml': { at: '1:10', msg: 'unsupported version 2', count: 5 },
  'multi-errors-gate.yaml': { at: '7:9', msg: 'unknown step kind "sned"', count: 3 },
  'multi-errors-keys.yaml': { at: '5:5', msg: 'unknown key "serail"', count: 3 },
};

/** Loads with an empty environment, so `${env.X}` checks do not depend on the machine. */
function load(file: string, opts: Parameters<typeof loadGatesFile>[1] = {}): LoadResult {
  return loadGatesFile(file, { env: {}, ...opts });
}

function errorsOf(r: LoadResult, what: string): HarnessError[] {
  assert.equal(r.ok, false, `${what} should not load`);
  return (r as { ok: false; errors: HarnessError[] }).errors;
}

const locOf = (e: HarnessError) => `${e.loc?.line}:${e.loc?.col}`;

test('the bad-gates corpus: at least 35 files, each one in the table and each table row a file', () => {
  const files = readdirSync(BAD)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  assert.ok(files.length >= 35, `only ${files.length} files in ${BAD}`);
  assert.deepEqual(files, Object.keys(CASES).sort());
});

for (const [name, c] of Object.entries(CASES)) {
  test(`bad-gates/${name}: ${c.at} ${c.msg}`, () => {
    const errors = errorsOf(load(path.join(BAD, name)), name);
    const shown = errors.map(formatError).join('\n');
    assert.equal(errors.length, c.count ?? 1, `problem count for ${name}:\n${shown}`);
    const first = errors[0]!;
    assert.equal(locOf(first), c.at, `position of the first problem in ${name}:\n${shown}`);
    assert.ok(first.title.includes(c.msg), `message for ${name}: wanted "${c.msg}" in:\n${shown}`);
    if (c.hint !== undefined)
      assert.ok(first.hint?.includes(c.hint), `hint for ${name}: wanted "${c.hint}" in:\n${shown}`);
    const lines = readFileSync(path.join(BAD, name), 'utf8').split('\n').length;
    for (const e of errors) {
      assert.equal(path.basename(e.loc!.file), name);
      assert.ok(
        e.loc!.line >= 1 && e.loc!.line <= lines && e.loc!.col >= 1,
        `${formatError(e)} points outside the file`,
      );
    }
    // In file order, so the CLI output reads top to bottom.
    const order = errors.map((e) => e.loc!.line * 10_000 + e.loc!.col);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `problems of ${name} are not in file order:\n${shown}`,
    );
  });
}

test('a file with several problems reports each of them, not just the first', () => {
  const file = errorsOf(load(path.join(BAD, 'multi-errors-file.yaml')), 'multi-errors-file');
  assert.deepEqual(
    file.map((e) => [locOf(e), e.code]),
    [
      ['1:10', 'SCHEMA'],
      ['2:1', 'UNKNOWN_KEY'],
      ['8:9', 'DUPLICATE_GATE'],
      ['11:17', 'SCHEMA'],
      ['12:5', 'SCHEMA'],
    ],
  );
  const gate = errorsOf(load(path.join(BAD, 'multi-errors-gate.yaml')), 'multi-errors-gate');
  assert.deepEqual(
    gate.map((e) => [locOf(e), e.code]),
    [
      ['7:9', 'UNKNOWN_STEP'],
      ['9:51', 'SCHEMA'],
      ['10:17', 'SCHEMA'],
    ],
  );
  assert.match(gate[1]!.title, /format: expected one of .*got string "guid"/);
  assert.match(gate[2]!.title, /within: a duration/);
  const keys = errorsOf(load(path.join(BAD, 'multi-errors-keys.yaml')), 'multi-errors-keys');
  assert.deepEqual(
    keys.map((e) => e.hint),
    ['did you mean "serial"?', 'did you mean "match"?', 'did you mean "forbid"?'],
  );
});

test('a problem about the environment or a variable goes away when the value is given', () => {
  // The checks really look at the environment and at --var names, not at the spelling of the file.
  assert.equal(load(path.join(BAD, 'env-unset.yaml'), { env: { WSGATE_SURELY_UNSET: 'token' } }).ok, true);
  assert.equal(load(path.join(BAD, 'unknown-variable.yaml'), { cliVars: { NOPE: 'x' } }).ok, true);
  // A capture is known from the step after the one that makes it.
  const fixed = readFileSync(path.join(BAD, 'capture-used-too-early.yaml'), 'utf8').split('\n');
  const swapped = [...fixed.slice(0, 6), ...fixed.slice(8, 10), ...fixed.slice(6, 8), ...fixed.slice(10)].join('\n');
  const r = loadGatesText(swapped, 'swapped.yaml', { env: {} });
  assert.equal(r.ok, true, r.ok ? '' : r.errors.map(formatError).join('\n'));
});

// Files that cannot even be read as text: made at test time, never committed.
function generatedCases(dir: string): Record<string, Case & { file: string }> {
  const folder = path.join(dir, 'folder.yaml');
  mkdirSync(folder);
  const binary = path.join(dir, 'binary.yaml');
  writeFileSync(binary, Buffer.from([0x76, 0x65, 0x72, 0x00, 0x01, 0xff, 0x00, 0x0a]));
  const huge = path.join(dir, 'huge.yaml');
  const line = '# padding padding padding padding padding padding padding padding padding padding padding\n';
  writeFileSync(huge, 'version: 1\n' + line.repeat(Math.ceil((10 * 1024 * 1024) / line.length)));
  return {
    directory: { file: folder, at: '1:1', msg: 'is a directory, not a gates file', hint: 'pass the YAML file itself' },
    binary: { file: binary, at: '1:1', msg: 'is a binary file (NUL byte at offset 3)' },
    missing: {
      file: path.join(dir, 'no-such-gates.yaml'),
      at: '1:1',
      msg: 'gates file not found',
      hint: '--gates FILE',
    },
    huge: { file: huge, at: '1:1', msg: `gates file is 10.0 MB; the limit is ${MAX_GATES_BYTES / 1048576} MB` },
  };
}

test('a directory, a binary file, a missing file and a 10 MB file are refused before parsing', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-bad-'));
  try {
    for (const [what, c] of Object.entries(generatedCases(dir))) {
      const errors = errorsOf(load(c.file), what);
      assert.equal(errors.length, 1, `${what}: ${errors.map(formatError).join('\n')}`);
      assert.equal(errors[0]!.code, 'GATES_FILE');
      assert.equal(locOf(errors[0]!), c.at);
      assert.ok(errors[0]!.title.includes(c.msg), `${what}: wanted "${c.msg}" in "${errors[0]!.title}"`);
      if (c.hint) assert.ok(errors[0]!.hint?.includes(c.hint), `${what}: hint "${errors[0]!.hint}"`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- the real CLI ----

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The unset variable must be unset in the child too.
const cli = (args: string[]): Promise<CliResult> => cliResult(args, { env: { WSGATE_SURELY_UNSET: undefined } });

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

/** Checks the CLI's output for a gates file the loader refuses; returns the problem lines. */
function assertRefused(r: CliResult, file: string, c: Case, what: string): string[] {
  const out = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 2, `${what}: ${out}`);
  assert.equal(r.stdout, '', `${what}: nothing may run, but stdout has output: ${out}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: stack trace in ${out}`);
  assert.doesNotMatch(r.stderr, /internal error|Error:/, `${what}: ${out}`);
  const lines = r.stderr.trimEnd().split('\n');
  const summary = lines.pop()!;
  const problems: string[] = [];
  for (const l of lines) {
    if (/^ {2}hint: \S/.test(l)) continue;
    const m = /^(.+):(\d+):(\d+): (\S.*)$/.exec(l);
    assert.ok(m, `${what}: "${l}" is neither FILE:LINE:COL: message nor a hint line\n${out}`);
    assert.equal(path.resolve(ROOT, m[1]!), path.resolve(file), `${what}: file named in "${l}"`);
    problems.push(l);
  }
  assert.ok(problems.length >= 1, `${what}: no problem line in ${out}`);
  assert.ok(problems[0]!.includes(`:${c.at}: `), `${what}: first problem should be at ${c.at}: ${problems[0]}`);
  assert.ok(problems[0]!.includes(c.msg), `${what}: first problem should mention "${c.msg}": ${problems[0]}`);
  assert.equal(problems.length, c.count ?? 1, `${what}: ${out}`);
  assert.match(
    summary,
    new RegExp(`^wsgate: ${problems.length} problems? in .+; nothing was run$`),
    `${what}: summary line ${out}`,
  );
  return problems;
}

test('the real CLI: bad gates files exit 2 with FILE:LINE:COL lines, no stack trace, nothing run', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-bad-cli-'));
  try {
    const project = path.join(dir, 'project-never-made');
    const runs: { what: string; file: string; c: Case }[] = [
      ...['yaml-unclosed-quote.yaml', 'unknown-step-kind.yaml', 'env-unset.yaml', 'multi-errors-file.yaml'].map(
        (n) => ({ what: n, file: path.join(BAD, n), c: CASES[n]! }),
      ),
      ...Object.entries(generatedCases(dir)).map(([what, c]) => ({ what, file: c.file, c })),
    ];
    // A URL and a PATH are given: had anything run, wscat would have spawned and the project folder would exist.
    const results = await inBatches(runs, 4, (r) => cli(['run', 'ws://127.0.0.1:9', project, '--gates', r.file]));
    runs.forEach((r, i) => assertRefused(results[i]!, r.file, r.c, r.what));
    // Hints come out under their problem.
    const kind = results[runs.findIndex((r) => r.what === 'unknown-step-kind.yaml')]!;
    assert.match(
      kind.stderr,
      /unknown-step-kind\.yaml:7:9: gate "ping" step 2: unknown step kind "sned"\n {2}hint: did you mean "send"\?\n/,
    );
    assert.equal(existsSync(project), false, 'the project folder was prepared although the gates file is bad');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- valid files ----

function goodFiles(): string[] {
  return [
    DEFAULT_GATES,
    ...readdirSync(GOOD)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => path.join(GOOD, f)),
  ];
}

test('good-gates and the shipped gates.yaml load with no problems', () => {
  const files = goodFiles();
  assert.ok(files.length >= 3, `good files: ${files.join(', ')}`);
  for (const f of files) {
    const r = load(f);
    assert.equal(r.ok, true, `${f}:\n${r.ok ? '' : r.errors.map(formatError).join('\n')}`);
    if (!r.ok) continue;
    assert.ok(r.gates.gates.length >= 1);
    for (const g of r.gates.gates) {
      assert.ok(g.steps.length >= 1, `${f}: gate ${g.id} has no steps`);
      for (const s of g.steps) {
        assert.ok(s.label.length > 0);
        assert.ok(s.loc.line >= 1 && s.loc.col >= 1);
      }
    }
  }
});

test('together the valid files use every step kind, every matcher key and every format', () => {
  const kinds = new Set<string>();
  const keys = new Set<string>();
  const strings = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') strings.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        keys.add(k);
        walk(x);
      }
  };
  for (const f of goodFiles()) {
    const r = load(f);
    assert.ok(r.ok, f);
    for (const g of r.gates.gates)
      for (const s of g.steps) {
        kinds.add(s.kind);
        walk(s.params);
      }
  }
  assert.deepEqual(
    [...STEP_KINDS].filter((k) => !kinds.has(k)),
    [],
    'step kinds no valid file uses',
  );
  assert.deepEqual(
    MATCHER_KEYS.filter((k) => !keys.has(k)),
    [],
    'matcher keys no valid file uses',
  );
  assert.deepEqual(
    FORMATS.filter((f) => !strings.has(f)),
    [],
    'formats no valid file uses',
  );
  for (const k of ['collect', 'raw', 'into', 'where', 'capture', 'optional', 'distinct', 'forbid', 'budget'])
    assert.ok(keys.has(k), `no valid file uses ${k}`);
});

test('a valid file keeps its defaults, vars and step positions', () => {
  const r = load(path.join(GOOD, 'all-steps.yaml'));
  assert.ok(r.ok);
  assert.deepEqual(
    r.gates.defaults,
    { timeoutMs: 3000, typeField: 'type', nonJson: 'ignore' },
    'a typeField the file sets is kept, even the default one',
  );
  assert.deepEqual(r.gates.vars, { GREETING: 'hello', RETRIES: 3, STRICT: true });
  const boot = r.gates.gates.find((g) => g.id === 'boot')!;
  assert.equal(boot.serial, true);
  assert.deepEqual(
    boot.steps.map((s) => s.kind),
    ['start', 'start', 'start', 'http', 'http', 'http', 'manual'],
  );
  assert.equal(locOf({ code: 'SCHEMA', title: '', loc: boot.steps[0]!.loc }), '18:9');
  assert.equal(boot.steps[6]!.label, 'operator check');
  // Left out, typeField stays unset: the run then reads kinds by the protocol file's rules.
  const bare = loadGatesText(
    'version: 1\nprotocol: wsgate:jsonrpc\ngates:\n  - id: a\n    title: a\n    steps:\n      - connect: main\n',
    'bare.yaml',
    { env: {} },
  );
  assert.ok(bare.ok, JSON.stringify(!bare.ok && bare.errors));
  assert.deepEqual(bare.gates.defaults, { timeoutMs: 5000, nonJson: 'fail' });
  assert.match(bare.gates.protocol ?? '', /protocol[\\/]jsonrpc\.asyncapi\.yaml$/);
});

test("groups: a gate's use steps expand in place, and a group step's location is in groups:", () => {
  const r = load(path.join(GOOD, 'groups-and-anchors.yaml'));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const [a, b] = r.gates.gates;
  assert.deepEqual(
    a!.steps.map((s) => s.kind),
    ['connect', 'send', 'send'],
  );
  assert.deepEqual(
    b!.steps.map((s) => s.kind),
    ['connect', 'send', 'send', 'close'],
  );
  assert.equal(a!.steps[1]!.loc.line, 9, 'the init step is where the group writes it (its anchor merged)');
  assert.deepEqual((a!.steps[1]!.params as { send: unknown }).send, {
    type: 'init_session',
    projectPath: '${PROJECT}',
  });
});

// ---- keys that would be accepted and never checked ----

/** A one-gate file whose steps are `steps` (YAML lines at 6 spaces), after a connect: line 7 is the first of them. */
function gateWith(steps: string, head = ''): string {
  return `version: 1\n${head}gates:\n  - id: g\n    title: g\n    steps:\n      - connect: main\n${steps}`;
}

function problems(text: string): string[] {
  const r = loadGatesText(text, 'x.yaml', { env: {} });
  return r.ok ? [] : r.errors.map((e) => `${locOf(e)} ${e.title}${e.hint ? ` | ${e.hint}` : ''}`);
}

test('a send with forbid, budget, within or distinct but no expect: is refused at that key; with expect: it loads', () => {
  for (const [key, value] of [
    ['forbid', '[error]'],
    ['budget', '50ms'],
    ['within', '2s'],
    ['distinct', '[sid]'],
  ]) {
    const got = problems(gateWith(`      - send: {type: ping}\n        ${key}: ${value}\n`));
    assert.equal(got.length, 1, got.join('\n'));
    assert.match(
      got[0]!,
      new RegExp(
        `^8:9 gate "g" step 2: ${key} is only checked while the step waits for expectations, and this send has no expect: \\| add \`expect:\``,
      ),
    );
    assert.deepEqual(
      problems(
        gateWith(`      - send: {type: ping}\n        expect: [{none: error, for: 1s}]\n        ${key}: ${value}\n`),
      ),
      [],
    );
  }
  // Inside a soak too, where the same send code runs.
  const soak = problems(
    'version: 1\ngates:\n  - id: g\n    title: g\n    steps:\n      - soak:\n          rounds: 1\n          steps:\n            - send: {type: ping}\n              within: 1s\n',
  );
  assert.deepEqual(
    soak.map((p) => p.split(' | ')[0]),
    [
      '10:15 gate "g" step 1: soak step 1: within is only checked while the step waits for expectations, and this send has no expect:',
    ],
  );
});

test('an empty matcher is refused wherever a matcher stands; a matcher with a key loads', () => {
  const cases: [string, string][] = [
    [
      '      - send: {type: ping}\n        expect: [{type: pong, match: {n: {not: {}}}}]\n',
      '8:48 gate "g" step 2 (send): expect.0.match.n.not: an empty matcher {}',
    ],
    [
      '      - send: {type: ping}\n        expect: [{type: pong, match: {list: {length: {}}}}]\n',
      '8:54 gate "g" step 2 (send): expect.0.match.list.length: an empty matcher {}',
    ],
    ['      - run: echo hi\n        stdout: {}\n', '8:17 gate "g" step 2 (run): stdout: an empty matcher {}'],
    [
      '      - http: GET ${HTTP_URL}/health\n        json: {status: {}}\n',
      '8:24 gate "g" step 2 (http): json.status: an empty matcher {}',
    ],
  ];
  for (const [steps, want] of cases) {
    const got = problems(gateWith(steps));
    assert.equal(got.length, 1, got.join('\n'));
    assert.ok(got[0]!.startsWith(want), `${got[0]}\nwanted: ${want}`);
    assert.ok(got[0]!.includes('| write `{exists: true}` to require the field'), got[0]);
  }
  assert.deepEqual(problems(gateWith('      - run: echo hi\n        stdout: {exists: true}\n')), []);
  assert.deepEqual(problems(gateWith('      - run: echo hi\n        stdout: {exists: false, absent: true}\n')), []);
});

test('verify: git needs a check; exists: false refuses each key it would leave unread', () => {
  assert.deepEqual(problems(gateWith('      - verify: {git: {clean: true}}\n')), []);
  for (const [key, value] of [
    ['content', 'hi'],
    ['json', '{a: 1}'],
    ['sha256', 'a'.repeat(64)],
    ['changed', 'true'],
  ]) {
    const got = problems(
      gateWith(`      - verify:\n          file: gone.txt\n          exists: false\n          ${key}: ${value}\n`),
    );
    assert.equal(got.length, 1, got.join('\n'));
    assert.ok(
      got[0]!.startsWith(`10:11 gate "g" step 2: verify file: ${key} is never checked with exists: false`),
      got[0],
    );
    assert.ok(got[0]!.includes(`| remove \`${key}\``), got[0]);
  }
  assert.deepEqual(problems(gateWith('      - verify: {file: gone.txt, exists: false}\n')), []);
});

test('http: a request with json alone or body alone loads; run.capture names are variable names', () => {
  assert.deepEqual(
    problems(
      gateWith(
        '      - http: {method: POST, url: "${HTTP_URL}/x", json: {a: 1}}\n      - http: {method: POST, url: "${HTTP_URL}/x", body: "a=1"}\n',
      ),
    ),
    [],
  );
  assert.deepEqual(
    problems(gateWith('      - run: node --version\n        capture: {node_version: stdout, _code: exitCode}\n')),
    [],
  );
  assert.deepEqual(problems(gateWith('      - run: node --version\n        capture: {1st: stdout}\n')), [
    '8:19 gate "g" step 2 (run): capture: "1st": a variable name is letters, digits and "_", not starting with a digit | ${1st} could never be substituted: write "_1st"',
  ]);
});

test('soak memory: of with field is refused like of with http', () => {
  const got = problems(
    'version: 1\ngates:\n  - id: g\n    title: g\n    steps:\n      - soak:\n          rounds: 1\n          steps: [{send: {type: ping}, expect: [{type: pong}]}]\n        memory: {of: srv, field: rss, maxGrowth: 10}\n',
  );
  assert.equal(got.length, 1, got.join('\n'));
  assert.ok(
    got[0]!.startsWith(
      '9:27 gate "g" step 1: memory has both of (a start step\'s process tree) and field; with of, field is never read',
    ),
    got[0],
  );
});

test("groups no gate uses: their steps are checked where they are written, each once, without a gate's context", () => {
  const groups = (body: string) => problems(gateWith('', `groups:\n${body}`));
  // A bad key, a wait key with nothing to wait for, an unknown group: each reported once, in the group.
  assert.deepEqual(
    groups('  a:\n    - send: {type: ping}\n      forbidd: [error]\n  b:\n    - use: a\n    - use: nope\n').map(
      (p) => p.split(' | ')[0],
    ),
    ['5:7 group "a" step 1 (send): unknown key "forbidd"', '8:12 no group named "nope"'],
  );
  // Variables and connections come from the gate that will use the group: not checked here.
  assert.deepEqual(
    groups('  chat:\n    - send: {type: message, sessionId: "${sid}"}\n      on: other\n      expect: [{type: ack}]\n'),
    [],
  );
  // A circle of unused groups is one problem.
  assert.deepEqual(
    groups('  a:\n    - use: b\n  b:\n    - use: a\n').map((p) => p.split(' | ')[0]),
    ['6:12 groups use each other in a circle: a → b → a'],
  );
  // A group some gate uses is checked there, not twice.
  const used = problems(
    'version: 1\ngroups:\n  hs:\n    - connect: main\n    - sned: {type: ping}\ngates:\n  - id: g\n    title: g\n    steps:\n      - use: hs\n',
  );
  assert.deepEqual(
    used.map((p) => p.split(' | ')[0]),
    ['5:7 gate "g" step 2: unknown step kind "sned"'],
  );
});

test('gates[].tags is refused: nothing reads it', () => {
  assert.deepEqual(
    problems('version: 1\ngates:\n  - id: g\n    title: g\n    tags: [smoke]\n    steps:\n      - connect: main\n').map(
      (p) => p.split(' | ')[0],
    ),
    ['5:5 unknown key "tags" in gate "g"'],
  );
});
