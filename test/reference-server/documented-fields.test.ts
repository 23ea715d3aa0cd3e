// The reference server sends at least what the protocol documents for every server message
// (the "required" column of docs/agent-backend.md), besides the fields it always sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, UUID, sessionFor, withServer, type Msg } from './helpers.ts';

const isString = (v: unknown) => typeof v === 'string';

/** The documented required fields per server message type. */
const REQUIRED: Record<string, (m: Msg) => boolean> = {
  session_initialized: (m) => UUID.test(m.sessionId) && typeof m.hasContext === 'boolean',
  content_delta: (m) => isString(m.delta),
  tool_execution: (m) => isString(m.tool) && typeof m.input === 'object' && m.input !== null,
  tool_result: (m) => isString(m.tool) && (isString(m.result) || isString(m.error)),
  message_complete: () => true,
  slash_command_response: (m) => isString(m.content),
  error: (m) => isString(m.error) && (m.code === undefined || isString(m.code)),
};

test('every server message of a full conversation carries its documented fields', () =>
  withServer({}, async ({ project, server, client }) => {
    const [fresh] = await client.exchange(
      { type: 'init_session', projectPath: project },
      (m) => m.type === 'session_initialized',
    );
    assert.equal(fresh.hasContext, false, 'a new session has no context');
    await client.chat("Create a test.txt file with 'Test content'");
    await client.chat('Read missing-file.txt');
    await client.chat('Hello there');
    await client.exchange({ type: 'slash_command', command: '/help' }, (m) => m.type === 'slash_command_response');
    await client.exchange({ type: 'message', message: '/status' }, (m) => m.type === 'slash_command_response');
    await client.exchange('{not json', (m) => m.type === 'error');
    await client.exchange({ type: 'slash_command', command: '/nope' }, (m) => m.type === 'error');

    const other = await Client.ready(server.url);
    const [resumed] = await other.exchange(
      { type: 'init_session', sessionId: fresh.sessionId },
      (m) => m.type === 'session_initialized',
    );
    assert.equal(resumed.hasContext, true, 'a resumed session with messages has context');
    await other.close();
    await sessionFor(client, project);

    const seen = new Set<string>();
    for (const m of client.messages) {
      const check = REQUIRED[m.type ?? ''];
      if (!check) continue;
      seen.add(m.type!);
      assert.ok(check(m), `${m.type} lacks a documented field: ${JSON.stringify(m)}`);
    }
    assert.deepEqual(
      [...seen].sort(),
      Object.keys(REQUIRED).sort(),
      'the conversation met every documented message type',
    );
    const slash = client.messages.find((m) => m.type === 'slash_command_response')!;
    assert.equal(slash.content, slash.response, 'the documented content and the older response carry the same text');
  }));
