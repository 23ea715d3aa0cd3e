// Protocols without a type field: the shipped JSON-RPC and GraphQL over WebSocket files load as valid
// AsyncAPI, classify frames by their rules (a JSON-RPC reply by the member it has) and check each
// kind by its own schema; a copy of the JSON-RPC file that describes one app's methods checks their
// params while other methods keep the envelope check; broken rules are refused at their line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProtocol, isShippedProtocol, Coverage, formatCoverage, mergeCoverage } from '../../lib/protocol/index.ts';
import { lineOf } from '../helpers/servers.ts';
import { loadOk, loadText, shippedFile, shippedText } from './helpers.ts';

const V = '2.0';

/** The shipped JSON-RPC file with two methods of a chat app described, as docs/own-protocol.md shows. */
const CHAT_COPY = shippedText(
  'jsonrpc',
  [
    "      error: {$ref: '#/components/messages/error'}\n\noperations:",
    "      error: {$ref: '#/components/messages/error'}\n      add: {$ref: '#/components/messages/add'}\n      chat.message: {$ref: '#/components/messages/chat.message'}\n\noperations:",
  ],
  [
    "      - {$ref: '#/channels/rpc/messages/error'}\n  sendToClient:",
    "      - {$ref: '#/channels/rpc/messages/error'}\n      - {$ref: '#/channels/rpc/messages/add'}\n  sendToClient:",
  ],
  [
    "      - {$ref: '#/channels/rpc/messages/request'}\n\ncomponents:",
    "      - {$ref: '#/channels/rpc/messages/request'}\n      - {$ref: '#/channels/rpc/messages/chat.message'}\n\ncomponents:",
  ],
  [
    '  messages:\n    request:',
    `  messages:
    add:
      name: add
      payload:
        allOf:
          - $ref: '#/components/schemas/Request'
          - required: [params]
            properties:
              method: {const: add}
              params: {type: array, items: {type: number}, minItems: 2, maxItems: 2}
    chat.message:
      name: chat.message
      payload:
        allOf:
          - $ref: '#/components/schemas/Request'
          - required: [params]
            properties:
              method: {const: chat.message}
              params: {type: object, required: [from, text], properties: {from: {type: string}, text: {type: string}}}
    request:`,
  ],
);

test('the shipped JSON-RPC and GraphQL files are valid AsyncAPI documents with kind rules and reply ids', () => {
  const rpc = loadProtocol(shippedFile('jsonrpc'));
  assert.ok(rpc.ok, rpc.ok ? '' : JSON.stringify(rpc.errors, null, 2));
  assert.deepEqual(rpc.protocol.kinds.rules, [
    { field: 'method' },
    { has: 'result', kind: 'result' },
    { has: 'error', kind: 'error' },
  ]);
  assert.deepEqual(rpc.protocol.kinds.reply, { field: 'id', kinds: ['result', 'error'] });
  assert.deepEqual(rpc.protocol.incomingTypes, ['result', 'error'], 'any method is not a kind of its own');
  assert.equal(rpc.protocol.messagesRow, false);
  assert.ok(isShippedProtocol(shippedFile('jsonrpc')));

  const gql = loadProtocol(shippedFile('graphql-transport-ws'));
  assert.ok(gql.ok, gql.ok ? '' : JSON.stringify(gql.errors, null, 2));
  assert.deepEqual(gql.protocol.kinds.rules, [{ field: 'type' }]);
  assert.deepEqual(gql.protocol.kinds.reply, { field: 'id', kinds: ['next', 'error', 'complete'] });
  assert.deepEqual(gql.protocol.incomingTypes, ['connection_ack', 'ping', 'pong', 'next', 'error', 'complete']);
  assert.deepEqual(gql.protocol.outgoingTypes, ['connection_init', 'ping', 'pong', 'subscribe', 'complete']);
});

