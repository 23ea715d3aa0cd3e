// Secrets: values from ${env.NAME}, --secret-var values and Authorization/basic-auth credentials are
// shown as *** in console output, transcripts, every evidence file and every report, also in the
// detail of a failed check. The server really receives the values (so the test can fail). A secret
// holding `"` and `\` is found in every escaped form it takes (JSON, twice-JSON, HTML, XML, URL,
// base64, shell-quoted), and credentials inside URLs (`user:pass@`, `?token=`) are masked too.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { makeTmp, writeGates, timedCli, assertNoStackTrace, wsServer, readTree } from './helpers.ts';
import { readResult } from '../helpers/cli.ts';
import { decodeJsonEscapes, Secrets } from '../../lib/evidence/secrets.ts';

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
      [
        fx.url,
        '--gates',
        writeGates(dir, GATES),
        '--secret-var',
        `SECRET=${SECRET}`,
        '--verbose',
        '--out',
        out,
        '--reporter',
        `json:${file('r.json')}`,
        '--reporter',
        `junit:${file('r.xml')}`,
        '--reporter',
        `markdown:${file('r.md')}`,
        '--reporter',
        `html:${file('r.html')}`,
      ],
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
    assert.deepEqual(
      result.gates.map((g) => g.status),
      ['passed', 'failed'],
      console,
    );
    const failed = result.gates[1]!.steps.find((s) => s.status === 'failed')!;
    assert.equal(failed.label, 'send echo');

    // Nowhere: console, every evidence file, every report.
    const places: [string, string][] = [
      ['console', console],
      ...readTree(out).map(([p, b]): [string, string] => [`evidence ${p}`, b.toString('utf8')]),
      ...readTree(reports).map(([p, b]): [string, string] => [`report ${p}`, b.toString('utf8')]),
    ];
    assert.ok(
      places.length >= 12 && places.some(([p]) => p.startsWith('evidence logs/')),
      `looked at ${places.map(([p]) => p).join(', ')}`,
    );
    for (const [where, text] of places) {
      for (const [form, value] of FORMS) assert.ok(!text.includes(value), `${form} appears in ${where}`);
    }
    // ...while *** stands where the values were.
    assert.match(r.stdout, /→ main \{"type":"echo","token":"\*\*\*","secret":"\*\*\*"\}/);
    assert.match(r.stdout, /← basic \{"type":"echo","pair":"user:\*\*\*"|← basic \{"type":"echo","pair":"\*\*\*"/);
    const get = (name: string) => places.find(([p]) => p === name)?.[1] ?? '';
    for (const name of [
      'evidence transcript.jsonl',
      'evidence result.json',
      'report r.json',
      'report r.xml',
      'report r.md',
      'report r.html',
    ]) {
      assert.match(get(name), /\*\*\*/, `no *** in ${name}`);
    }
    // The failure detail is still useful: it names what was expected, with the secret masked.
    assert.match(r.stdout, /expected: +"?wrong-\*\*\*/, r.stdout);
  });

  test('a secret with " and \\ is nowhere in any escaped form; URL credentials and token query values neither', async () => {
    const fx = await wsServer((ws, req) => {
      // The server tells what it saw (the Authorization wscat made from the URL's user:pass) and echoes frames.
      ws.send(
        JSON.stringify({
          type: 'hello',
          url: `ws://${req.headers.host}${req.url}`,
          authorization: req.headers.authorization ?? '',
        }),
      );
      ws.on('message', (data) => {
        const text = data.toString('utf8');
        ws.send(text);
        ws.send(
          JSON.stringify({
            type: 'wrapped',
            inner: text,
            html: text.replace(/"/g, '&quot;'),
            b64: Buffer.from(JSON.parse(text).token).toString('base64'),
          }),
        );
      });
    });
    cleanups.push(() => fx.close());
    const dir = makeTmp(cleanups as (() => void)[]);
    const secret = `pa"ss\\word-${randomBytes(4).toString('hex')}`;
    const urlPassword = `pw${randomBytes(6).toString('hex')}`;
    const urlToken = `qt${randomBytes(6).toString('hex')}`;
    const url = `ws://tester:${urlPassword}@127.0.0.1:${fx.port}/ws?token=${urlToken}&room=1`;
    const gates = `version: 1
gates:
  - id: quoted
    title: a secret that JSON, HTML and the shell all escape
    steps:
      - connect: main
        within: 10s
      - expect: [{type: hello, capture: {seen: url}}]
      - send: {type: echo, token: "\${TOKEN}"}
        expect: [{type: echo}, {type: wrapped, match: {inner: "not the inner text"}}]
        within: 5s
  - id: shell
    title: the secret on a shell command line
    steps:
      - run: echo "\${TOKEN}" '\${TOKEN}' \${TOKEN}
        stdout: {contains: "never"}
`;
    const out = path.join(dir, 'ev');
    const reports = path.join(dir, 'reports');
    const file = (n: string) => path.join(reports, n);
    const r = await timedCli(
      [
        url,
        path.join(dir, 'p'),
        '--gates',
        writeGates(dir, gates),
        '--secret-var',
        `TOKEN=${secret}`,
        '--verbose',
        '--out',
        out,
        '--reporter',
        `json:${file('r.json')}`,
        '--reporter',
        `junit:${file('r.xml')}`,
        '--reporter',
        `markdown:${file('r.md')}`,
        '--reporter',
        `html:${file('r.html')}`,
        '--reporter',
        `github:${file('gh.txt')}`,
      ],
      { timeoutMs: 60_000 },
    );
    const console = r.stdout + r.stderr;
    assertNoStackTrace(console);
    assert.equal(r.exitCode, 1, console);
    // The server really got them all.
    assert.ok(
      fx.received.some((m) => m.includes(JSON.stringify(secret).slice(1, -1))),
      'the secret went over the wire',
    );
    assert.equal(fx.upgrades[0]!.headers.authorization, `Basic ${b64(`tester:${urlPassword}`)}`);
    assert.match(fx.upgrades[0]!.url ?? '', new RegExp(`token=${urlToken}`));

    // Forms written out here, independently of lib/evidence/secrets.ts.
    const j = (s: string) => JSON.stringify(s).slice(1, -1);
    const forms: [string, string][] = [];
    for (const [name, v] of [
      ['secret', secret],
      ['url password', urlPassword],
      ['url token', urlToken],
    ] as const) {
      forms.push([`${name} raw`, v], [`${name} base64`, b64(v)], [`${name} url-encoded`, encodeURIComponent(v)]);
    }
    forms.push(
      ['secret json', j(secret)],
      ['secret json twice', j(j(secret))],
      ['secret html', secret.replace(/"/g, '&quot;')],
      ['secret html numeric', secret.replace(/"/g, '&#34;')],
      ['secret markdown-escaped', secret.replace(/\\/g, '\\\\')],
      ['secret shell double-quoted', secret.replace(/["\\]/g, '\\$&')],
      ['secret tail', secret.slice(secret.indexOf('\\'))],
      ['basic-auth header', b64(`tester:${urlPassword}`)],
    );
    const places: [string, string][] = [
      ['console', console],
      ...readTree(out).map(([p, b]): [string, string] => [`evidence ${p}`, b.toString('utf8')]),
      ...readTree(reports).map(([p, b]): [string, string] => [`report ${p}`, b.toString('utf8')]),
    ];
    assert.ok(
      places.some(([p]) => p === 'evidence transcript.jsonl') && places.some(([p]) => p === 'report gh.txt'),
      places.map(([p]) => p).join(', '),
    );
    for (const [where, text] of places)
      for (const [form, value] of forms)
        assert.ok(
          !text.includes(value),
          `${form} appears in ${where}: ${text
            .split('\n')
            .filter((l) => l.includes(value))
            .join('\n')}`,
        );
    // The URL is still recognisable, with its credentials masked.
    assert.match(r.stdout, /ws:\/\/tester:\*\*\*@127\.0\.0\.1:\d+\/ws\?token=\*\*\*&room=1/);
  });

  test('a secret echoed as PHP, .NET and Go encode it (\\/, \\u002B, \\u003c) is masked in the console, transcript and every report', async () => {
    const secret = `Ab/Cd+Ef<Gh>&'${randomBytes(4).toString('hex')}`;
    // Each encoder's own escapes, written out here: the frame text a real server of that kind sends.
    const php = (v: string) => JSON.stringify(v).replace(/\//g, '\\/');
    const hex = (c: string, upper: boolean) =>
      `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')[upper ? 'toUpperCase' : 'toLowerCase']()}`;
    const dotnet = (v: string) => JSON.stringify(v).replace(/[+<>&']/g, (c) => hex(c, true));
    const go = (v: string) => JSON.stringify(v).replace(/[<>&]/g, (c) => hex(c, false));
    const encoded: [string, string][] = [
      ['php', php(secret)],
      ['dotnet', dotnet(secret)],
      ['go', go(secret)],
    ];
    const fx = await wsServer((ws) =>
      ws.on('message', (data) => {
        const token = (JSON.parse(data.toString('utf8')) as { token: string }).token;
        for (const [kind, enc] of [
          ['php', php(token)],
          ['dotnet', dotnet(token)],
          ['go', go(token)],
        ])
          ws.send(`{"type":"${kind}","token":${enc}}`);
      }),
    );
    cleanups.push(() => fx.close());
    const dir = makeTmp(cleanups as (() => void)[]);
    const gates = `version: 1
gates:
  - id: encoders
    title: a secret in other encoders' escapes
    steps:
      - connect: main
        within: 10s
      - send: {type: echo, token: "\${TOKEN}"}
        expect: [{type: php, match: {token: "\${TOKEN}"}}, {type: go}, {type: dotnet, match: {token: "not the token"}}]
        within: 5s
`;
    const out = path.join(dir, 'ev');
    const reports = path.join(dir, 'reports');
    const file = (n: string) => path.join(reports, n);
    const r = await timedCli(
      [
        fx.url,
        path.join(dir, 'p'),
        '--gates',
        writeGates(dir, gates),
        '--secret-var',
        `TOKEN=${secret}`,
        '--verbose',
        '--out',
        out,
        '--reporter',
        `json:${file('r.json')}`,
        '--reporter',
        `html:${file('r.html')}`,
        '--reporter',
        `junit:${file('r.xml')}`,
        '--reporter',
        `markdown:${file('r.md')}`,
      ],
      { timeoutMs: 60_000 },
    );
    const console = r.stdout + r.stderr;
    assertNoStackTrace(console);
    assert.equal(r.exitCode, 1, console);
    // The server really sent the encoded forms, and the php one matched the secret once decoded.
    assert.equal(
      readResult(out).gates[0]!.steps[1]!.checks.some((c) => c.passed && /php/.test(c.name)),
      true,
      console,
    );
    const places: [string, string][] = [
      ['console', console],
      ...readTree(out).map(([p, b]): [string, string] => [`evidence ${p}`, b.toString('utf8')]),
      ...readTree(reports).map(([p, b]): [string, string] => [`report ${p}`, b.toString('utf8')]),
    ];
    assert.ok(places.some(([p]) => p === 'evidence transcript.jsonl') && places.some(([p]) => p === 'report r.html'));
    for (const [where, text] of places) {
      for (const [kind, enc] of encoded) {
        const inner = enc.slice(1, -1);
        // The distinctive middle of each encoded form (and that form escaped once more, as in a transcript line).
        for (const form of [inner, JSON.stringify(inner).slice(1, -1), inner.slice(2, -2)]) {
          assert.ok(
            !text.includes(form),
            `the ${kind} form appears in ${where}: ${text
              .split('\n')
              .filter((l) => l.includes(form))
              .join('\n')
              .slice(0, 400)}`,
          );
        }
      }
    }
    assert.match(r.stdout, /← main \{"type":"php","token":"\*\*\*"\}/);
    assert.match(r.stdout, /← main \{"type":"dotnet","token":"\*\*\*"\}/);
  });

  test('JSON escapes are decoded with positions kept; an escaped backslash is not the start of an escape', () => {
    const d = decodeJsonEscapes('a\\u0041b\\\\u0042c\\/')!;
    assert.equal(d.decoded, 'aAb\\u0042c/');
    assert.deepEqual(
      [0, 1, 2, 3, 4, 9, 10, 11].map((k) => d.at(k)),
      [0, 1, 7, 8, 10, 15, 16, 18],
    );
    const secrets = new Secrets();
    secrets.add('ab/+c');
    assert.equal(secrets.redact('{"x":"ab\\/\\u002bc","y":"ab\\\\u002bc"}'), '{"x":"***","y":"ab\\\\u002bc"}');
  });
});
