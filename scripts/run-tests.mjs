#!/usr/bin/env node
// npm test: every test file under test/, run concurrently by node's test runner through tsx.
// Files spend most of their time waiting on real servers and wscat processes, so more files
// than cores run at once. Pass file paths to run only those.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'fixtures' && name !== 'node_modules') out.push(...find(p));
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
// Tests run the real CLI many times: build the bundle first so each start costs ~0.3 s, not ~0.9 s.
const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
if (built.status !== 0) process.exit(built.status ?? 1);
const files = process.argv.length > 2 ? process.argv.slice(2) : find(path.join(root, 'test')).sort();
const concurrency = process.env.WSGATE_TEST_CONCURRENCY ?? '4';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=480000', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
