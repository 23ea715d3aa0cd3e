// The planner maps instruction text to tool calls, and does it in linear time: the text is a client's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plan } from '../../reference-server/planner.ts';
import { closingText, introText, splitIntoPieces } from '../../reference-server/replies.ts';

const cases: Array<[string, unknown]> = [
  [
    "Create a test.txt file with 'Test content'",
    [{ tool: 'write_file', input: { path: 'test.txt', content: 'Test content' } }],
  ],
  [
    'create a file named notes/a.md with "It\'s here"',
    [{ tool: 'write_file', input: { path: 'notes/a.md', content: "It's here" } }],
  ],
  ["Write 'hello world' to out.txt", [{ tool: 'write_file', input: { path: 'out.txt', content: 'hello world' } }]],
  ['Read test.txt', [{ tool: 'read_file', input: { path: 'test.txt' } }]],
  ['Show me src/index.ts.', [{ tool: 'read_file', input: { path: 'src/index.ts' } }]],
  ['cat README.md', [{ tool: 'read_file', input: { path: 'README.md' } }]],
  ['List files', [{ tool: 'list_files', input: { path: '.' } }]],
  ['list the files in src', [{ tool: 'list_files', input: { path: 'src' } }]],
  ["Search for 'TODO' in lib", [{ tool: 'search_files', input: { pattern: 'TODO', path: 'lib' } }]],
  ['Search for "needle"', [{ tool: 'search_files', input: { pattern: 'needle', path: '.' } }]],
  ['Run `ls -la`', [{ tool: 'execute_command', input: { command: 'ls -la' } }]],
  ['Git status', [{ tool: 'git_status', input: {} }]],
  ['What is the git status?', [{ tool: 'git_status', input: {} }]],
  ['Git diff', [{ tool: 'git_diff', input: {} }]],
  ['Show the diff of a.txt', [{ tool: 'git_diff', input: { file: 'a.txt' } }]],
  ['Stage a.txt b.txt', [{ tool: 'git_add', input: { files: ['a.txt', 'b.txt'] } }]],
  ['Stage all', [{ tool: 'git_add', input: { files: ['.'] } }]],
  ['git add src/x.ts', [{ tool: 'git_add', input: { files: ['src/x.ts'] } }]],
  [
    "Commit all changes with message 'Add test file'",
    [
      { tool: 'git_add', input: { files: ['.'] } },
      { tool: 'git_commit', input: { message: 'Add test file' } },
    ],
  ],
  [
    'git commit with the commit message "Fix it." .',
    [
      { tool: 'git_add', input: { files: ['.'] } },
      { tool: 'git_commit', input: { message: 'Fix it.' } },
    ],
  ],
  [
    "Please commit this with message 'a' with message 'b'!",
    [
      { tool: 'git_add', input: { files: ['.'] } },
      { tool: 'git_commit', input: { message: "a' with message 'b" } },
    ],
  ],
  [
    'Commit it with message "x" and with message \'y\'',
    [
      { tool: 'git_add', input: { files: ['.'] } },
      { tool: 'git_commit', input: { message: 'y' } },
    ],
  ],
  [
    "Create a notes.txt file with the content 'n'",
    [{ tool: 'write_file', input: { path: 'notes.txt', content: 'n' } }],
  ],
  ["Create a notes.txt file with text'n'.", [{ tool: 'write_file', input: { path: 'notes.txt', content: 'n' } }]],
  ['Show the staged diff', [{ tool: 'git_diff', input: { staged: true } }]],
  ['git diff --staged a.txt', [{ tool: 'git_diff', input: { staged: true, file: 'a.txt' } }]],
  ['Show me the diff for "my file.txt"', [{ tool: 'git_diff', input: { file: 'my file.txt' } }]],
  ['Stage a.txt.', [{ tool: 'git_add', input: { files: ['a.txt'] } }]],
  ['Read ..', [{ tool: 'read_file', input: { path: '..' } }]],
  ['Read notes.txt?!', [{ tool: 'read_file', input: { path: 'notes.txt' } }]],
  ['Git log', [{ tool: 'git_log', input: { count: 10 } }]],
  ['Show the last 3 commits', [{ tool: 'git_log', input: { count: 3 } }]],
];

for (const [text, calls] of cases) {
  test(`planner maps: ${text}`, () => {
    assert.deepEqual(plan(text), { kind: 'tools', calls });
  });
}

test('planner answers plain chat without tools', () => {
  assert.deepEqual(plan('Hello, how are you today?'), { kind: 'chat' });
});

test('planner flags instructions it cannot map instead of guessing', () => {
  assert.deepEqual(plan('Delete the build folder'), { kind: 'unmapped' });
  assert.deepEqual(plan("Create a file with 'x'"), { kind: 'unmapped' });
  assert.deepEqual(plan('Rename a.txt to b.txt'), { kind: 'unmapped' });
  assert.deepEqual(plan("Commit\nwith message 'x'"), { kind: 'unmapped' }, '"with message" must be on the commit line');
});

// Shapes that took seconds on a 256 kB message (one blocked /health for 28 s): blank or punctuation runs
// two quantifiers could share, and a quote pattern retried at every "with message". At 1 MB a linear
// planner needs tens of milliseconds and a quadratic one minutes, so a 3 s bound cannot be met by luck
// either way, even on a loaded machine.
const MB = 1024 * 1024;
const adversarial: Record<string, string> = {
  'git diff, blanks, no end': `git diff${' '.repeat(MB)}x y`,
  'staged diff, newlines': `Show the staged diff${'\n'.repeat(MB)}'x`,
  'stage, blanks, newline': `stage x${' '.repeat(MB)}y\nz`,
  'read, dots': `Read a${'.'.repeat(MB)}b`,
  'list in, commas': `show me all the files in ${','.repeat(MB)}x`,
  'commit, many "with message"': `commit ${"with message 'a ".repeat(MB / 16)}`,
  'create, blanks before quote': `create x with${' '.repeat(MB)}y`,
  'write to, quotes': `write '${"' to ".repeat(MB / 5)}`,
  'run, blanks in the command': `Run \`a${' '.repeat(MB)}b\``,
  'search, blanks in the pattern': `grep '${' '.repeat(MB)}'`,
};

for (const [name, text] of Object.entries(adversarial)) {
  test(`linear time on 1 MB: ${name}`, () => {
    const started = performance.now();
    const p = plan(text);
    splitIntoPieces(introText(p, text), 2);
    if (p.kind === 'tools')
      closingText(
        p,
        p.calls.map((c) => [c, { ok: false, error: `Permission denied: ${JSON.stringify(c.input)}` }]),
      );
    const ms = performance.now() - started;
    assert.ok(ms < 3000, `${name}: ${ms.toFixed(0)} ms`);
  });
}
