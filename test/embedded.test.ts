// The server embedded in a run without a URL runs commands for whoever connects: only the harness may.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startEmbedded } from '../lib/runner/embedded.ts';
import { serverTokenFor } from '../lib/os/server-tokens.ts';
import { httpRequest } from '../lib/os/http-client.ts';
import { WscatConnection } from '../lib/wscat/connection.ts';
import { BIN, runCli, tempDir } from './helpers/cli.ts';
import { spawnChild, stopTree } from '../lib/os/process.ts';
import { waitGone } from './helpers/servers.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { makeRepo, removeDirs, upgradeStatus, wscatPing } from './reference-server/helpers.ts';

describe('embedded server', () => {
  test('refuses a client without its token; the harness (wscat, http) gets in without the token on any command line', async () => {
    const project = await makeRepo();
    const server = await startEmbedded(project, false);
    try {
      const token = serverTokenFor(server.url);
      assert.ok(token && token.length >= 16);
      // Another local user: a real WebSocket client, and wscat by hand, both knowing the port only.
      assert.equal(await upgradeStatus(server.url), 401);
      assert.equal((await wscatPing(server.url)).ponged, false);
      const health = `${server.url.replace(/^ws:/, 'http:').replace(/\/ws$/, '')}/health`;
      const bare = await fetch(health);
      assert.equal(bare.status, 401);
      const opened = await WscatConnection.open('main', { url: server.url, openTimeoutMs: 20_000 });
      assert.ok(opened.ok, JSON.stringify(!opened.ok && opened.error));
      try {
        const cmdline = readFileSync(`/proc/${opened.conn.pid}/cmdline`, 'utf8');
        assert.ok(!cmdline.includes(token), 'the token is not on wscat’s command line');
      } finally {
        await opened.conn.close();
      }
      const viaHarness = await httpRequest('GET', health, {}, undefined, 10_000);
      assert.ok(viaHarness.ok && viaHarness.answer.status === 200, JSON.stringify(viaHarness));
    } finally {
      await server.stop();
      await removeDirs(project);
    }
  });

  test("another user (uid 65534) finds no token in the harness wscat's command line, cannot read its environment, and is refused", {
    skip: process.getuid?.() !== 0 && 'needs root to act as another user',
  }, async () => {
    const project = await makeRepo();
    const server = await startEmbedded(project, false);
    const opened = await WscatConnection.open('main', { url: server.url, openTimeoutMs: 20_000 });
    assert.ok(opened.ok);
    try {
      const token = serverTokenFor(server.url)!;
      // What another local user does: read the process table, then knock on the port it lists.
      const script = `
        const fs = require('fs'), http = require('http');
        const read = (f) => { try { return fs.readFileSync(f, 'latin1'); } catch (e) { return 'ERR ' + e.code; } };
        const out = { cmdline: read('/proc/${opened.conn.pid}/cmdline'), environ: read('/proc/${opened.conn.pid}/environ') };
        const req = http.request(${JSON.stringify(server.url.replace(/^ws:/, 'http:'))}, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
        req.on('upgrade', () => { out.status = 101; console.log(JSON.stringify(out)); process.exit(0); });
        req.on('response', (res) => { out.status = res.statusCode; console.log(JSON.stringify(out)); process.exit(0); });
        req.on('error', (e) => { out.status = e.code; console.log(JSON.stringify(out)); });
        req.end();`;
      const other = await promisify(execFile)(process.execPath, ['-e', script], {
        uid: 65534,
        gid: 65534,
        cwd: '/',
        timeout: 20_000,
        env: { PATH: process.env.PATH },
      });
      const seen = JSON.parse(other.stdout) as { cmdline: string; environ: string; status: number };
      assert.ok(seen.cmdline.includes(server.url), 'the command line was readable (the test can fail)');
      assert.ok(!seen.cmdline.includes(token), 'no token on the command line');
      assert.equal(seen.environ, 'ERR EACCES');
      assert.equal(seen.status, 401);
    } finally {
      await opened.conn.close();
      await server.stop();
      await removeDirs(project);
    }
  });

  test('runs in a process of its own with a minimal environment: a command reading /proc/$PPID/environ finds no CI secret', async () => {
    const project = await makeRepo();
    const out = tempDir('wsgate-embedded-env-');
    const gates = path.join(out.path, 'gates.yaml');
    writeFileSync(
      gates,
      [
        'version: 1',
        'gates:',
        '  - id: environ',
        '    title: the parent of a command',
        '    steps:',
        '      - connect: main',
        '      - send: {type: init_session, projectPath: "${PROJECT}"}',
        '        expect: [{type: session_initialized}]',
        "      - send: {type: message, message: 'Run `cat /proc/$PPID/environ`'}",
        '        expect:',
        '          - {type: tool_result, where: {tool: execute_command}, match: {result: {contains: "PATH="}}}',
        '          - {type: message_complete}',
        '',
      ].join('\n'),
    );
    const markers = {
      GITHUB_TOKEN: 'ghp_embeddedmarker0123456789',
      AWS_SECRET_ACCESS_KEY: 'aws-embedded-marker-0123456789',
    };
    try {
      const ev = path.join(out.path, 'ev');
      const r = await runCli([project, '--gates', gates, '--out', ev], { env: markers });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const transcript = readFileSync(path.join(ev, 'transcript.jsonl'), 'utf8');
      assert.match(transcript, /HOME=/, "the command read its parent's environment");
      for (const [name, value] of Object.entries(markers)) {
        assert.ok(!transcript.includes(value), `${name} reached the server's commands`);
        assert.ok(!transcript.includes(`${name}=`), `${name} is in the server's environment`);
      }
      // The server's own token is in its environment; the evidence shows it redacted.
      assert.match(transcript, /WSGATE_SERVE_TOKEN=\*\*\*/);
    } finally {
      out.remove();
      await removeDirs(project);
    }
  });

  test('a wsgate killed with SIGKILL takes its embedded server with it', async () => {
    const project = await makeRepo();
    const out = tempDir('wsgate-embedded-kill-');
    const marker = `hold-${process.pid}-${Date.now()}`;
    const gates = path.join(out.path, 'gates.yaml');
    writeFileSync(
      gates,
      [
        'version: 1',
        'gates:',
        '  - id: hold',
        '    title: hold',
        '    steps:',
        '      - connect: main',
        `      - run: [node, -e, "setTimeout(() => {}, 60000)", ${marker}]`,
        '',
      ].join('\n'),
    );
    const cli = spawnChild(
      process.execPath,
      [BIN, 'run', project, '--gates', gates, '--out', path.join(out.path, 'ev')],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const cmdlines = () =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map((d) => {
          try {
            return { pid: Number(d), cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0') };
          } catch {
            return { pid: Number(d), cmd: [] };
          }
        });
    try {
      // The run holds once the step's command is up: by then the server has served the connect.
      const until = Date.now() + 60_000;
      let server: number | undefined;
      while (Date.now() < until && !(server !== undefined && cmdlines().some((p) => p.cmd.includes(marker)))) {
        server = cmdlines().find((p) => p.cmd.includes('--exit-with-stdin') && p.cmd.includes(project))?.pid;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(server !== undefined, 'the embedded server process was found');
      process.kill(cli.pid!, 'SIGKILL');
      assert.equal(await waitGone(server, 20_000), true, `the embedded server ${server} outlived a killed wsgate`);
    } finally {
      for (const p of cmdlines()) {
        if (!p.cmd.includes(marker) && !(p.cmd.includes('--exit-with-stdin') && p.cmd.includes(project))) continue;
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await stopTree(cli, 1000);
      out.remove();
      await removeDirs(project);
    }
  });

  test('the default `wsgate run` without a URL still passes its connection and health gates', async () => {
    const project = await makeRepo();
    const out = tempDir('wsgate-embedded-ev-');
    const gates = path.join(out.path, 'gates.yaml');
    writeFileSync(
      gates,
      [
        'version: 1',
        'gates:',
        '  - id: ping',
        '    title: ping',
        '    steps:',
        '      - connect: main',
        '      - send: {type: ping}',
        '        expect: [{type: pong}]',
        '  - id: health',
        '    title: health',
        '    steps:',
        '      - http: GET ${HTTP_URL}/health',
        '        status: 200',
        '',
      ].join('\n'),
    );
    try {
      const r = await runCli([project, '--gates', gates, '--out', path.join(out.path, 'ev')]);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    } finally {
      out.remove();
      await removeDirs(project);
    }
  });
});
