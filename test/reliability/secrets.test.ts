// Secrets: values from ${env.NAME}, --secret-var values and Authorization/basic-auth credentials are
// shown as *** in console output, transcripts, every evidence file and every report, also in the
// detail of a failed check. The server really receives the values (so the test can fail).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { makeTmp, writeGates, timedCli, assertNoStackTrace, wsServer, readTree } from './helpers.ts';
import { readResult } from '../helpers/cli.ts';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const TOKEN = `tok${randomBytes(12).toString('hex')}`;
const SECRET = `sec${randomBytes(12).toString('hex')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** Every form a secret could leak in. */
const FORMS: [string, string][] = [
  ['env token', TOKEN],
  ['secret var', SECRET],
  ['base64 token', b64(TOKEN)],
  ['base64 secret', b64(SECRET)],
  ['base64 basic-auth pair', b64(`user:${SECRET}`)],
  ['url-encoded basic-auth pair', encodeURIComponent(`user:${SECRET}`)],
];

const GATES = `version: 1
gates:
  - id: echo
    title: secrets travel, and are never shown
    steps:
      - start: echo "backend up with $WSGATE_TOKEN and \${SECRET}"; exec sleep 60
        ready: {log: "backend up"}
        stop: gate
      - connect: {name: main, headers: {Authorization: "Bearer \${env.WSGATE_TOKEN}", X-Request-Note: plain}}
        within: 10s
      - connect: {name: basic, auth: "user:\${SECRET}"}
        within: 10s
      - send: {type: echo, token: "\${env.WSGATE_TOKEN}", secret: "\${SECRET}"}
        expect: [{type: echo, match: {token: "\${env.WSGATE_TOKEN}", secret: "\${SECRET}"}, capture: {echoed: secret}}]
        within: 5s
      - send: {type: echo, pair: "user:\${SECRET}", again: "\${echoed}"}
        on: basic
        expect: [{type: echo, match: {pair: "user:\${SECRET}"}}]
        within: 5s
      - run: echo "token=$WSGATE_TOKEN secret=\${SECRET}"
        stdout: {contains: "token="}
  - id: leak-on-failure
    title: a failed check shows expected and actual values without the secrets
    steps:
      - connect: {name: main, headers: {Authorization: "Bearer \${env.WSGATE_TOKEN}"}}
        within: 10s
      - send: {type: echo, token: "\${env.WSGATE_TOKEN}", secret: "\${SECRET}"}
        expect: [{type: echo, match: {secret: "wrong-\${SECRET}", token: {not: "\${env.WSGATE_TOKEN}"}}}]
        within: 5s
      - run: echo "secret=\${SECRET}" && exit 3
`;

describe('secrets are never shown', { concurrency: true }, () => {
  test('console (verbose), evidence folder and json/junit/markdown/html reports hold *** and never the values', async () => {
    const fx = await wsServer((ws) => ws.on('message', (data) => ws.send(data.toString('utf8'))));
    cleanups.push(() => fx.close());
    const dir = makeTmp(cleanups as (() => void)[]);
    const out = path.join(dir, 'ev');
    const reports = path.join(dir, 'reports');
    const file = (n: string) => path.join(reports, n);
    const r = await timedCli(
      [fx.url, '--gates', writeGates(dir, GATES), '--secret-var', `SECRET=${SECRET}`, '--verbose', '--out', out,
        '--reporter', `json:${file('r.json')}`, '--reporter', `junit:${file('r.xml')}`, '--reporter', `markdown:${file('r.md')}`, '--reporter', `html:${file('r.html')}`],
      { env: { WSGATE_TOKEN: TOKEN }, timeoutMs: 60_000 },
    );
    const console = r.stdout + r.stderr;
    assertNoStackTrace(console);
    assert.equal(r.exitCode, 1, console);

    // The values really went over the wire (headers and frames), so a missing *** would be a leak.
    const auth = fx.upgrades.map((u) => u.headers.authorization);
    assert.ok(auth.includes(`Bearer ${TOKEN}`), `server saw ${JSON.stringify(auth)}`);
    assert.ok(auth.includes(`Basic ${b64(`user:${SECRET}`)}`), `server saw ${JSON.stringify(auth)}`);
    assert.ok(fx.received.some((m) => m.includes(TOKEN) && m.includes(SECRET)));
    assert.ok(fx.received.some((m) => m.includes(`user:${SECRET}`)));

    // The first gate passed (the echoed values matched the real ones), the second failed where meant.
    const result = readResult(out);
    assert.deepEqual(result.gates.map((g) => g.status), ['passed', 'failed'], console);
    const failed = result.gates[1]!.steps.find((s) => s.status === 'failed')!;
    assert.equal(failed.label, 'send echo');

    // Nowhere: console, every evidence file, every report.
    const places: [string, string][] = [['console', console], ...readTree(out).map(([p, b]): [string, string] => [`evidence ${p}`, b.toString('utf8')]), ...readTree(reports).map(([p, b]): [string, string] => [`report ${p}`, b.toString('utf8')])];
    assert.ok(places.length >= 12 && places.some(([p]) => p.startsWith('evidence logs/')), `looked at ${places.map(([p]) => p).join(', ')}`);
    for (const [where, text] of places) {
      for (const [form, value] of FORMS) assert.ok(!text.includes(value), `${form} appears in ${where}`);
    }
    // ...while *** stands where the values were.
    assert.match(r.stdout, /→ main \{"type":"echo","token":"\*\*\*","secret":"\*\*\*"\}/);
    assert.match(r.stdout, /← basic \{"type":"echo","pair":"user:\*\*\*"|← basic \{"type":"echo","pair":"\*\*\*"/);
    const get = (name: string) => places.find(([p]) => p === name)?.[1] ?? '';
    for (const name of ['evidence transcript.jsonl', 'evidence result.json', 'report r.json', 'report r.xml', 'report r.md', 'report r.html']) {
      assert.match(get(name), /\*\*\*/, `no *** in ${name}`);
    }
    // The failure detail is still useful: it names what was expected, with the secret masked.
    assert.match(r.stdout, /expected: +"?wrong-\*\*\*/, r.stdout);
  });
});
