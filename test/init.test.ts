// wsgate init: the starter gates.yaml loads with zero errors, validates against the schema its modeline
// names, runs green against the real reference server, and an existing gates.yaml is never replaced
// without force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  initGates,
  packageFileRef,
  INIT_FLAGS,
  INIT_HELP,
  INIT_USAGE,
  SHIPPED_GATES_SCHEMA,
  SHIPPED_PROTOCOL,
} from '../lib/cli/init.ts';
import { loadGatesFile } from '../lib/gates/load.ts';
import { loadProtocol } from '../lib/protocol/index.ts';
import { cliResult } from './helpers/cli.ts';
import { assertHelpLists, assertRefused } from './helpers/flags.ts';

const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function temp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-init-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The file the `# yaml-language-server: $schema=` line of a gates file names. */
function schemaOf(file: string): string {
  const first = readFileSync(file, 'utf8').split('\n')[0]!;
  const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
  assert.ok(m, `modeline on line 1: ${first}`);
  const ref = m[1]!;
  return ref.startsWith('file:') ? fileURLToPath(ref) : path.resolve(path.dirname(file), ref);
}

test('the starter gates.yaml loads with zero errors and validates against the schema its modeline names', (t) => {
  const dir = temp(t);
  const r = initGates(dir);
  assert.deepEqual(r, { ok: true, file: path.join(dir, 'gates.yaml') });
  const file = path.join(dir, 'gates.yaml');

  const loaded = loadGatesFile(file);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors, null, 2));
  assert.deepEqual(
    loaded.gates.gates.map((g) => g.id),
    ['session'],
  );
  assert.deepEqual(
    loaded.gates.gates[0]!.steps.map((s) => s.kind),
    ['connect', 'send', 'send'],
  );
  assert.equal(loaded.gates.defaults.timeoutMs, 5000);

  const schemaFile = schemaOf(file);
  assert.equal(schemaFile, SHIPPED_GATES_SCHEMA);
  assert.ok(existsSync(schemaFile));
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
  assert.equal(validate(parse(readFileSync(file, 'utf8'))), true, JSON.stringify(validate.errors));
});

test('the commented protocol: line points at the shipped protocol, and works when uncommented', (t) => {
  const dir = temp(t);
  assert.ok(initGates(dir).ok);
  const file = path.join(dir, 'gates.yaml');
  const text = readFileSync(file, 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('# protocol: '));
  assert.ok(line, 'a commented protocol: line');
  writeFileSync(file, text.replace(line, line.slice(2)));
  const loaded = loadGatesFile(file);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors));
  // The loader resolves protocol: as a path (relative to the gates file): it must name the shipped file.
  assert.ok(loaded.gates.protocol);
  assert.equal(loaded.gates.protocol, SHIPPED_PROTOCOL);
  assert.ok(loadProtocol(loaded.gates.protocol).ok);
});

test('an existing gates.yaml is not overwritten without force, and is with it', (t) => {
  const dir = temp(t);
  const file = path.join(dir, 'gates.yaml');
  writeFileSync(file, 'mine\n');
  const r = initGates(dir);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /already exists; pass --force/);
  assert.equal(readFileSync(file, 'utf8'), 'mine\n');
  const forced = initGates(dir, { force: true });
  assert.equal(forced.ok, true);
  assert.notEqual(readFileSync(file, 'utf8'), 'mine\n');
  assert.ok(loadGatesFile(file).ok);
});

test('a missing folder is created; a file given as the folder is refused', (t) => {
  const dir = temp(t);
  const nested = path.join(dir, 'a', 'b');
  assert.equal(initGates(nested).ok, true);
  assert.ok(existsSync(path.join(nested, 'gates.yaml')));
  const plain = path.join(dir, 'plain.txt');
  writeFileSync(plain, 'x');
  const r = initGates(plain);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /is a file, not a folder/);
});

test('schema references: from a subfolder of a project, the package in its node_modules stays relative', (t) => {
  const project = mkdtempSync(path.join(os.tmpdir(), 'wsgate-init-project-'));
  t.after(() => rmSync(project, { recursive: true, force: true }));
  const schema = path.join(project, 'node_modules', 'wsgate', 'gates.schema.json');
  mkdirSync(path.dirname(schema), { recursive: true });
  writeFileSync(schema, '{}');
  mkdirSync(path.join(project, 'test', 'ws'), { recursive: true });
  assert.equal(packageFileRef(path.join(project, 'test', 'ws'), schema), '../../node_modules/wsgate/gates.schema.json');
  assert.equal(
    packageFileRef(path.join(project, 'test', 'ws'), schema, 'path'),
    '../../node_modules/wsgate/gates.schema.json',
  );
  // A sibling project's files are not "the installed package": they stay absolute.
  const other = path.join(project, 'elsewhere', 'gates.schema.json');
  assert.match(packageFileRef(path.join(project, 'test'), other), /^file:\/\//);
});

test('schema references: relative inside the folder (a local install), a file URL outside it', (t) => {
  // wsgate inside the project (as in node_modules/wsgate): a path that works on every checkout.
  assert.equal(packageFileRef(path.dirname(ROOT), SHIPPED_GATES_SCHEMA), `./${path.basename(ROOT)}/gates.schema.json`);
  assert.equal(packageFileRef(ROOT, SHIPPED_GATES_SCHEMA), './gates.schema.json');
  // Elsewhere (a global install): this installation's file. A fresh temp folder never contains the
  // package (os.tmpdir() itself may: CI can clone into /tmp).
  const outside = mkdtempSync(path.join(os.tmpdir(), 'wsgate-init-outside-'));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  const ref = packageFileRef(outside, SHIPPED_GATES_SCHEMA);
  assert.match(ref, /^file:\/\//);
  assert.equal(fileURLToPath(ref), SHIPPED_GATES_SCHEMA);
  assert.equal(packageFileRef(outside, SHIPPED_PROTOCOL, 'path'), SHIPPED_PROTOCOL);
});

test('wsgate init: --help lists every flag of its table; a bad command line exits 2 with the usage hint and writes nothing', async (t) => {
  const dir = temp(t);
  const help = await cliResult(['init', '--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.equal(help.stdout, INIT_HELP + '\n');
  assertHelpLists(INIT_FLAGS, INIT_HELP);
  assertRefused(
    await cliResult(['init', dir, '--forse']),
    "unknown option '--forse' (did you mean --force?)",
    INIT_USAGE,
  );
  assertRefused(await cliResult(['init', dir, 'more']), 'too many arguments: more', INIT_USAGE);
  assert.equal(existsSync(path.join(dir, 'gates.yaml')), false);
});
