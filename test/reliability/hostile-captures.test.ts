// Captured values from a hostile server, through the real CLI: shell syntax in a captured session id
// runs nothing in `run:` (bare, '...', "...") or `start:` and is printed literally; a captured path
// cannot make a verify step read outside the project (`..`, an absolute path, a symbolic link); a
// captured value in an http URL cannot change its path, query or host; a place where no quoting is
// safe is refused when the gates file loads.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeTmp, writeGates, timedCli, assertNoStackTrace, wsServer, readTree } from './helpers.ts';
import { readResult } from '../helpers/cli.ts';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const SECRET_TEXT = 'TOP-SECRET-OUTSIDE-THE-PROJECT';

/** An http server that also speaks WebSocket, so ${HTTP_URL} reaches it; it records request paths. */
async function hostile(marks: string, outside: string) {
  const requests: string[] = [];
  const srv = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const fx = await wsServer(
    (ws) =>
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { type: string; project: string };
        // The server plants a link to a file outside the project, and answers with hostile values.
        const link = path.join(m.project, 'innocent.txt');
        if (!existsSync(link)) symlinkSync(path.join(outside, 'secret.txt'), link);
        ws.send(
          JSON.stringify({
            type: 'session',
            sessionId: `$(touch ${marks}/bare)\`touch ${marks}/tick\`'; touch ${marks}/single; '"; touch ${marks}/double; "`,
            up: '../outside/secret.txt',
            abs: path.join(outside, 'secret.txt'),
            link: 'innocent.txt',
            seg: 'x/../../admin?evil=1#frag',
            host: '@evil.invalid/steal',
          }),
        );
      }),
    { server: srv },
  );
  cleanups.push(() => fx.close());
  return { url: `ws://127.0.0.1:${(srv.address() as AddressInfo).port}/ws`, requests };
}

const session = `      - connect: main
      - send: {type: init, project: "\${PROJECT}"}
        expect: [{type: session, capture: {sid: sessionId, up: up, abs: abs, link: link, seg: seg, host: host}}]`;

const GATES = `version: 1
gates:
  - id: shell
    title: a captured value runs nothing in a shell command line
    steps:
${session}
      - run: echo session \${sid}
        stdout: "session \${sid}\\n"
      - run: echo '\${sid}'
        stdout: "\${sid}\\n"
      - run: echo "\${sid}"
        stdout: "\${sid}\\n"
      - run: echo "id=$(echo \${sid})"
        stdout: "id=\${sid}\\n"
      - start: echo "backend \${sid} up"; exec sleep 30
        ready: {log: "backend .* up"}
        stop: gate
  - id: dotdot
    title: a captured ../ path is refused
    steps:
${session}
      - verify: {file: "\${up}", content: {contains: SECRET}}
  - id: absolute
    title: a captured absolute path outside the project is refused
    steps:
${session}
      - verify: {file: "\${abs}", content: {contains: SECRET}}
  - id: symlink
    title: a captured path through a symbolic link out of the project is refused
    steps:
${session}
      - verify: {file: "\${link}", content: {contains: SECRET}}
  - id: url-path
    title: a captured value is one path segment of an http URL
    steps:
${session}
      - http: GET \${HTTP_URL}/api/\${seg}
  - id: url-host
    title: a captured value cannot move an http request to another host
    steps:
${session}
      - http: GET \${HTTP_URL}\${host}
`;

describe('hostile captured values', () => {
  test('shell syntax runs nothing; paths stay in the project; URLs keep their path and host', async () => {
    const dir = makeTmp(cleanups as (() => void)[]);
    const marks = path.join(dir, 'marks');
    const outside = path.join(dir, 'outside');
    mkdirSync(marks);
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret.txt'), SECRET_TEXT);
    const srv = await hostile(marks, outside);
    const project = path.join(dir, 'p');
    const out = path.join(dir, 'ev');
    const r = await timedCli([srv.url, project, '--gates', writeGates(dir, GATES), '--out', out, '--verbose'], {
      timeoutMs: 90_000,
    });
    const console = r.stdout + r.stderr;
    assertNoStackTrace(console);
    assert.deepEqual(readdirSync(marks), [], `a command from a captured value ran:\n${console}`);
    const result = readResult(out);
    const byId = Object.fromEntries(result.gates.map((g) => [g.id, g]));
    assert.equal(byId.shell!.status, 'passed', console);

    for (const id of ['dotdot', 'absolute', 'symlink']) {
      const step = byId[id]!.steps[2]!;
      assert.equal(step.status, 'failed', `${id}: ${console}`);
      assert.match(step.checks[0]!.name, / is inside the project folder$/);
      assert.match(
        String(step.checks[0]!.actual),
        id === 'symlink'
          ? /symbolic link to .*secret\.txt, outside the project folder/
          : /is outside the project folder/,
      );
    }
    // Refused means not read: the outside file's text is nowhere in the evidence.
    for (const [p, b] of readTree(out))
      assert.ok(!b.toString('utf8').includes(SECRET_TEXT), `${p} holds the outside file's text`);

    assert.equal(byId['url-path']!.status, 'passed', console);
    assert.ok(
      srv.requests.includes('/api/x%2F..%2F..%2Fadmin%3Fevil%3D1%23frag'),
      `requests: ${srv.requests.join(', ')}`,
    );
    assert.ok(!srv.requests.some((u) => u.startsWith('/admin')), 'the captured ../ did not climb the path');
    const hostStep = byId['url-host']!.steps[2]!;
    assert.equal(hostStep.status, 'failed');
    assert.match(String(hostStep.checks[0]!.actual), /not a valid URL/);
    assert.equal(existsSync(path.join(project, 'innocent.txt')), true, 'the server really planted the link');
  });

  test('a reference where no quoting is safe is refused at load time, pointing to the list form and env:', async () => {
    const dir = makeTmp(cleanups as (() => void)[]);
    const bad = `version: 1
gates:
  - id: g
    title: unsafe places
    steps:
      - run: [echo, capture]
        capture: {sid: stdout}
      - run: echo \`echo \${sid}\`
      - start: |
          cat <<EOF
          \${sid}
          EOF
        ready: {log: x}
`;
    const r = await timedCli(['ws://127.0.0.1:9/ws', dir, '--gates', writeGates(dir, bad)]);
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /gates\.yaml:8:\d+: .*\$\{sid\} stands inside `...` \(backticks\) of a shell command line/);
    assert.match(r.stderr, /gates\.yaml:9:\d+: .*\$\{sid\} stands in a here-document/);
    assert.match(
      r.stderr,
      /hint: pass it as an argument of the list form \(run: \[prog, "\$\{sid\}"\]\) or through env:/,
    );
  });
});
