// The CI example runs as documented: a run step, a start step that launches a real backend (the
// reference server as a child process), then checks against it over the wire.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './helpers/servers.ts';
import { runCli, tempDir, readResult, ROOT, SHARED_MACHINE } from './helpers/cli.ts';
import { loadGatesFile } from '../lib/gates/load.ts';

const dirs: { remove(): void }[] = [];
after(() => dirs.forEach((d) => d.remove()));

test('examples/ci-gates.yaml loads, starts its backend, passes, and stops the backend', async () => {
  const file = path.join(ROOT, 'examples', 'ci-gates.yaml');
  const loaded = loadGatesFile(file);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  const port = await freePort();
  const out = tempDir();
  const project = tempDir();
  dirs.push(out, project);
  const r = await runCli([
    `ws://127.0.0.1:${port}/ws`,
    project.path,
    '--gates',
    file,
    '--var',
    `PORT=${port}`,
    '--var',
    'BUILD=node --version',
    // Each soak round starts a session, and the server keeps up to --max-sessions of them: in a 3 s soak
    // the default 1000 is never reached, so memory grows with the session count (measured +8–36 %
    // between runs). A small cap makes the backend's steady state arrive within the test (+10–11 %).
    '--var',
    `START=node bin/wsgate.js serve --no-token --port ${port} --root ${project.path} --max-sessions 20`,
    '--var',
    `BACKEND=${ROOT}`,
    '--var',
    'SOAK_FOR=3s',
    '--out',
    path.join(out.path, 'ev'),
    ...SHARED_MACHINE,
  ]);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const result = readResult(path.join(out.path, 'ev'));
  assert.deepEqual(
    result.gates.map((g) => [g.id, g.status]),
    [
      ['builds', 'passed'],
      ['server-starts', 'passed'],
      ['session', 'pending'],
      ['memory-under-stress', 'passed'],
    ],
  );
  const soak = result.gates[3]!.steps[0]!;
  assert.match(
    String(soak.checks.find((c) => c.name.startsWith('memory of backend'))?.actual),
    /MB after warm-up → .* MB at the end/,
    'the soak sampled the started backend',
  );
  assert.equal(result.gates[3]!.title, "Ten connections for 3s: the backend's memory grows less than 20 %");
  // The started backend's process tree is gone: its port no longer accepts connections.
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
  assert.ok(refused, 'the backend started by the start step must be stopped at the end of the run');
});
