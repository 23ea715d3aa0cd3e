// gates.schema.json, the JSON Schema editors use for gates.yaml, against the loader it is generated
// for: the committed file is exactly what scripts/build-gates-schema.ts writes now, and ajv (draft
// 2020-12) with it gives the same verdict as loadGatesFile on the default gates file, the good corpus,
// any examples, and the bad corpus, except for the mistakes a JSON Schema cannot see (the allow-list).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { loadGatesFile } from '../lib/gates/load.ts';
import type { HarnessError } from '../lib/errors.ts';
import { GATES_SCHEMA_FILE, renderGatesSchema } from '../scripts/build-gates-schema.ts';

const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BAD = path.join(ROOT, 'test', 'fixtures', 'bad-gates');
const GOOD = path.join(ROOT, 'test', 'fixtures', 'good-gates');
const DEFAULT_GATES = path.join(ROOT, 'gates.yaml');
const EXAMPLE_DIRS = [path.join(ROOT, 'examples'), path.join(ROOT, 'docs', 'examples')];

/**
 * Mistakes a JSON Schema of one file cannot see, by kind. Each predicate says which loader errors
 * belong to the kind; a fixture on the allow-list must fail the loader with errors of its kind only.
 */
const SCHEMA_BLIND: Record<string, (e: HarnessError) => boolean> = {
  // The file is not YAML at all (or has a duplicate key / tab): there is no data for a schema to check.
  yaml: (e) => e.code === 'YAML_SYNTAX',
  // ${NAME} must be defined by vars:, --var, a builtin or an earlier capture; ${env.X} must be set.
  // Depends on the order of steps and on the environment, not on the shape.
  variable: (e) => e.code === 'UNKNOWN_VARIABLE',
  // A regex that is a string but does not compile.
  regex: (e) => e.code === 'BAD_REGEX',
  // Unique gate ids across a list of objects (JSON Schema's uniqueItems compares whole items).
  'duplicate-id': (e) => e.code === 'DUPLICATE_GATE',
  // A connection name used before any earlier step opened it: depends on step order.
  connection: (e) => e.code === 'SCHEMA' && /no connection named ".*" is open at this point/.test(e.title),
  // wscat reads a line starting with "/" as its own slash command. The send step's zod schema
  // (steps/send.ts) leaves this to the loader's semantic checks, so the generated schema does not
  // have it; a `pattern` could express it, if steps/send.ts moved the rule into zod.
  'raw-send': (e) => e.code === 'SCHEMA' && /a raw line cannot (start with "\/"|contain a newline)/.test(e.title),
  // A collect expectation must be followed by one that ends it: "the last item of a list is not X".
  'collect-last': (e) => e.code === 'SCHEMA' && /a collect expectation needs a later expectation/.test(e.title),
  // Combinations of keys that mean nothing together (collect in an unordered list, a matcher as the
  // reason the harness sends): a JSON Schema could say some with if/then, zod's refinements do not export.
  // A gate id named in needs: (earlier in the file) or a group named by use: must exist: cross-references.
  needs: (e) => e.code === 'SCHEMA' && / needs |needs go round|no group named|groups use each other/.test(e.title),
  // So are keys that would be accepted and never read: a send's wait keys without expect:, distinct in a
  // soak, what exists: false leaves unread, a request's second body, soak memory read two ways.
  combination: (e) =>
    e.code === 'SCHEMA' &&
    /collect needs an ordered list|the reason the harness sends is a text|is only checked while the step waits for expectations|soak step \d+: distinct compares|is never checked with exists: false|has both json and body|memory has both of/.test(
      e.title,
    ),
};

/** Bad-corpus files whose mistake is schema-blind, each with its kind. */
const ALLOW_LIST: Record<string, keyof typeof SCHEMA_BLIND> = {
  'yaml-bad-indentation.yaml': 'yaml',
  'yaml-bracket-key-in-flow-map.yaml': 'yaml',
  'yaml-duplicate-key.yaml': 'yaml',
  'yaml-tab-indentation.yaml': 'yaml',
  'yaml-unclosed-flow-map.yaml': 'yaml',
  'yaml-unclosed-quote.yaml': 'yaml',
  'unknown-variable.yaml': 'variable',
  'capture-used-in-same-step.yaml': 'variable',
  'capture-used-too-early.yaml': 'variable',
  'env-unset.yaml': 'variable',
  'invalid-regex.yaml': 'regex',
  'bad-start-ready-regex.yaml': 'regex',
  'duplicate-gate-id.yaml': 'duplicate-id',
  'no-connect.yaml': 'connection',
  'on-unknown-connection.yaml': 'connection',
  'distinct-across-unknown.yaml': 'connection',
  'raw-send-slash.yaml': 'raw-send',
  'raw-send-newline.yaml': 'raw-send',
  'collect-last.yaml': 'collect-last',
  'collect-unordered.yaml': 'combination',
  'close-client-reason-matcher.yaml': 'combination',
  'send-forbid-no-expect.yaml': 'combination',
  'soak-distinct.yaml': 'combination',
  'verify-absent-with-content.yaml': 'combination',
  'http-json-and-body.yaml': 'combination',
  'soak-memory-of-and-http.yaml': 'combination',
  'vars-circle.yaml': 'variable',
  'needs-unknown.yaml': 'needs',
  'group-unknown.yaml': 'needs',
  'group-circle.yaml': 'needs',
  'needs-circle.yaml': 'needs',
  'needs-later.yaml': 'needs',
  'vars-unknown.yaml': 'variable',
};

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

