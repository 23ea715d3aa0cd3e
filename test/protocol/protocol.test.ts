// The protocol file and its validators: the shipped AsyncAPI document loads, each direction catches a
// wrong message and names it, and a broken protocol file is refused with FILE:LINE:COL errors
// (from the official AsyncAPI JSON Schema, from zod for the x-wsgate extensions, from ajv for payloads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PROTOCOL_FILE, loadProtocol, instancePathToField, type Protocol } from '../../lib/protocol/index.ts';

const NOW = '2025-01-31T12:00:00.000Z';
const UUID = '0b8a7f2e-3c1d-4e5f-9a6b-7c8d9e0f1a2b';

function shipped(): Protocol {
  const r = loadProtocol(DEFAULT_PROTOCOL_FILE);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors, null, 2));
  return r.protocol;
}

function tempFile(t: { after(fn: () => void): void }, name: string, text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-protocol-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The shipped document with one piece of text replaced (the replaced text must be there). */
function shippedWith(from: string, to: string): string {
  const text = readFileSync(DEFAULT_PROTOCOL_FILE, 'utf8');
  assert.ok(text.includes(from), `the shipped protocol file contains ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

function lineOf(text: string, marker: string): number {
  const i = text.indexOf(marker);
  assert.ok(i >= 0, `marker ${marker}`);
  return text.slice(0, i).split('\n').length;
}

test('the shipped protocol file is where DEFAULT_PROTOCOL_FILE says and lists every message, tool and slash command', () => {
  assert.ok(path.isAbsolute(DEFAULT_PROTOCOL_FILE));
  assert.match(DEFAULT_PROTOCOL_FILE, /protocol[\\/]agent-backend\.asyncapi\.yaml$/);
  const p = shipped();
  assert.equal(p.file, DEFAULT_PROTOCOL_FILE);
  assert.equal(p.typeField, 'type');
  assert.deepEqual(p.incomingTypes, [
    'connected',
    'session_initialized',
    'content_delta',
    'tool_execution',
    'tool_result',
    'message_complete',
    'slash_command_response',
    'sessions_list',
    'session_data',
    'session_deleted',
    'error',
    'pong',
  ]);
  assert.deepEqual(p.outgoingTypes, [
    'init_session',
    'message',
    'slash_command',
    'list_sessions',
    'get_session',
    'delete_session',
    'ping',
  ]);
  assert.deepEqual(
    p.coverageLists.map((l) => l.key),
    ['tools', 'slashCommands'],
  );
  assert.deepEqual((p.coverageLists[0] as { names: string[] }).names, [
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
  ]);
  assert.deepEqual((p.coverageLists[1] as { names: string[] }).names, ['/help', '/status', '/clear', '/sessions']);
});

test('server→client: the documented fields are required, the seen ones typed only when present', () => {
  const p = shipped();
  // Exactly the documented fields: valid.
  assert.deepEqual(p.validateIncoming({ type: 'session_initialized', sessionId: UUID, hasContext: false }), []);
  assert.deepEqual(p.validateIncoming({ type: 'message_complete' }), []);
  assert.deepEqual(p.validateIncoming({ type: 'slash_command_response', content: 'help text' }), []);
  assert.deepEqual(p.validateIncoming({ type: 'error', error: 'bad' }), []);
  assert.deepEqual(p.validateIncoming({ type: 'tool_execution', tool: 'write_file', input: { path: 'a' } }), []);
  // What one implementation adds: valid too, and typed.
  const seen = {
    type: 'session_initialized',
    sessionId: UUID,
    hasContext: true,
    projectPath: '/tmp/p',
    messageCount: 0,
    createdAt: NOW,
    lastActiveAt: NOW,
    timestamp: NOW,
  };
  assert.deepEqual(p.validateIncoming(seen), []);
  assert.deepEqual(
    p.validateIncoming({ ...seen, createdAt: 'monday' }).map((v) => v.message),
    ['session_initialized.createdAt: must match format "date-time"'],
  );
  // A documented field missing or of the wrong type is a violation.
  assert.deepEqual(
    p.validateIncoming({ type: 'session_initialized', sessionId: UUID }).map((v) => v.message),
    ["session_initialized: must have required property 'hasContext'"],
  );
  assert.deepEqual(p.validateIncoming({ ...seen, sessionId: 'sess-1' }), [
    {
      type: 'session_initialized',
      path: 'sessionId',
      rule: 'format',
      message: 'session_initialized.sessionId: must match format "uuid"',
    },
  ]);
  assert.deepEqual(
    p.validateIncoming({ type: 'slash_command_response', command: '/help' }).map((v) => v.message),
    ["slash_command_response: must have at least one of the properties 'content', 'response'"],
  );
  assert.deepEqual(
    p.validateIncoming({ type: 'slash_command_response', response: 'text' }),
    [],
    'the text under its other name',
  );
});

test('server→client: tokensUsed is a count or {input, output}', () => {
  const p = shipped();
  assert.deepEqual(p.validateIncoming({ type: 'message_complete', messageId: 'm1', tokensUsed: 42 }), []);
  assert.deepEqual(p.validateIncoming({ type: 'message_complete', tokensUsed: { input: 10, output: 32 } }), []);
  assert.equal(
    p.validateIncoming({ type: 'message_complete', tokensUsed: { input: 10 } }).length,
    1,
    'an object needs both counts',
  );
  assert.equal(p.validateIncoming({ type: 'message_complete', tokensUsed: 'many' }).length, 1);
  assert.equal(p.validateIncoming({ type: 'message_complete', tokensUsed: -1 }).length, 1);
});

test('server→client: tool_result needs a tool and a result or a string error', () => {
  const p = shipped();
  assert.deepEqual(p.validateIncoming({ type: 'tool_result', tool: 'read_file', result: 'text' }), []);
  assert.deepEqual(
    p.validateIncoming({
      type: 'tool_result',
      tool: 'read_file',
      error: 'Permission denied: /etc/hosts',
      timestamp: NOW,
    }),
    [],
  );
  assert.deepEqual(
    p.validateIncoming({ type: 'tool_result', tool: 'read_file', error: 5 }).map((v) => v.message),
    ['tool_result.error: must be string'],
  );
  assert.deepEqual(
    p.validateIncoming({ type: 'tool_result', tool: 'read_file' }).map((v) => v.message),
    ["tool_result: must have at least one of the properties 'result', 'error'"],
  );
  assert.deepEqual(
    p.validateIncoming({ type: 'tool_result', result: 'x' }).map((v) => v.message),
    ["tool_result: must have required property 'tool'"],
  );
});

test('server→client: a timestamp is optional but must be a date-time when sent; nested paths read like gates.yaml paths', () => {
  const p = shipped();
  assert.deepEqual(p.validateIncoming({ type: 'pong' }), []);
  assert.deepEqual(
    p.validateIncoming({ type: 'pong', timestamp: 'yesterday' }).map((v) => v.message),
    ['pong.timestamp: must match format "date-time"'],
  );
  const v = p.validateIncoming({
    type: 'sessions_list',
    sessions: [
      { id: UUID, messageCount: 0 },
      { id: 'nope', messageCount: -1 },
    ],
    count: 2,
    timestamp: NOW,
  });
  assert.deepEqual(
    v.map((x) => x.path),
    ['sessions[1].id', 'sessions[1].messageCount'],
  );
  assert.equal(v[0]!.message, 'sessions_list.sessions[1].id: must match format "uuid"');
  assert.equal(v[1]!.message, 'sessions_list.sessions[1].messageCount: must be >= 0');
});

test('server→client: extra fields are allowed, unknown kinds and non-objects are violations', () => {
  const p = shipped();
  assert.deepEqual(p.validateIncoming({ type: 'pong', timestamp: NOW, serverTime: 12, note: 'extra' }), []);
  assert.deepEqual(p.validateIncoming({ type: 'server_notice', text: 'hi', timestamp: NOW }), [
    { type: 'server_notice', path: 'type', rule: 'unknown-type', message: 'unknown server message type server_notice' },
  ]);
  // A client→server kind is not a server→client kind.
  assert.equal(p.validateIncoming({ type: 'ping', timestamp: NOW })[0]!.message, 'unknown server message type ping');
  assert.equal(p.validateIncoming([1, 2])[0]!.rule, 'not-object');
  assert.equal(p.validateIncoming('hello')[0]!.message, 'server message is not a JSON object (got string "hello")');
  assert.equal(p.validateIncoming(null)[0]!.rule, 'not-object');
  assert.deepEqual(p.validateIncoming({ timestamp: NOW }), [
    { type: undefined, path: 'type', rule: 'missing-type', message: 'server message has no "type" field' },
  ]);
  assert.equal(p.validateIncoming({ type: 7 })[0]!.message, 'server message\'s "type" is not a string (got number 7)');
});

test('client→server: init_session with a numeric projectPath, a message without text, a bad get_session', () => {
  const p = shipped();
  assert.deepEqual(p.validateOutgoing({ type: 'init_session', projectPath: '/tmp/p' }), []);
  assert.deepEqual(p.validateOutgoing({ type: 'init_session', projectPath: 3 }), [
    { type: 'init_session', path: 'projectPath', rule: 'type', message: 'init_session.projectPath: must be string' },
  ]);
  assert.deepEqual(p.validateOutgoing({ type: 'message', content: 'hi' }), []);
  assert.deepEqual(p.validateOutgoing({ type: 'message', message: 'hi' }), []);
  assert.deepEqual(
    p.validateOutgoing({ type: 'message' }).map((v) => v.message),
    ["message: must have at least one of the properties 'message', 'content'"],
  );
  assert.deepEqual(
    p.validateOutgoing({ type: 'get_session' }).map((v) => v.message),
    ["get_session: must have required property 'sessionId'"],
  );
  assert.equal(
    p.validateOutgoing({ type: 'no_such_message_type' })[0]!.message,
    'unknown client message type no_such_message_type',
  );
  // Client messages carry no timestamp requirement.
  assert.deepEqual(p.validateOutgoing({ type: 'ping' }), []);
});

test('instance paths become field paths', () => {
  assert.equal(instancePathToField(''), '');
  assert.equal(instancePathToField('/a/b'), 'a.b');
  assert.equal(instancePathToField('/items/0/id'), 'items[0].id');
  assert.equal(instancePathToField('/a~1b/c~0d'), 'a/b.c~d');
});

test('a user protocol with another type field (x-wsgate-type-field: event) matches frames by that field', (t) => {
  const file = tempFile(
    t,
    'events.asyncapi.yaml',
    `asyncapi: 3.0.0
info: {title: events, version: '1'}
x-wsgate-type-field: event
channels:
  main:
    address: /
    messages:
      hello: {payload: {type: object, required: [event, who], properties: {event: {const: hello}, who: {type: string}}}}
      bye: {payload: {type: object, required: [event], properties: {event: {enum: [bye]}}}}
operations:
  # no messages list: every message of the channel
  serverSends: {action: send, channel: {$ref: '#/channels/main'}}
`,
  );
  const r = loadProtocol(file);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
  const p = r.protocol;
  assert.equal(p.typeField, 'event');
  assert.deepEqual(p.incomingTypes, ['hello', 'bye']);
  assert.deepEqual(p.outgoingTypes, []);
  assert.deepEqual(p.coverageLists, []);
  assert.deepEqual(p.validateIncoming({ event: 'hello', who: 'me' }), []);
  assert.deepEqual(
    p.validateIncoming({ event: 'hello' }).map((v) => v.message),
    ["hello: must have required property 'who'"],
  );
  assert.equal(p.validateIncoming({ type: 'hello' })[0]!.message, 'server message has no "event" field');
});

test('a missing file, a directory and YAML syntax errors are load errors, not exceptions', (t) => {
  const missing = loadProtocol('/nonexistent/wsgate/protocol.yaml');
  assert.ok(!missing.ok);
  assert.equal(missing.errors[0]!.code, 'GATES_FILE');
  assert.match(missing.errors[0]!.title, /protocol file not found/);
  const dir = loadProtocol(os.tmpdir());
  assert.ok(!dir.ok);
  assert.match(dir.errors[0]!.title, /is a directory/);
  const file = tempFile(t, 'bad.yaml', 'asyncapi: 3.0.0\ninfo: {title: x\n');
  const bad = loadProtocol(file);
  assert.ok(!bad.ok);
  assert.equal(bad.errors[0]!.code, 'YAML_SYNTAX');
  assert.equal(bad.errors[0]!.loc?.file.endsWith('bad.yaml'), true);
});

test('a document that is not AsyncAPI 3 is refused, with the place of the mistake', (t) => {
  const v2 = loadProtocol(tempFile(t, 'v2.yaml', 'asyncapi: 2.6.0\ninfo: {title: x, version: "1"}\nchannels: {}\n'));
  assert.ok(!v2.ok);
  assert.match(v2.errors[0]!.title, /asyncapi: "2\.6\.0" is not supported; wsgate reads AsyncAPI 3\.0\.0 and 3\.1\.0/);
  assert.equal(v2.errors[0]!.loc?.line, 1);

  // A wrong operation action is caught by the official AsyncAPI JSON Schema.
  const text = shippedWith(
    '  receiveClientMessages:\n    action: receive',
    '  receiveClientMessages:\n    action: recieve',
  );
  const r = loadProtocol(tempFile(t, 'action.yaml', text));
  assert.ok(!r.ok);
  const e = r.errors.find((x) => x.title.includes('operations.receiveClientMessages'));
  assert.ok(e, JSON.stringify(r.errors));
  assert.match(e.title, /^not a valid AsyncAPI document: /);
  assert.equal(e.loc?.line, lineOf(text, 'action: recieve'));
});

test('a payload schema with a misspelt keyword, a payload without a const type, a duplicate kind: each refused', (t) => {
  const typo = shippedWith('        required: [type, delta]', '        requird: [type, delta]');
  const r1 = loadProtocol(tempFile(t, 'typo.yaml', typo));
  assert.ok(!r1.ok);
  assert.match(
    r1.errors[0]!.title,
    /message content_delta: its payload schema does not compile: .*unknown keyword: "requird"/,
  );
  // The payload schema of content_delta: its first line is four below the message's name.
  assert.equal(r1.errors[0]!.loc?.line, lineOf(typo, 'content_delta:\n      name') + 4);

  const noConst = shippedWith('          type: {const: pong}', '          type: {type: string}');
  const r2 = loadProtocol(tempFile(t, 'noconst.yaml', noConst));
  assert.ok(!r2.ok);
  assert.match(r2.errors[0]!.title, /message pong: its payload does not fix the "type" property/);

  const dup = shippedWith('          type: {const: pong}', '          type: {const: error}');
  const r3 = loadProtocol(tempFile(t, 'dup.yaml', dup));
  assert.ok(!r3.ok);
  assert.match(r3.errors[0]!.title, /two server→client messages have type "error"/);

  const external = shippedWith(
    "timestamp: {$ref: '#/components/schemas/Timestamp'}",
    "timestamp: {$ref: 'common.yaml#/Timestamp'}",
  );
  const r4 = loadProtocol(tempFile(t, 'external.yaml', external));
  assert.ok(!r4.ok);
  assert.match(r4.errors.map((e) => e.title).join('\n'), /does not compile: .*common\.yaml/);
});

test('the x-wsgate-coverage extension is validated (zod): unknown keys and wrong types are named', (t) => {
  const text = shippedWith(
    '      - {from: server, type: tool_execution, field: tool}',
    '      - {from: serverside, type: tool_execution, feld: tool}',
  );
  const r = loadProtocol(tempFile(t, 'ext.yaml', text));
  assert.ok(!r.ok);
  const titles = r.errors.map((e) => e.title);
  assert.ok(
    titles.some((x) => x.startsWith('x-wsgate-coverage.tools.seenIn.0: unknown key "feld"')),
    titles.join('\n'),
  );
  assert.ok(
    titles.some((x) => x.startsWith('x-wsgate-coverage.tools.seenIn.0.from:')),
    titles.join('\n'),
  );
  assert.equal(r.errors[0]!.loc?.line, lineOf(text, '{from: serverside'));

  const tf = loadProtocol(tempFile(t, 'tf.yaml', shippedWith('x-wsgate-type-field: type', 'x-wsgate-type-field: ""')));
  assert.ok(!tf.ok);
  assert.match(tf.errors[0]!.title, /x-wsgate-type-field must be a non-empty string/);
});

test('validators are compiled once: 5 000 frames take well under 2.5 s even on a busy machine', () => {
  // Compiling a schema costs milliseconds; a validator rebuilt per frame would blow this bound many times.
  const p = shipped();
  const msg = { type: 'content_delta', delta: 'piece of text', timestamp: NOW };
  const t0 = performance.now();
  for (let i = 0; i < 5000; i++) assert.equal(p.validateIncoming(msg).length, 0);
  assert.ok(performance.now() - t0 < 2500, `took ${performance.now() - t0} ms`);
});
