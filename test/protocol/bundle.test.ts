// The CLI also runs as an esbuild bundle (dist/wsgate.mjs), where import.meta.url is the bundle's, not
// the source file's. Shipped files must still be found: bundle lib/protocol, lib/cli/init and the wscat
// observer's path into a folder at another depth, run it with plain node, and check what it reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { DEFAULT_PROTOCOL_FILE, PACKAGE_ROOT } from '../../lib/protocol/index.ts';
import { SHIPPED_GATES_SCHEMA } from '../../lib/cli/init.ts';
import { OBSERVER } from '../../lib/wscat/connection.ts';

test('a bundle two folders below the package root finds the shipped protocol, loads it, and the gates schema', async (t) => {
  // .wsgate/ is git-ignored; the bundle must live inside the package so node resolves its dependencies.
  const base = path.join(PACKAGE_ROOT, '.wsgate');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, 'bundle-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `import { DEFAULT_PROTOCOL_FILE, loadProtocol } from ${JSON.stringify(path.join(PACKAGE_ROOT, 'lib', 'protocol', 'index.ts'))};
import { SHIPPED_GATES_SCHEMA } from ${JSON.stringify(path.join(PACKAGE_ROOT, 'lib', 'cli', 'init.ts'))};
import { OBSERVER } from ${JSON.stringify(path.join(PACKAGE_ROOT, 'lib', 'wscat', 'connection.ts'))};
import { existsSync } from 'node:fs';
const r = loadProtocol(DEFAULT_PROTOCOL_FILE);
console.log(JSON.stringify({ protocol: DEFAULT_PROTOCOL_FILE, schema: SHIPPED_GATES_SCHEMA, observer: existsSync(OBSERVER) ? OBSERVER : 'missing', ok: r.ok, kinds: r.ok ? r.protocol.incomingTypes.length : r.errors }));
`,
  );
  const out = path.join(dir, 'deeper', 'bundle.mjs');
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  const printed = JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8', timeout: 60000 })) as Record<
    string,
    unknown
  >;
  assert.deepEqual(printed, {
    protocol: DEFAULT_PROTOCOL_FILE,
    schema: SHIPPED_GATES_SCHEMA,
    observer: OBSERVER,
    ok: true,
    kinds: 12,
  });
});
