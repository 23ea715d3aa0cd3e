// The rule engine on its own (pure): the default rules answer every message the default gates send with
// the tool those gates expect, a rule's call is made once and `then` follows the result, captures fill
// inputs, and the pieces a reply streams in join back to the whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadGatesFile } from '../../lib/gates/load.ts';
import { DEFAULT_MODEL_SECTION } from '../../lib/model-api/default-rules.ts';
import { NO_RULE_TEXT, chooseReply, scriptOf } from '../../lib/model-api/rules.ts';
import { jsonPieces, textPieces } from '../../lib/model-api/pacing.ts';
import type { Conversation } from '../../lib/model-api/conversation.ts';
import { ROOT } from '../helpers/cli.ts';

const ALL_TOOLS = [
  'read_file',
  'write_file',
  'list_files',
  'search_files',
  'execute_command',
  'git_status',
  'git_diff',
  'git_add',
  'git_commit',
  'git_log',
];

function conv(userText: string, more: Partial<Conversation> = {}): Conversation {
  return {
    api: 'anthropic',
    model: 'm',
    stream: true,
    userText,
    declaredTools: ALL_TOOLS,
    calls: [],
    results: [],
    messageCount: 1,
    ...more,
  };
}

test('the default rules call, for every message of the default gates, the tool those gates expect', () => {
  const loaded = loadGatesFile(path.join(ROOT, 'gates.yaml'));
  assert.ok(loaded.ok);
  const script = scriptOf(DEFAULT_MODEL_SECTION);
  let seen = 0;
  for (const gate of loaded.gates.gates) {
    const steps = gate.steps;
    steps.forEach((step, i) => {
      if (step.kind !== 'send') return;
      const sent = (step.params as { send: unknown }).send;
      if (typeof sent !== 'object' || sent === null || (sent as { type?: string }).type !== 'message') return;
      const text = String((sent as { message: string }).message)
        .replaceAll('${RUN_ID}', 'r1')
        .replaceAll('${PROJECT}', '/p');
      if (text.startsWith('/')) return; // a slash command sent as a message: the backend answers it, not the model
      // The tool the gate waits for: its tool_execution or tool_result expectation.
      const exps = ((step.params as { expect?: { where?: { tool?: string } }[] }).expect ?? [])
        .map((e) => e.where?.tool)
        .filter(Boolean);
      const reply = chooseReply(conv(text), script);
      seen++;
      if (exps.length) assert.equal(reply.calls[0]?.name, exps[0], `${gate.id} step ${i + 1}: "${text}"`);
      else assert.deepEqual(reply.calls, [], `${gate.id} step ${i + 1}: "${text}" expects no tool`);
      assert.notEqual(reply.text, NO_RULE_TEXT);
    });
  }
  assert.ok(seen >= 15, `${seen} messages`);
});

test('captures fill the tool input; a message after lines of context still matches', () => {
  const script = scriptOf(DEFAULT_MODEL_SECTION);
  assert.deepEqual(chooseReply(conv("Create a wsgate-read.txt file with 'read check r1'"), script).calls, [
    { name: 'write_file', input: { path: 'wsgate-read.txt', content: 'read check r1' } },
  ]);
  assert.deepEqual(chooseReply(conv('Project: /p\nRead notes.md'), script).calls, [
    { name: 'read_file', input: { path: 'notes.md' } },
  ]);
  assert.deepEqual(chooseReply(conv('Run `echo wsgate-r1 > wsgate-exec.txt`'), script).calls, [
    { name: 'execute_command', input: { command: 'echo wsgate-r1 > wsgate-exec.txt' } },
  ]);
});

test('once the backend returned a result, the rule answers `then` and makes no second call', () => {
  const script = scriptOf({
    rules: [
      {
        when: { user: { regex: '^Read (?<path>\\S+)' } },
        call: { tool: 'read_file', input: { path: '$<path>' } },
        then: { text: 'Read $<path>.' },
        requireToolResult: { contains: 'x' },
      },
    ],
  });
  const after = chooseReply(
    conv('Read a.txt', {
      calls: [{ id: 't1', name: 'read_file', input: { path: 'a.txt' } }],
      results: [{ id: 't1', name: 'read_file', content: 'xyz', isError: false }],
    }),
    script,
  );
  assert.deepEqual(after.calls, []);
  assert.equal(after.text, 'Read a.txt.');
  assert.deepEqual(
    after.checks.map((c) => c.passed),
    [true],
  );
  const none = chooseReply(
    conv('Read a.txt', { calls: [{ id: 't1', name: 'read_file', input: {} }], results: [] }),
    script,
  );
  assert.deepEqual(
    none.checks.map((c) => c.passed),
    [false],
  );
  assert.match(none.checks[0]!.reason ?? '', /no read_file result/);
});

test('per-rule pace overrides the section, --ttft style overrides apply to the section', () => {
  const script = scriptOf(
    {
      ttft: '1s',
      tokensPerSecond: 10,
      rules: [
        { when: { user: 'a' }, text: 'A', ttft: 50 },
        { when: { user: 'b' }, text: 'B' },
      ],
    },
    { tokensPerSecond: 0 },
  );
  assert.deepEqual([chooseReply(conv('a'), script).ttftMs, chooseReply(conv('a'), script).tokensPerSecond], [50, 0]);
  assert.deepEqual([chooseReply(conv('b'), script).ttftMs, chooseReply(conv('b'), script).tokensPerSecond], [1000, 0]);
});

test('a section without rules serves the default rules at its pace; rules: [] answers with the fallback', () => {
  const paced = scriptOf({ ttft: '2s' });
  assert.equal(chooseReply(conv('Git status'), paced).calls[0]?.name, 'git_status');
  assert.equal(chooseReply(conv('Git status'), paced).ttftMs, 2000);
  assert.equal(chooseReply(conv('Git status'), scriptOf({ rules: [] })).text, NO_RULE_TEXT);
});

test('stream pieces join back to the text and to the JSON, the JSON in at least two pieces', () => {
  const text = 'Hello there,  a  stand-in\nspeaks.';
  assert.equal(textPieces(text).join(''), text);
  for (const json of ['{}', '{"path":"a"}', JSON.stringify({ content: 'x'.repeat(100) })]) {
    const pieces = jsonPieces(json);
    assert.equal(pieces.join(''), json);
    assert.ok(pieces.length >= 2, json);
  }
});