test('JSON-RPC: a reply is checked by the schema of result or error, any method by the envelope', () => {
  const r = loadProtocol(shippedFile('jsonrpc'));
  assert.ok(r.ok);
  const p = r.protocol;
  assert.equal(p.kindOf({ jsonrpc: V, id: 1, method: 'add', params: [1, 2] }), 'add');
  assert.equal(p.kindOf({ jsonrpc: V, id: 1, result: null }), 'result');
  assert.equal(p.kindOf({ jsonrpc: V, id: 1, error: { code: -32601, message: 'Method not found' } }), 'error');
  assert.deepEqual(p.validateOutgoing({ jsonrpc: V, id: 1, method: 'add', params: [1, 2] }), []);
  assert.deepEqual(p.validateOutgoing({ jsonrpc: V, method: 'log' }), [], 'a notification without params');
  assert.deepEqual(p.validateIncoming({ jsonrpc: V, id: 1, result: 3 }), []);
  assert.deepEqual(p.validateIncoming({ jsonrpc: V, id: null, error: { code: -32700, message: 'Parse error' } }), []);
  assert.deepEqual(
    p.validateIncoming({ jsonrpc: V, method: 'chat.message', params: { text: 'hi' } }),
    [],
    'a server notification',
  );
  const msgs = (v: { message: string }[]) => v.map((x) => x.message);
  assert.deepEqual(msgs(p.validateOutgoing({ jsonrpc: V, id: 1, method: 'add', params: 3 })), [
    'add.params: must be array,object',
  ]);
  assert.deepEqual(msgs(p.validateOutgoing({ jsonrpc: '1.0', id: 1, method: 'add' })), [
    'add.jsonrpc: must be equal to constant "2.0"',
  ]);
  assert.deepEqual(msgs(p.validateIncoming({ jsonrpc: V, result: 3 })), ["result: must have required property 'id'"]);
  assert.deepEqual(msgs(p.validateIncoming({ jsonrpc: V, id: 1, error: { code: 1.5, message: 'x' } })), [
    'error.error.code: must be integer',
  ]);
  assert.deepEqual(msgs(p.validateIncoming({ jsonrpc: V, id: 1, error: { code: 1 } })), [
    "error.error: must have required property 'message'",
  ]);
  assert.deepEqual(msgs(p.validateIncoming({ jsonrpc: V, id: 1, result: 1, error: { code: 1, message: 'x' } })), [
    "result: must not have the property 'error'",
  ]);
  assert.deepEqual(p.validateIncoming({ jsonrpc: V, id: 1 }), [
    {
      type: undefined,
      path: '',
      rule: 'missing-type',
      message:
        'server message has no kind (kinds are the value of `method`, else `result` when it has `result`, else `error` when it has `error`)',
    },
  ]);
});

test('a copy that describes its methods checks their params; other methods keep the envelope check', (t) => {
  const p = loadOk(t, CHAT_COPY);
  assert.deepEqual(p.outgoingTypes, ['result', 'error', 'add']);
  assert.deepEqual(p.incomingTypes, ['result', 'error', 'chat.message']);
  assert.deepEqual(p.validateOutgoing({ jsonrpc: V, id: 1, method: 'add', params: [1, 2] }), []);
  assert.deepEqual(
    p.validateOutgoing({ jsonrpc: V, id: 1, method: 'add', params: [1] }).map((v) => v.message),
    ['add.params: must NOT have fewer than 2 items'],
  );
  assert.deepEqual(
    p.validateOutgoing({ jsonrpc: V, id: 1, method: 'add', params: ['1', 2] }).map((v) => v.message),
    ['add.params[0]: must be number'],
  );
  assert.deepEqual(
    p.validateOutgoing({ jsonrpc: V, id: 1, method: 'sub', params: { a: 1 } }),
    [],
    'an undescribed method: the envelope is valid',
  );
  assert.deepEqual(
    p.validateOutgoing({ jsonrpc: V, id: 1, method: 'sub', params: 1 }).map((v) => v.message),
    ['sub.params: must be array,object'],
  );
  assert.deepEqual(
    p.validateIncoming({ jsonrpc: V, method: 'chat.message', params: { from: 'a' } }).map((v) => v.message),
    ["chat.message.params: must have required property 'text'"],
  );
  // A described server→client method is not a client→server one: that direction falls back to the envelope.
  assert.deepEqual(p.validateOutgoing({ jsonrpc: V, method: 'chat.message', params: {} }), []);
});

