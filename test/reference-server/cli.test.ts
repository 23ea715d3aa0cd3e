import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { FAULTS } from '../../reference-server/faults.ts';
import { SERVE_FLAGS } from '../../reference-server/cli.ts';
import { assertHelpLists } from '../helpers/flags.ts';
import { Client, makeRepo, removeDirs, tempDir, upgradeStatus, wscatPing } from './helpers.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(repoRoot, 'reference-server/cli.ts');

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess & { out: () => string; err: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return Object.assign(child, { out: () => out, err: () => err });
}

async function exitCode(child: ChildProcess, deadlineMs = 60_000): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  try {
    const [code] = await once(child, 'exit');
    return code as number | null;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with stdout's first complete line, or rejects if the process ends or the deadline passes first. */
function firstLine(
  child: ChildProcess & { out: () => string; err: () => string },
  deadlineMs = 60_000,
): Promise<string> {
  return stdoutLine(child, () => true, deadlineMs);
}

/** Resolves with the first complete stdout line that `wanted` accepts, or rejects at exit or the deadline. */
function stdoutLine(
  child: ChildProcess & { out: () => string; err: () => string },
  wanted: (line: string) => boolean,
  deadlineMs = 60_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const lines = child.out().split('\n').slice(0, -1);
      const line = lines.find(wanted);
      if (line === undefined) return;
      cleanup();
      resolve(line);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`exited ${code} before printing a line; stderr: ${child.err()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no stdout line within ${deadlineMs} ms; stderr: ${child.err()}`));
    }, deadlineMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

