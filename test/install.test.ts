// wsgate as a backend team adopts it: packed, installed with `npm i -D` into a fresh project, run with
// `npx wsgate run` from that project. The project's own gates.yaml is found, the run passes against the
// embedded server, and no evidence lands inside the installed package.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { runProcess } from '../lib/os/process.ts';
import { ROOT, tempDir } from './helpers/cli.ts';

const dirs: { remove(): void }[] = [];
after(() => dirs.forEach((d) => d.remove()));

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const GATES = `version: 1
gates:
  - id: ping
    title: ping answers pong
    steps:
      - connect: main
      - send: {type: ping}
        expect: [{type: pong}]
`;

test('npm i -D of the packed tarball: npx wsgate run finds ./gates.yaml and keeps evidence out of the package', async () => {
  const packDir = tempDir('wsgate-pack-');
  const project = tempDir('wsgate-adopter-');
  dirs.push(packDir, project);
  const env = {
    ...process.env,
    CI: 'true',
    NO_COLOR: '1',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  const pack = await runProcess('npm', ['pack', '--pack-destination', packDir.path], {
    cwd: ROOT,
    env,
    timeoutMs: 120_000,
  });
  assert.equal(pack.exitCode, 0, pack.stdout + pack.stderr);
  const tarball = readdirSync(packDir.path).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  writeFileSync(
    path.join(project.path, 'package.json'),
    JSON.stringify({ name: 'my-backend', version: '1.0.0', private: true }, null, 2),
  );
  // The packages are in npm's cache from this checkout's own install: no network needed.
  const install = await runProcess(
    'npm',
    ['install', '--save-dev', '--prefer-offline', path.join(packDir.path, tarball)],
    { cwd: project.path, env, timeoutMs: 240_000 },
  );
  assert.equal(install.exitCode, 0, install.stdout + install.stderr);
  writeFileSync(path.join(project.path, 'gates.yaml'), GATES);

  const run = await runProcess('npx', ['wsgate', 'run'], { cwd: project.path, env, timeoutMs: 120_000 });
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /gates gates\.yaml \(found in the current folder\)/);
  assert.match(run.stdout, /PASS {2}1 gates: 1 passed/);
  const installed = path.join(project.path, 'node_modules', 'wsgate');
  assert.ok(existsSync(path.join(installed, 'package.json')));
  const inPackage = walk(installed).filter((f) => /result\.json$|transcript\.jsonl$|manifest\.json$/.test(f));
  assert.deepEqual(inPackage, [], 'no evidence inside the installed package');
  const evidence = walk(path.join(project.path)).filter(
    (f) => f.endsWith('result.json') && !f.includes('node_modules'),
  );
  assert.equal(evidence.length, 1, `the run's evidence is in the project: ${evidence.join(', ')}`);

  const init = await runProcess('npx', ['wsgate', 'init', 'more'], { cwd: project.path, env, timeoutMs: 60_000 });
  assert.equal(init.exitCode, 0, init.stdout + init.stderr);
  assert.match(init.stdout, /next: npx wsgate run ws:\/\/localhost:3001\/ws --gates more\/gates\.yaml/);
  // Committed from a subfolder, the schema line still points into the project's node_modules, relatively.
  assert.match(
    readFileSync(path.join(project.path, 'more', 'gates.yaml'), 'utf8'),
    /^# yaml-language-server: \$schema=\.\.\/node_modules\/wsgate\/gates\.schema\.json$/m,
  );

  // What the installed README links to for users is installed with it (only test/ notes are left out).
  const readme = readFileSync(path.join(installed, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\(([^)#:]+)(?:#[^)]*)?\)/g)]
    .map((m) => m[1]!)
    .filter((l) => !l.startsWith('test/'));
  assert.ok(
    links.includes('examples/jsonrpc-gates.yaml') && links.some((l) => l.startsWith('docs/')),
    links.join(', '),
  );
  assert.deepEqual(
    links.filter((l) => !existsSync(path.join(installed, l))),
    [],
    'README links missing from the package',
  );
});