test('coverage of a JSON-RPC copy: methods and replies rows, names it does not describe shown apart, shards merge', (t) => {
  const p = loadOk(t, CHAT_COPY);
  const run = (calls: [string, unknown][]) => {
    const cov = new Coverage(p);
    for (const [dir, json] of calls) {
      if (dir === 'out') cov.recordOutgoing(json);
      else cov.recordIncoming(json);
    }
    return cov.report();
  };
  const a = run([
    ['out', { jsonrpc: V, id: 1, method: 'add', params: [1, 2] }],
    ['in', { jsonrpc: V, id: 1, result: 3 }],
    ['out', { jsonrpc: V, id: 2, method: 'sub', params: [1, 2] }],
    ['in', { jsonrpc: V, id: 2, error: { code: -32601, message: 'Method not found' } }],
    // A reply the client sends is not a server reply.
    ['out', { jsonrpc: V, id: 9, result: 0 }],
  ]);
  assert.equal(a.messagesRow, false);
  assert.deepEqual(a.lists, [
    {
      key: 'methods',
      label: 'methods',
      items: [
        { name: 'add', count: 1 },
        { name: 'chat.message', count: 0 },
      ],
      unlisted: [{ name: 'sub', count: 1 }],
    },
    {
      key: 'replies',
      label: 'replies',
      items: [
        { name: 'result', count: 1 },
        { name: 'error', count: 1 },
      ],
    },
  ]);
  assert.deepEqual(a.percent, { methods: 50, replies: 100, overall: 75 });
  const text = formatCoverage(a);
  assert.match(text, /methods\s+1\/2\s+50\.0/);
  assert.match(text, /replies\s+2\/2\s+100\.0/);
  assert.match(text, /overall\s+3\/4\s+75\.0/);
  assert.doesNotMatch(text, /messages|tools|slash/);
  assert.match(text, /never seen:\n {4}methods: chat\.message\n/);
  assert.match(text, /seen, not described in the protocol file:\n {4}methods: sub$/);

  const b = run([
    ['in', { jsonrpc: V, method: 'chat.message', params: { from: 'x', text: 'y' } }],
    ['out', { jsonrpc: V, method: 'sub' }],
    ['out', { jsonrpc: V, method: 'mul' }],
    // A notification the server pushes that the copy does not describe: shown apart from the client's calls.
    ['in', { jsonrpc: V, method: 'notes.changed', params: {} }],
  ]);
  assert.match(
    formatCoverage(b),
    /seen, not described in the protocol file:\n {4}methods: mul, notes\.changed \(from the server\), sub$/,
  );
  const m = mergeCoverage([a, b])!;
  assert.deepEqual(m.lists[0]!.items, [
    { name: 'add', count: 1 },
    { name: 'chat.message', count: 1 },
  ]);
  assert.deepEqual(m.lists[0]!.unlisted, [
    { name: 'sub', count: 2 },
    { name: 'mul', count: 1 },
    { name: 'notes.changed (from the server)', count: 1 },
  ]);
  assert.deepEqual(m.percent, { methods: 100, replies: 100, overall: 100 });
});

test('GraphQL over WebSocket: frames by type, operation messages need their id, operations counted by name', (t) => {
  const r = loadProtocol(shippedFile('graphql-transport-ws'));
  assert.ok(r.ok);
  const p = r.protocol;
  assert.deepEqual(p.validateOutgoing({ type: 'subscribe', id: 'q1', payload: { query: '{ hello }' } }), []);
  assert.deepEqual(
    p.validateOutgoing({ type: 'subscribe', payload: { query: '{ hello }' } }).map((v) => v.message),
    ["subscribe: must have required property 'id'"],
  );
  assert.deepEqual(p.validateIncoming({ type: 'next', id: 'q1', payload: { data: { hello: 'x' } } }), []);
  assert.deepEqual(
    p.validateIncoming({ type: 'error', id: 'q1', payload: [] }).map((v) => v.message),
    ['error.payload: must NOT have fewer than 1 items'],
  );
  assert.deepEqual(
    p.validateIncoming({ type: 'error', id: 'q1', payload: [{ locations: [] }] }).map((v) => v.message),
    ["error.payload[0]: must have required property 'message'"],
  );
  assert.deepEqual(p.validateIncoming({ type: 'ping' }), [], 'ping travels both ways');
  assert.equal(
    p.validateOutgoing({ type: 'connection_ack' })[0]!.message,
    'unknown client message type connection_ack',
  );

  const copy = loadOk(t, shippedText('graphql-transport-ws', ['    names: []', '    names: [Hello, Count]']));
  const cov = new Coverage(copy);
  // operationName is read first: this frame names Hello once, not Other as well.
  cov.recordOutgoing({
    type: 'subscribe',
    id: '1',
    payload: { operationName: 'Hello', query: 'query Other { a } query Hello { hello }' },
  });
  cov.recordOutgoing({ type: 'subscribe', id: '2', payload: { query: 'subscription Count { count(to: 3) }' } });
  cov.recordOutgoing({ type: 'subscribe', id: '3', payload: { query: '{ anonymous }' } });
  cov.recordOutgoing({ type: 'subscribe', id: '4', payload: { query: '# a comment\n  mutation Write { w }' } });
  const ops = cov.report().lists.find((l) => l.key === 'operations')!;
  assert.deepEqual(ops.items, [
    { name: 'Hello', count: 1 },
    { name: 'Count', count: 1 },
  ]);
  assert.deepEqual(ops.unlisted, [{ name: 'Write', count: 1 }]);
  assert.equal(cov.report().percent.operations, 100);
});

