// lib/record/detect.ts, pure: a shipped protocol is recognised from the client's first frames only
// when exactly one fits; the agent-backend's frames and unknown ones get none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectProtocol } from '../../lib/record/detect.ts';
import type { RecEvent } from '../../lib/record/recording.ts';

const out = (...frames: unknown[]): RecEvent[] =>
  frames.map((f, i) => ({ kind: 'out', conn: 'main', text: typeof f === 'string' ? f : JSON.stringify(f), at: i }));

test('tRPC, JSON-RPC, graphql-ws and OCPP-J sessions are recognised; agent-backend, mixed and unknown ones are not', () => {
  assert.equal(
    detectProtocol(
      out({ method: 'connectionParams', data: {} }, { id: 1, method: 'query', params: { path: 'hello' } }),
    ),
    'wsgate:trpc',
  );
  assert.equal(
    detectProtocol(out({ jsonrpc: '2.0', id: 1, method: 'query', params: { path: 'hello' } })),
    'wsgate:trpc',
    'tRPC may carry jsonrpc: "2.0" too',
  );
  assert.equal(detectProtocol(out({ jsonrpc: '2.0', id: 1, method: 'add', params: [1, 2] })), 'wsgate:jsonrpc');
  assert.equal(
    detectProtocol(
      out({ type: 'connection_init', payload: {} }, { id: 'q', type: 'subscribe', payload: { query: '{a}' } }),
    ),
    'wsgate:graphql-transport-ws',
  );
  assert.equal(detectProtocol(out([2, 'b1', 'BootNotification', {}])), 'wsgate:ocpp1.6');
  assert.equal(detectProtocol(out({ type: 'init_session', projectPath: '/p' })), undefined);
  assert.equal(detectProtocol(out({ jsonrpc: '2.0', id: 1, method: 'add' }, [2, 'x', 'Heartbeat', {}])), undefined);
  assert.equal(detectProtocol(out('not json')), undefined);
});
