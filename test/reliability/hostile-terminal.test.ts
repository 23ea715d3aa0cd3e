// A server whose frames try to drive the terminal and the CI log, through the real CLI on a
// simulated GitHub Actions runner: `ESC[2K` + `\r` + a fake PASS line, OSC 52 (clipboard), bidi
// controls, and workflow commands (`::error::`, `::add-mask::`, `::stop-commands::`, `##[...]`), both
// raw and JSON-escaped (then they reach a failed check's "actual"). None may reach stdout, stderr or
// a report as a raw control character or as a line the runner would read as a command.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeTmp, writeGates, timedCli, assertNoStackTrace, wsServer } from './helpers.ts';

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const ESC = '\u001b';
const HOSTILE = `${ESC}[2K\r  ✓ write-file all good${ESC}]52;c;cm0gLXJmIH4=\u0007 \u202eevil\u202c \u009b31m`;
const COMMANDS = '\n::error file=x,line=1::forged\n  ::add-mask::hidden\n\u00a0::stop-commands::tok\n##[error]old form';

const GATES = `version: 1
gates:
  - id: shown
    title: a server that writes to the terminal through its frames
    steps:
      - connect: main
      - send: {type: hello}
        expect: [{type: welcome, match: {note: "the real note"}}]
        within: 5s
`;

/** Characters that control a terminal: C0 but tab/newline, DEL, C1, bidi. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('terminal and CI-log injection', () => {
  test('control characters are shown escaped and no server text starts a workflow command', async () => {
    const fx = await wsServer((ws) =>
      ws.on('message', () => {
        ws.send(HOSTILE + COMMANDS); // not JSON: shown as it came, in --verbose and "last messages"
        ws.send(JSON.stringify({ type: 'welcome', note: HOSTILE + COMMANDS })); // a failed check's actual
      }),
    );
    cleanups.push(() => fx.close());
    const dir = makeTmp(cleanups as (() => void)[]);
    const md = path.join(dir, 'summary.md');
    const r = await timedCli(
      [
        fx.url,
        dir + '/p',
        '--gates',
        writeGates(dir, GATES),
        '--out',
        path.join(dir, 'ev'),
        '--verbose',
        '--reporter',
        'github',
        '--reporter',
        `markdown:${md}`,
      ],
      {
        env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: undefined },
      },
    );
    const all = r.stdout + r.stderr;
    assertNoStackTrace(all);
    assert.equal(r.exitCode, 1, all);
    // The frames reached the console (so a missing escape would show)...
    assert.ok(all.includes('\\x1b[2K\\r  ✓ write-file all good\\x1b]52;c;'), all);
    assert.ok(all.includes('\\u{202e}evil'), all);
    // ...as text only.
    const bad = all.split('\n').findIndex((l) => RAW_CONTROL.test(l));
    assert.equal(bad, -1, `raw control character in output line: ${JSON.stringify(all.split('\n')[bad])}`);
    for (const line of r.stdout.split('\n')) {
      const trimmed = line.replace(/^\s+/, '');
      if (trimmed.startsWith('::'))
        assert.match(
          trimmed,
          /^::(error|warning) file=[^:]*gates\.yaml,line=\d+,col=\d+,title=wsgate /,
          `a workflow command wsgate did not write: ${line}`,
        );
      assert.ok(!line.includes('##['), `old-form command: ${line}`);
    }
    assert.ok(
      r.stdout.split('\n').some((l) => l.startsWith('::error file=')),
      'the github reporter printed its own annotation',
    );
    assert.match(all, /\\x3a:error file=x,line=1::forged/, 'the forged command is shown, neutralised');
    const summary = readFileSync(md, 'utf8');
    assert.ok(!RAW_CONTROL.test(summary), 'raw control character in the markdown summary');
    assert.ok(summary.includes('\\x1b[2K'), summary);
  });
});