test('broken kind rules, reply rules and coverage rows are refused at their line', (t) => {
  const cases: { edit: [string, string]; file?: string; title: RegExp; marker: string; below?: number }[] = [
    {
      edit: ['  - {field: method}', '  - {feld: method}'],
      title: /^x-wsgate-kinds\.0: unknown key "feld"/,
      marker: '{feld: method}',
    },
    {
      edit: ['  - {has: result, kind: result}', '  - {has: result}'],
      title: /^x-wsgate-kinds\.1\.kind: /,
      marker: '{has: result}',
    },
    {
      edit: ['x-wsgate-kinds:\n', 'x-wsgate-type-field: method\nx-wsgate-kinds:\n'],
      title: /^x-wsgate-type-field and x-wsgate-kinds both given/,
      marker: 'x-wsgate-type-field',
    },
    {
      edit: [
        'x-wsgate-reply: {field: id, kinds: [result, error]}',
        'x-wsgate-reply: {field: id, kinds: [result, eror]}',
      ],
      title: /^x-wsgate-reply\.kinds\.1: no message of the file has kind "eror"/,
      marker: 'x-wsgate-reply',
    },
    {
      edit: ['    kinds: [result, error]\n    from: server', '    kinds: [result, errors]\n    from: server'],
      title: /^x-wsgate-coverage\.replies\.kinds\.1: no message of the file has kind "errors"/,
      marker: 'kinds: [result, errors]',
    },
    {
      edit: ['  messages: false', '  messages: no'],
      title: /^x-wsgate-coverage\.messages: true or false/,
      marker: 'messages: no',
    },
    {
      edit: ['      x-wsgate-any-kind: true', '      x-wsgate-any-kind: 1'],
      title: /^message request: x-wsgate-any-kind must be true or false/,
      marker: 'x-wsgate-any-kind: 1',
    },
    {
      edit: ['  - {has: error, kind: error}', '  - {has: error, kind: failure}'],
      title:
        /^message error: no kind: its payload fixes none of "method" with a const, and its name "error" is none of "result", "failure"/,
      marker: 'summary: The reply to a request that failed',
      below: 2,
    },
    {
      file: 'graphql-transport-ws',
      edit: ["field: payload.query, pattern: '", "field: payload.query, pattern: '("],
      title: /^x-wsgate-coverage\.operations\.seenIn\.1\.pattern: not a valid regular expression/,
      marker: 'field: payload.query',
    },
    {
      file: 'graphql-transport-ws',
      edit: [
        '{from: client, type: subscribe, field: payload.operationName}',
        '{from: client, type: subscribed, field: payload.operationName}',
      ],
      title: /^x-wsgate-coverage\.operations\.seenIn\.0\.type: no message of the file has kind "subscribed"/,
      marker: 'type: subscribed',
    },
  ];
  for (const c of cases) {
    const text = shippedText(c.file ?? 'jsonrpc', c.edit);
    const r = loadText(t, text);
    assert.ok(!r.ok, `refused: ${c.edit[1]}`);
    const e = r.errors.find((x) => c.title.test(x.title));
    assert.ok(e, `${c.title} among ${JSON.stringify(r.errors.map((x) => x.title))}`);
    assert.equal(e.loc?.line, lineOf(text, c.marker) + (c.below ?? 0), `${e.title} points at its line`);
    assert.match(e.loc?.file ?? '', /p\.asyncapi\.yaml$/);
  }
});

test('two messages that both check any kind in one direction are refused', (t) => {
  const text = shippedText('jsonrpc', ['      name: result\n', '      name: result\n      x-wsgate-any-kind: true\n']);
  const r = loadText(t, text);
  assert.ok(!r.ok);
  assert.ok(
    r.errors.some((e) => /two (client→server|server→client) messages say x-wsgate-any-kind/.test(e.title)),
    JSON.stringify(r.errors.map((e) => e.title)),
  );
});

