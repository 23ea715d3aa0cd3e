// Coverage numbers for hand-fed traffic: exactly half of a small protocol's message kinds, tools and
// slash commands (50.0 everywhere), then uneven numbers on the shipped protocol, and the table text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Coverage,
  DEFAULT_PROTOCOL_FILE,
  formatCoverage,
  loadProtocol,
  type Protocol,
} from '../../lib/protocol/index.ts';

const NOW = '2025-01-31T12:00:00.000Z';

const SMALL = `asyncapi: 3.0.0
info: {title: small, version: '1'}
x-wsgate-coverage:
  tools:
    names: [alpha, beta, gamma, delta]
    seenIn: [{from: server, type: tool_result, field: tool}]
  slashCommands:
    names: [/one, /two]
    seenIn:
      - {from: client, type: chat, field: text, firstWord: true, startsWith: /}
channels:
  c:
    address: /
    messages:
      hello: {payload: {type: object, properties: {type: {const: hello}}}}
      tool_result: {payload: {type: object, properties: {type: {const: tool_result}, tool: {type: string}}}}
      bye: {payload: {type: object, properties: {type: {const: bye}}}}
      oops: {payload: {type: object, properties: {type: {const: oops}}}}
      chat: {payload: {type: object, properties: {type: {const: chat}, text: {type: string}}}}
      quit: {payload: {type: object, properties: {type: {const: quit}}}}
operations:
  out:
    action: send
    channel: {$ref: '#/channels/c'}
    messages: [{$ref: '#/channels/c/messages/hello'}, {$ref: '#/channels/c/messages/tool_result'}, {$ref: '#/channels/c/messages/bye'}, {$ref: '#/channels/c/messages/oops'}]
  in:
    action: receive
    channel: {$ref: '#/channels/c'}
    messages: [{$ref: '#/channels/c/messages/chat'}, {$ref: '#/channels/c/messages/quit'}]
`;

function load(t: { after(fn: () => void): void }, text: string): Protocol {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-cov-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'small.asyncapi.yaml');
  writeFileSync(file, text);
  const r = loadProtocol(file);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
  return r.protocol;
}

test('exactly half of everything: 50.0 % per list and overall, counts per item', (t) => {
  const p = load(t, SMALL);
  const cov = new Coverage(p);
  // server→client: hello ×2, tool_result ×3 (alpha ×2, beta ×1); bye and oops never.
  cov.recordIncoming({ type: 'hello' });
  cov.recordIncoming({ type: 'hello', extra: 1 });
  cov.recordIncoming({ type: 'tool_result', tool: 'alpha' });
  cov.recordIncoming({ type: 'tool_result', tool: 'alpha' });
  cov.recordIncoming({ type: 'tool_result', tool: 'beta' });
  // client→server: chat ×3 of which one is /one; quit never.
  cov.recordOutgoing({ type: 'chat', text: '/one please' });
  cov.recordOutgoing({ type: 'chat', text: 'one' });
  cov.recordOutgoing({ type: 'chat', text: 'hello /two' });
  // Not counted: unknown kinds, non-objects, a tool name in the wrong direction, an unlisted tool.
  cov.recordIncoming({ type: 'banner' });
  cov.recordIncoming('garbage');
  cov.recordIncoming(null);
  cov.recordOutgoing({ type: 'tool_result', tool: 'gamma' });
  cov.recordIncoming({ type: 'tool_result', tool: 'zeta' });
  cov.recordIncoming({ type: 'chat', text: '/two' });

  const r = cov.report();
  assert.equal(r.protocolFile, p.file);
  assert.deepEqual(r.messages, [
    { direction: 'client→server', type: 'chat', count: 3 },
    { direction: 'client→server', type: 'quit', count: 0 },
    { direction: 'server→client', type: 'hello', count: 2 },
    { direction: 'server→client', type: 'tool_result', count: 4 },
    { direction: 'server→client', type: 'bye', count: 0 },
    { direction: 'server→client', type: 'oops', count: 0 },
  ]);
  const list = (key: string) => r.lists.find((l) => l.key === key)?.items;
  assert.deepEqual(list('tools'), [
    { name: 'alpha', count: 2 },
    { name: 'beta', count: 1 },
    { name: 'gamma', count: 0 },
    { name: 'delta', count: 0 },
  ]);
  assert.deepEqual(list('slashCommands'), [
    { name: '/one', count: 1 },
    { name: '/two', count: 0 },
  ]);
  assert.deepEqual(r.percent, { messages: 50, tools: 50, slashCommands: 50, overall: 50 });
});

