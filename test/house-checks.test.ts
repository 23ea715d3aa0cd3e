// The checks .ci/run runs before the tests (types, lint, format, layers) must fail on a real violation:
// each is run here, exactly as npm runs it, on a temp tree holding one planted violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function tree(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsgate-house-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('typecheck: a type error in a planted file fails tsc with the project settings', (t) => {
  const dir = tree(t, {
    'tsconfig.json': JSON.stringify({
      extends: path.join(root, 'tsconfig.json'),
      include: ['src'],
      compilerOptions: { types: [] },
    }),
    'src/ok.ts': 'export const n: number = 1;\n',
    'src/bad.ts': 'const xs: string[] = [];\nexport const first: string = xs[0];\n',
  });
  const r = run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'], dir);
  assert.notEqual(r.status, 0, r.out);
  // noUncheckedIndexedAccess is on: an index read may be undefined.
  assert.match(r.out, /bad\.ts.*TS2322/, r.out);
});

test('lint: an expression statement and an import after code fail biome with the project config', (t) => {
  const dir = tree(t, {
    'biome.json': JSON.stringify({
      extends: [path.join(root, 'biome.json')],
      vcs: { enabled: false },
      files: { includes: ['**'] },
    }),
    'lib/bad.ts':
      "export const a = 1;\nimport { b } from './b.ts';\nexport function f(x: boolean) {\n  x ? b() : undefined;\n}\n",
    'lib/b.ts': 'export function b(): void {}\n',
  });
  const r = run(bin('biome'), ['lint', '--error-on-warnings', 'lib'], dir);
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /useImportsFirst/, r.out);
  assert.match(r.out, /noUnusedExpressions/, r.out);
});

test('format: a file not in the project format fails the format check', (t) => {
  const dir = tree(t, {
    'biome.json': JSON.stringify({
      extends: [path.join(root, 'biome.json')],
      vcs: { enabled: false },
      files: { includes: ['**'] },
    }),
    'lib/ugly.ts': 'export const x = {a:1,\n      b:2}\n',
  });
  const r = run(bin('biome'), ['format', 'lib'], dir);
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /ugly\.ts/, r.out);
});

test('layers: gates code importing the runner, and an import circle, fail the dependency rule', (t) => {
  const dir = tree(t, {
    'lib/gates/load.ts': "import { run } from '../runner/run.ts';\nexport const load = () => run;\n",
    'lib/runner/run.ts': "import { load } from '../gates/load.ts';\nexport const run = () => load;\n",
  });
  copyFileSync(path.join(root, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
  const r = run(bin('depcruise'), ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'lib'], dir);
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /gates-are-data: lib\/gates\/load\.ts → lib\/runner\/run\.ts/, r.out);
  assert.match(r.out, /no-circular/, r.out);
});

test('layers: gates code may load a step schema, never a step run file, nor reach the runtime through a schema', (t) => {
  const dir = tree(t, {
    'lib/gates/load.ts':
      "import { sendSchema } from '../../steps/schemas/send.ts';\nexport const load = () => sendSchema;\n",
    'lib/gates/schema.ts': "import { send } from '../../steps/send.ts';\nexport const schema = () => send;\n",
    'steps/schemas/send.ts':
      "import { label } from '../../lib/matching/labels.ts';\nexport const sendSchema = { label };\n",
    'steps/send.ts': 'export const send = 1;\n',
    'lib/matching/labels.ts': "import { open } from '../wscat/connection.ts';\nexport const label = () => open;\n",
    'lib/wscat/connection.ts': 'export const open = 1;\n',
  });
  copyFileSync(path.join(root, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
  const r = run(bin('depcruise'), ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'lib', 'steps'], dir);
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /gates-are-data: lib\/gates\/schema\.ts → steps\/send\.ts/, r.out);
  assert.doesNotMatch(r.out, /gates-are-data: lib\/gates\/load\.ts → steps\/schemas\/send\.ts/, r.out);
  assert.match(r.out, /gates-reach-no-runtime: lib\/gates\/load\.ts → lib\/wscat\/connection\.ts/, r.out);
  assert.match(r.out, /gates-reach-no-runtime: steps\/schemas\/send\.ts → lib\/wscat\/connection\.ts/, r.out);
});