test('tRPC: answers are named by the nested result.type, calls by method, and each kind is checked by its own schema', () => {
  const r = loadProtocol(shippedFile('trpc'));
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors, null, 2));
  const p = r.protocol;
  assert.deepEqual(p.kinds.rules, [{ field: 'method' }, { field: 'result.type' }, { has: 'error', kind: 'error' }]);
  assert.deepEqual(p.kinds.reply, { field: 'id', kinds: ['started', 'data', 'stopped', 'error'] });
  assert.deepEqual(p.incomingTypes, ['started', 'data', 'stopped', 'error', 'reconnect']);
  assert.deepEqual(p.outgoingTypes, ['connectionParams', 'query', 'mutation', 'subscription', 'subscription.stop']);
  assert.equal(p.kindOf({ id: 1, result: { type: 'stopped' } }), 'stopped');
  assert.deepEqual(p.validateIncoming({ id: 1, result: { type: 'data', id: '3', data: { id: '3', data: 3 } } }), []);
  assert.deepEqual(
    p.validateIncoming({ id: 1, result: { type: 'data', id: 3 } }).map((v) => v.message),
    ['data.result.id: must be string'],
  );
  assert.deepEqual(
    p
      .validateIncoming({ id: 1, error: { code: -32600, message: 'bad', data: { code: 'NOPE', httpStatus: 400 } } })
      .map((v) => v.rule),
    ['enum'],
  );
  assert.deepEqual(
    p.validateIncoming({ id: 1, error: { code: -32600, message: 'bad' } }).map((v) => v.message),
    ["error.error: must have required property 'data'"],
  );
  assert.deepEqual(
    p.validateOutgoing({ id: 1, method: 'subscription', params: { path: 'countdown', lastEventId: '2' } }),
    [],
  );
  assert.deepEqual(
    p.validateOutgoing({ id: 1, method: 'query', params: {} }).map((v) => v.message),
    ["query.params: must have required property 'path'"],
  );
  assert.deepEqual(
    p.validateOutgoing({ method: 'connectionParams', data: { token: 1 } }).map((v) => v.path),
    ['data.token'],
  );
});

test('a kind named by a nested field is found through the payload schema, allOf branches included', (t) => {
  const p = loadOk(
    t,
    `asyncapi: 3.0.0
info: {title: nested, version: '1'}
x-wsgate-kinds: [{field: result.type}]
components:
  schemas:
    Envelope: {type: object, required: [result], properties: {result: {type: object}}}
channels:
  main:
    address: /
    messages:
      started: {payload: {type: object, properties: {result: {type: object, properties: {type: {const: started}}}}}}
      data: {payload: {allOf: [{$ref: '#/components/schemas/Envelope'}, {properties: {result: {properties: {type: {enum: [data]}}}}}]}}
operations:
  serverSends: {action: send, channel: {$ref: '#/channels/main'}}
`,
  );
  assert.deepEqual(p.incomingTypes, ['started', 'data']);
  assert.deepEqual(p.validateIncoming({ result: { type: 'data' } }), []);
  assert.equal(p.validateIncoming({ result: { type: 'other' } })[0]!.rule, 'unknown-type');
});

test('OCPP 1.6J: array frames get kinds by index path and value, answers tie to their CALL by [1]; a file without index rules still refuses arrays', () => {
  const r = loadProtocol(shippedFile('ocpp1.6'));
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors, null, 2));
  const p = r.protocol;
  assert.deepEqual(p.incomingTypes, ['CALLRESULT', 'CALLERROR']);
  assert.equal(p.kindOf([2, 'a', 'BootNotification', {}]), 'BootNotification');
  assert.equal(p.kindOf([3, 'a', {}]), 'CALLRESULT');
  assert.equal(
    p.kindOf([4, 'a', 'NotImplemented', '', {}]),
    'CALLERROR',
    'the error code at [2] is not taken for an action',
  );
  assert.equal(p.kinds.requestId([2, 'boot-1', 'BootNotification', {}]), 'boot-1');
  assert.deepEqual(p.validateIncoming([3, 'a', {}]), []);
  assert.deepEqual(
    p.validateIncoming([2, 'a', 'Reset', { type: 'Hard' }]),
    [],
    'a CALL from the server: any action by the envelope',
  );
  assert.deepEqual(
    p.validateOutgoing([2, 'a', 'Heartbeat']).map((v) => v.message),
    ['Heartbeat: must NOT have fewer than 4 items'],
  );
  assert.deepEqual(
    p.validateIncoming([4, 'a', 'Oops', 'x', {}]).map((v) => [v.path, v.rule]),
    [['[2]', 'enum']],
  );
  assert.equal(p.validateIncoming({ not: 'an array' })[0]!.rule, 'missing-type');
  const agent = loadProtocol(shippedFile('agent-backend'));
  assert.ok(agent.ok);
  assert.equal(agent.protocol.validateIncoming([1, 2])[0]!.rule, 'not-object');
});

test('a value rule with a wrong shape is refused at its line', (t) => {
  const r = loadText(
    t,
    shippedText('ocpp1.6', [
      "{field: '[0]', equals: 4, kind: CALLERROR}",
      "{field: '[0]', equals: [4], kind: CALLERROR}",
    ]),
  );
  assert.ok(!r.ok);
  assert.match(r.errors[0]!.title, /^x-wsgate-kinds\.1\.equals: /);
});