function schemaValidator() {
  // Strict, so an unknown keyword or format in the generated schema fails here rather than in an editor;
  // type unions (`type: [string, number]`) are plain JSON Schema.
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(GATES_SCHEMA_FILE, 'utf8')) as object);
}

type Verdict = { parsed: false } | { parsed: true; valid: boolean; errors: string };

function schemaVerdict(validate: ReturnType<typeof schemaValidator>, file: string): Verdict {
  // The same YAML reading as the loader (unique keys, strict), so a file the loader cannot read as YAML
  // gives the schema nothing to check either.
  const doc = parseDocument(readFileSync(file, 'utf8'), {
    uniqueKeys: true,
    strict: true,
    logLevel: 'error',
    merge: true,
  });
  if (doc.errors.length) return { parsed: false };
  const valid = validate(doc.toJS({ maxAliasCount: 100 }));
  return { parsed: true, valid, errors: JSON.stringify(validate.errors ?? []) };
}

test('the committed gates.schema.json is exactly what scripts/build-gates-schema.ts generates', () => {
  assert.ok(existsSync(GATES_SCHEMA_FILE), 'gates.schema.json exists (npm run build:schema)');
  assert.equal(
    readFileSync(GATES_SCHEMA_FILE, 'utf8'),
    renderGatesSchema(),
    'gates.schema.json is stale: run npm run build:schema and commit it',
  );
  const schema = JSON.parse(readFileSync(GATES_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  // Strict objects: the editor flags unknown keys, as the loader does.
  assert.equal(schema.additionalProperties, false);
});

test('the default gates.yaml points editors at the shipped schema', () => {
  const first = readFileSync(DEFAULT_GATES, 'utf8').split('\n')[0]!;
  const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
  assert.ok(m, `first line is the yaml-language-server comment: ${first}`);
  assert.equal(path.resolve(ROOT, m[1]!), GATES_SCHEMA_FILE);
});

test('the schema and the loader both accept the default gates.yaml, the good corpus and any examples', () => {
  const validate = schemaValidator();
  const files = [DEFAULT_GATES, ...yamlFiles(GOOD), ...EXAMPLE_DIRS.flatMap(yamlFiles)];
  assert.ok(files.length >= 3, `found ${files.length} files`);
  for (const file of files) {
    const loaded = loadGatesFile(file);
    assert.ok(
      loaded.ok,
      `loader accepts ${path.relative(ROOT, file)}: ${loaded.ok ? '' : JSON.stringify(loaded.errors)}`,
    );
    const v = schemaVerdict(validate, file);
    assert.ok(
      v.parsed && v.valid,
      `schema accepts ${path.relative(ROOT, file)}: ${v.parsed ? v.errors : 'YAML error'}`,
    );
  }
});

test('on the bad corpus the schema agrees with the loader, except for the allow-listed schema-blind mistakes', () => {
  const validate = schemaValidator();
  const files = yamlFiles(BAD);
  assert.ok(files.length >= 10, `found ${files.length} bad fixtures`);
  const names = new Set(files.map((f) => path.basename(f)));
  for (const listed of Object.keys(ALLOW_LIST))
    assert.ok(names.has(listed), `allow-listed ${listed} exists in test/fixtures/bad-gates`);
  for (const file of files) {
    const name = path.basename(file);
    const loaded = loadGatesFile(file, { env: {} });
    assert.ok(!loaded.ok, `the loader refuses ${name}`);
    const v = schemaVerdict(validate, file);
    const kind = ALLOW_LIST[name];
    if (kind === undefined) {
      assert.ok(
        v.parsed && !v.valid,
        `${name}: the loader refuses it (${loaded.errors[0]!.title}) but gates.schema.json accepts it; tighten the zod schema, or, if a JSON Schema cannot see this mistake, add it to ALLOW_LIST with its kind`,
      );
      continue;
    }
    // An allow-listed file fails the loader only with errors of its kind…
    const other = loaded.errors.filter((e) => !SCHEMA_BLIND[kind]!(e));
    assert.deepEqual(other, [], `${name} is allow-listed as "${kind}" but has other loader errors`);
    // …and the schema really is blind to it (else it belongs off the list).
    if (kind === 'yaml') assert.equal(v.parsed, false, `${name}: YAML error expected`);
    else
      assert.ok(
        v.parsed && v.valid,
        `${name} is allow-listed as schema-blind, yet the schema refuses it: take it off ALLOW_LIST`,
      );
  }
});

test('the schema is not vacuous: it refuses what the loader refuses on small hand-made documents', () => {
  const validate = schemaValidator();
  const base = { version: 1, gates: [{ id: 'g', title: 't', steps: [{ connect: 'main' }] }] };
  assert.equal(validate(base), true, JSON.stringify(validate.errors));
  assert.equal(validate({ ...base, version: 2 }), false);
  assert.equal(validate({ ...base, extra: 1 }), false);
  assert.equal(validate({ ...base, protocol: 3 }), false);
  assert.equal(validate({ ...base, protocol: './protocol/agent-backend.asyncapi.yaml' }), true);
  assert.equal(
    validate({ ...base, gates: [{ id: 'g', title: 't', steps: [{ connect: 'main', send: { type: 'ping' } }] }] }),
    false,
  );
  assert.equal(validate({ ...base, gates: [{ id: 'g', title: 't', steps: [{ conect: 'main' }] }] }), false);
  assert.equal(validate({ ...base, defaults: { timeout: 'soon' } }), false);
});
