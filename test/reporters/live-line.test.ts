// The live line of a long step, through the real CLI in a real pseudo-terminal (util-linux `script`):
// shown on a TTY while a step waits over a second, erased before the step's result line, and absent
// from pipes and CI logs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { runProcess } from '../../lib/os/process.ts';
import { BIN, runCli, tempDir } from '../helpers/cli.ts';
import { oneGate, wsServer } from '../helpers/servers.ts';

const ERASE = '\r\u001b[2K';
const LIVE = /… send go · \d+\.\d s · [1-9]\d* frames? so far/;

/** A server that answers `go` with three ticks at once and `done` 1.8 s later: a step that waits. */
async function slowServer(t: TestContext) {
  return wsServer(t, (ws) => {
    ws.on('message', () => {
      for (let i = 0; i < 3; i++) ws.send(JSON.stringify({ type: 'tick', i }));
      const timer = setTimeout(() => ws.send(JSON.stringify({ type: 'done' })), 1800);
      ws.on('close', () => clearTimeout(timer));
    });
  });
}

function gatesFile(t: TestContext): string {
  const dir = tempDir('wsgate-live-');
  t.after(() => dir.remove());
  const file = path.join(dir.path, 'gates.yaml');
  writeFileSync(
    file,
    oneGate(`
    - connect: main
    - send: {type: go}
      within: 10s
      expect: [{type: done}]
  `),
  );
  return file;
}

/** The CLI run inside a pseudo-terminal, its stdout being that terminal. */
async function inTerminal(args: string[], env: NodeJS.ProcessEnv) {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  return runProcess('script', ['-qfec', command, '/dev/null'], { env: childEnv, timeoutMs: 60_000 });
}

describe('live line', { concurrency: true }, () => {
  test('on a terminal, a step waiting over a second shows what it waits for, then its result line', async (t) => {
    const server = await slowServer(t);
    const r = await inTerminal(['run', server.url, '--gates', gatesFile(t), '--no-pool'], { CI: undefined });
    assert.equal(r.exitCode, 0, r.stdout);
    assert.match(r.stdout, LIVE, JSON.stringify(r.stdout));
    // The live line is erased before the step's own line is written, so the ✓ line starts clean.
    const tick = r.stdout.indexOf('✓ send go');
    assert.ok(tick > 0, r.stdout);
    assert.ok(
      r.stdout.lastIndexOf(ERASE, tick) > r.stdout.search(LIVE),
      'an erase follows the last live line, before the result line',
    );
    assert.ok(!LIVE.test(r.stdout.slice(tick)), 'nothing of the live line after the step ended');
  });

  test('a soak shows elapsed of total and rounds done while it runs', async (t) => {
    const server = await wsServer(t, (ws) => ws.on('message', () => ws.send(JSON.stringify({ type: 'pong' }))));
    const dir = tempDir('wsgate-live-');
    t.after(() => dir.remove());
    const file = path.join(dir.path, 'gates.yaml');
    writeFileSync(
      file,
      oneGate(`
      - soak:
          for: 2s
          steps:
            - send: {type: ping}
              expect: [{type: pong}]
    `),
    );
    const r = await inTerminal(['run', server.url, '--gates', file, '--no-pool'], { CI: undefined });
    assert.equal(r.exitCode, 0, r.stdout);
    assert.match(r.stdout, /… soak 1 connection for 2s · [12] s of 2 s · [1-9]\d* rounds?/, JSON.stringify(r.stdout));
  });

  test('in CI, even on a terminal, and through a pipe: no live line', async (t) => {
    const server = await slowServer(t);
    const file = gatesFile(t);
    const ci = await inTerminal(['run', server.url, '--gates', file, '--no-pool'], { CI: 'true' });
    assert.equal(ci.exitCode, 0, ci.stdout);
    assert.ok(!ci.stdout.includes(ERASE) && !LIVE.test(ci.stdout), JSON.stringify(ci.stdout));
    const piped = await runCli(['run', server.url, '--gates', file, '--no-pool'], { env: { CI: undefined } });
    assert.equal(piped.exitCode, 0, piped.stdout);
    assert.match(piped.stdout, /✓ send go/);
    assert.ok(!piped.stdout.includes(ERASE) && !LIVE.test(piped.stdout), JSON.stringify(piped.stdout));
  });
});
