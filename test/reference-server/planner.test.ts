import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plan } from '../../reference-server/planner.ts';

const cases: Array<[string, unknown]> = [
  ["Create a test.txt file with 'Test content'", [{ tool: 'write_file', input: { path: 'test.txt', content: 'Test content' } }]],
  ['create a file named notes/a.md with "It\'s here"', [{ tool: 'write_file', input: { path: 'notes/a.md', content: "It's here" } }]],
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
});