test('the shipped protocol: half the tools and slash commands, 11 of 19 messages → 57.9 / 50 / 50 / 54.5', () => {
  const r0 = loadProtocol(DEFAULT_PROTOCOL_FILE);
  assert.ok(r0.ok);
  const cov = new Coverage(r0.protocol);
  for (const type of ['init_session', 'message', 'slash_command', 'ping'])
    cov.recordOutgoing({
      type,
      ...(type === 'slash_command' ? { command: '/help' } : {}),
      ...(type === 'message' ? { content: '/clear now' } : {}),
    });
  for (const type of ['connected', 'session_initialized', 'content_delta', 'message_complete', 'pong'])
    cov.recordIncoming({ type, timestamp: NOW });
  for (const tool of ['read_file', 'write_file', 'list_files'])
    cov.recordIncoming({ type: 'tool_execution', tool, input: {}, timestamp: NOW });
  for (const tool of ['execute_command', 'git_status'])
    cov.recordIncoming({ type: 'tool_result', tool, result: '', timestamp: NOW });
  const r = cov.report();
  // Message kinds seen: 4 client→server, 5 + tool_execution + tool_result server→client = 11.
  assert.equal(r.messages.filter((m) => m.count > 0).length, 11);
  assert.equal(r.percent.messages, 57.9); // 11 / 19
  assert.equal(r.percent.tools, 50); // 5 / 10
  assert.equal(r.percent.slashCommands, 50); // /help, /clear of 4
  assert.equal(r.percent.overall, 54.5); // (11 + 5 + 2) / 33
  assert.equal(r.lists.find((l) => l.key === 'slashCommands')!.items.find((s) => s.name === '/clear')?.count, 1);

  const text = formatCoverage(r);
  assert.match(text, /^protocol coverage \(.*agent-backend\.asyncapi\.yaml\)/);
  assert.match(text, /messages\s+11\/19\s+57\.9/);
  assert.match(text, /tools\s+5\/10\s+50\.0/);
  assert.match(text, /slash commands\s+2\/4\s+50\.0/);
  assert.match(text, /overall\s+18\/33\s+54\.5/);
  assert.match(text, /client→server: list_sessions, get_session, delete_session/);
  assert.match(text, /tools: search_files, git_diff, git_add, git_commit, git_log/);
  assert.match(text, /slash commands: \/status, \/sessions/);
});

test('nothing recorded: 0 % everywhere, and rows the protocol lacks are not shown', (t) => {
  const p = load(t, SMALL.replace(/x-wsgate-coverage:[\s\S]*?channels:/, 'channels:'));
  const r = new Coverage(p).report();
  assert.deepEqual(r.lists, [], 'a protocol without tools or slash commands has no such rows');
  assert.deepEqual(r.percent, { messages: 0, overall: 0 });
  assert.doesNotMatch(formatCoverage(r), /tools|slash commands/);
});

test('a message the protocol marks optional (x-wsgate-optional) counts only when seen', () => {
  const r = loadProtocol(DEFAULT_PROTOCOL_FILE, { checkDocument: false });
  assert.ok(r.ok);
  const cov = new Coverage(r.protocol);
  for (const t of r.protocol.incomingTypes.filter((x) => x !== 'connected')) cov.recordIncoming({ type: t });
  for (const t of r.protocol.outgoingTypes) cov.recordOutgoing({ type: t });
  const rep = cov.report();
  assert.equal(rep.percent.messages, 100, 'a server that never greets still covers every message it must send');
  assert.match(
    formatCoverage(rep),
    /messages +18\/18 +100\.0[\s\S]*never seen:\n +server→client: connected \(optional\)/,
  );
  cov.recordIncoming({ type: 'connected' });
  assert.match(formatCoverage(cov.report()), /messages +19\/19/, 'once seen it counts');
});