describe('serve command in a real child process', () => {
  test('prints the listening URL with a generated token first; wscat -c with it works, without it is refused', async () => {
    const project = await makeRepo();
    const dataDir = await tempDir('wsgate-rs-data-');
    const child = runCli(['--port', '0', '--root', project, '--data-dir', dataDir]);
    try {
      const line = await firstLine(child);
      const match = /^listening ((ws:\/\/127\.0\.0\.1:(\d+)\/ws)\?token=([\w-]{16,}))$/.exec(line);
      assert.ok(match, `first line was: ${line}`);
      assert.notEqual(Number(match[3]), 0);
      // Another local user knows the port (/proc/net/tcp) but not the token.
      assert.equal(await upgradeStatus(match[2]), 401);
      assert.equal((await wscatPing(match[2])).ponged, false, 'wscat without the token is refused');
      assert.equal((await wscatPing(match[1])).ponged, true, 'the printed URL pasted into wscat -c works');
      const client = await Client.ready(match[1]);
      await client.exchange({ type: 'ping' }, (m) => m.type === 'pong');
      child.kill('SIGTERM');
      assert.equal(await exitCode(child), 0);
      assert.ok((await client.waitForClose()).code > 0);
    } finally {
      child.kill('SIGKILL');
      await removeDirs(project, dataDir);
    }
  });

  test('--list-faults prints one "name  description" line per fault', async () => {
    const child = runCli(['--list-faults']);
    assert.equal(await exitCode(child), 0);
    const lines = child.out().trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split('  ')[0]),
      Object.keys(FAULTS),
    );
    assert.ok(lines.every((l) => l.split('  ')[1]?.length > 0));
  });

  test('a bad option or fault exits 2 with a message on stderr', async () => {
    const bad = runCli(['--fault', 'not-a-fault']);
    assert.equal(await exitCode(bad), 2);
    assert.match(bad.err(), /Unknown fault "not-a-fault"/);
    assert.equal(bad.out(), '');
    const unknown = runCli(['--bogus']);
    assert.equal(await exitCode(unknown), 2);
    assert.match(unknown.err(), /^wsgate: unknown option '--bogus'\n {2}hint: wsgate serve \[--host HOST\]/);
    const typo = runCli(['--slow-sm', '10']);
    assert.equal(await exitCode(typo), 2);
    assert.match(typo.err(), /unknown option '--slow-sm' \(did you mean --slow-ms\?\)/);
  });

  test('a non-loopback --host without --allow-remote, a short token, a malformed origin: usage errors, nothing listens', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--host', '0.0.0.0', '--port', '0'], /--allow-remote/],
      [['--host', '192.0.2.10', '--port', '0'], /--allow-remote/],
      [['--token', 'short', '--port', '0'], /at least 16/],
      [['--allow-origin', 'evil.example', '--port', '0'], /--allow-origin needs an http\(s\) origin/],
    ];
    // Side by side: each is a whole node start-up, and none of them may get as far as listening.
    const children = cases.map(([args]) => runCli(args));
    const codes = await Promise.all(children.map((c) => exitCode(c)));
    cases.forEach(([args, message], i) => {
      assert.equal(codes[i], 2, args.join(' '));
      assert.match(children[i].err(), message);
      assert.equal(children[i].out(), '', `no listening line for ${args.join(' ')}`);
    });
  });

  test('--no-token accepts a client without one, and refuses to go with --allow-remote or --token', async () => {
    const project = await makeRepo();
    const dataDir = await tempDir('wsgate-rs-data-');
    const child = runCli(['--no-token', '--port', '0', '--root', project, '--data-dir', dataDir]);
    const remote = runCli(['--no-token', '--allow-remote', '--port', '0']);
    const both = runCli(['--no-token', '--token', 'a-chosen-token-0123456789', '--port', '0']);
    try {
      const url = (await firstLine(child)).replace(/^listening /, '');
      assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
      assert.equal((await wscatPing(url)).ponged, true);
      assert.equal(await exitCode(remote), 2);
      assert.match(remote.err(), /--allow-remote needs a token/);
      assert.equal(await exitCode(both), 2);
      assert.match(child.err(), /every local user can run commands/);
      child.kill('SIGTERM');
      assert.equal(await exitCode(child), 0);
    } finally {
      child.kill('SIGKILL');
      await removeDirs(project, dataDir);
    }
  });

  test('--allow-remote generates a token, prints it once, and every client needs it', async () => {
    const project = await makeRepo();
    const dataDir = await tempDir('wsgate-rs-data-');
    // Loopback on purpose: the tests never listen beyond this machine; the token rule is the same.
    const child = runCli([
      '--allow-remote',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--root',
      project,
      '--data-dir',
      dataDir,
    ]);
    try {
      const url = (await firstLine(child)).replace(/^listening /, '').replace(/\?token=.*$/, '');
      const token = (await stdoutLine(child, (l) => l.startsWith('token '))).slice('token '.length);
      assert.ok(token.length >= 16, token);
      assert.equal(await upgradeStatus(url), 401);
      const client = await Client.ready(url, { headers: { authorization: `Bearer ${token}` } });
      await client.close();
      child.kill('SIGTERM');
      assert.equal(await exitCode(child), 0);
    } finally {
      child.kill('SIGKILL');
      await removeDirs(project, dataDir);
    }
  });

  test('a token from $WSGATE_SERVE_TOKEN is required and not printed', async () => {
    const project = await makeRepo();
    const dataDir = await tempDir('wsgate-rs-data-');
    const token = 'env-token-abcdefghijkl';
    const child = runCli(['--port', '0', '--root', project, '--data-dir', dataDir], {
      ...process.env,
      WSGATE_SERVE_TOKEN: token,
    });
    try {
      const url = (await firstLine(child)).replace(/^listening /, '');
      assert.equal(await upgradeStatus(url), 401);
      const client = await Client.ready(`${url}?token=${token}`);
      await client.close();
      assert.doesNotMatch(child.out(), new RegExp(token));
      assert.match(url, /\/ws$/, 'a chosen token is not in the printed URL');
      child.kill('SIGTERM');
      assert.equal(await exitCode(child), 0);
    } finally {
      child.kill('SIGKILL');
      await removeDirs(project, dataDir);
    }
  });

  test('--help names the security options', async () => {
    const child = runCli(['--help']);
    assert.equal(await exitCode(child), 0);
    for (const flag of [
      '--allow-origin',
      '--allow-host',
      '--allow-remote',
      '--token',
      '--no-token',
      '--allow-any-project',
      '--max-sessions',
      '--session-ttl',
    ]) {
      assert.match(child.out(), new RegExp(flag), flag);
    }
    assertHelpLists(SERVE_FLAGS, child.out());
  });
});
