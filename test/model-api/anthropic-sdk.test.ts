// The Anthropic Messages API of the stand-in, driven through the official @anthropic-ai/sdk over real
// HTTP: streaming (raw events and the SDK's accumulating helper), non-streaming, tool calls whose input
// arrives as partial JSON, the tool-result round trip, and the error shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { LONG_CONTENT, READ_RULE, TWO_CALLS_RULE, WRITE_RULE, standIn } from './helpers.ts';

const TOOLS = [
  {
    name: 'write_file',
    description: 'Write a file',
    input_schema: {
      type: 'object' as const,
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
    },
  },
  {
    name: 'read_file',
    description: 'Read a file',
    input_schema: { type: 'object' as const, properties: { path: { type: 'string' } }, required: ['path'] },
  },
];

function client(url: string): Anthropic {
  return new Anthropic({ apiKey: 'test', baseURL: url, maxRetries: 0, timeout: 10_000 });
}

test('streaming: the raw events come in the documented order, the tool input as several input_json_delta pieces', async (t) => {
  const s = await standIn(t, { rules: [WRITE_RULE] });
  const stream = await client(s.url).messages.create({
    model: 'claude-test',
    max_tokens: 256,
    stream: true,
    tools: TOOLS,
    messages: [{ role: 'user', content: `Create a test.txt file with '${LONG_CONTENT}'` }],
  });
  const kinds: string[] = [];
  let partial = '';
  let jsonPieces = 0;
  let text = '';
  let stop: string | null = null;
  let toolId = '';
  for await (const ev of stream) {
    kinds.push(
      ev.type === 'content_block_delta'
        ? `delta:${ev.delta.type}`
        : ev.type === 'content_block_start'
          ? `start:${ev.content_block.type}`
          : ev.type,
    );
    if (ev.type === 'content_block_start' && ev.content_block.type === 'tool_use') toolId = ev.content_block.id;
    if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') {
      partial += ev.delta.partial_json;
      jsonPieces++;
    }
    if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
    if (ev.type === 'message_delta') stop = ev.delta.stop_reason;
  }
  assert.equal(kinds[0], 'message_start');
  assert.equal(kinds.at(-1), 'message_stop');
  assert.deepEqual(
    [...new Set(kinds)],
    [
      'message_start',
      'start:text',
      'delta:text_delta',
      'content_block_stop',
      'start:tool_use',
      'delta:input_json_delta',
      'message_delta',
      'message_stop',
    ],
  );
  assert.ok(jsonPieces >= 3, `tool input in ${jsonPieces} pieces`);
  assert.deepEqual(JSON.parse(partial), { path: 'test.txt', content: LONG_CONTENT });
  assert.equal(text, 'Creating it.');
  assert.equal(stop, 'tool_use');
  assert.match(toolId, /^toolu_[A-Za-z0-9]{20,}$/);
});

test("streaming: the SDK's own accumulator (messages.stream) builds the final message with the parsed tool input", async (t) => {
  const s = await standIn(t, { rules: [WRITE_RULE] });
  const final = await client(s.url)
    .messages.stream({
      model: 'claude-test',
      max_tokens: 256,
      tools: TOOLS,
      messages: [{ role: 'user', content: `Create a notes.md file with '${LONG_CONTENT}'` }],
    })
    .finalMessage();
  assert.match(final.id, /^msg_/);
  assert.equal(final.role, 'assistant');
  assert.equal(final.model, 'claude-test');
  assert.equal(final.stop_reason, 'tool_use');
  const tool = final.content.find((b) => b.type === 'tool_use');
  assert.ok(tool && tool.type === 'tool_use');
  assert.equal(tool.name, 'write_file');
  assert.deepEqual(tool.input, { path: 'notes.md', content: LONG_CONTENT });
  assert.ok(final.usage.input_tokens > 0 && final.usage.output_tokens > 0);
});

test('non-streaming: one Message with text and tool_use blocks', async (t) => {
  const s = await standIn(t, {
    rules: [WRITE_RULE, { when: { user: { contains: 'Hello' } }, text: 'Hi there, I am a stand-in.' }],
  });
  const c = client(s.url);
  const hello = await c.messages.create({
    model: 'm',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'Hello!' }],
  });
  assert.equal(hello.type, 'message');
  assert.equal(hello.stop_reason, 'end_turn');
  assert.deepEqual(hello.content, [{ type: 'text', text: 'Hi there, I am a stand-in.' }]);
  const write = await c.messages.create({
    model: 'm',
    max_tokens: 64,
    tools: TOOLS,
    messages: [{ role: 'user', content: "Create a a.txt file with 'x'" }],
  });
  assert.equal(write.stop_reason, 'tool_use');
  assert.deepEqual(
    write.content.map((b) => b.type),
    ['text', 'tool_use'],
  );
  // Rough token counts for the cost of a real run: the tool schema counts as input.
  const [plain, withTools] = s.log.records.map((r) => r.tokens!);
  assert.ok(
    plain!.input > 0 && withTools!.input > plain!.input && withTools!.output > 1,
    JSON.stringify([plain, withTools]),
  );
});

test('the tool-result round trip: the rule answers `then` and judges the result the backend returned', async (t) => {
  const s = await standIn(t, { rules: [READ_RULE] });
  const c = client(s.url);
  const ask = { role: 'user' as const, content: 'Read test.txt' };
  const first = await c.messages.create({ model: 'm', max_tokens: 64, tools: TOOLS, messages: [ask] });
  const call = first.content.find((b) => b.type === 'tool_use');
  assert.ok(call && call.type === 'tool_use');
  assert.deepEqual(call.input, { path: 'test.txt' });
  const answer = async (result: string) => {
    const stream = c.messages.stream({
      model: 'm',
      max_tokens: 64,
      tools: TOOLS,
      messages: [
        ask,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: result }] },
      ],
    });
    return stream.finalMessage();
  };
  const good = await answer('Test content');
  assert.equal(good.stop_reason, 'end_turn');
  assert.deepEqual(
    good.content.map((b) => (b.type === 'text' ? b.text : b.type)),
    ['Read it.'],
  );
  await answer('made-up result');
  const checks = s.log.records.flatMap((r) => r.checks ?? []);
  assert.deepEqual(
    checks.map((c) => c.passed),
    [true, false],
  );
  assert.equal(checks[1]!.actual, 'made-up result');
  assert.match(checks[1]!.name, /read: the read_file result the backend returned to the model/);
  assert.deepEqual(s.log.records[1]!.toolResults, [{ tool: 'read_file', content: 'Test content', isError: false }]);
});

test('a rule naming a tool the backend did not declare answers in text and records a failed check naming the declared tools', async (t) => {
  const s = await standIn(t, { rules: [WRITE_RULE] });
  const reply = await client(s.url).messages.create({
    model: 'm',
    max_tokens: 64,
    tools: [TOOLS[1]!],
    messages: [{ role: 'user', content: "Create a t.txt file with 'x'" }],
  });
  assert.equal(reply.stop_reason, 'end_turn');
  assert.ok(reply.content.every((b) => b.type === 'text'));
  const [failed] = s.log.failedChecks();
  assert.ok(failed);
  assert.equal(failed.check.expected, 'write_file');
  assert.deepEqual(failed.check.actual, ['read_file']);
  assert.match(failed.check.reason ?? '', /declared read_file/);
});

test('no rule matches: a plain text answer, recorded with rule null', async (t) => {
  const s = await standIn(t, { rules: [WRITE_RULE], fallback: 'No rule for that.' });
  const reply = await client(s.url).messages.create({
    model: 'm',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'What is the weather?' }],
  });
  assert.deepEqual(
    reply.content.map((b) => (b.type === 'text' ? b.text : b.type)),
    ['No rule for that.'],
  );
  assert.equal(s.log.records[0]!.rule, null);
  assert.equal(s.log.records[0]!.userText, 'What is the weather?');
});

test('a malformed request gets 400 with the Anthropic error shape, never a hang', async (t) => {
  const s = await standIn(t, { rules: [] });
  const c = client(s.url);
  await assert.rejects(c.messages.create({ model: 'm', max_tokens: 64, messages: [] }), (e: unknown) => {
    assert.ok(e instanceof Anthropic.BadRequestError);
    assert.equal(e.status, 400);
    const body = e.error as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /messages/);
    return true;
  });
  const raw = await fetch(`${s.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test' },
    body: '{not json',
  });
  assert.equal(raw.status, 400);
  assert.equal(((await raw.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
});

test('pace: the first token waits ttft, later tokens follow at tokensPerSecond', async (t) => {
  const s = await standIn(t, {
    ttft: 300,
    tokensPerSecond: 50,
    rules: [{ when: { user: { contains: 'Hello' } }, text: 'one two three four five six seven eight nine ten' }],
  });
  const started = performance.now();
  const stream = await client(s.url).messages.create({
    model: 'm',
    max_tokens: 64,
    stream: true,
    messages: [{ role: 'user', content: 'Hello' }],
  });
  let firstMs: number | undefined;
  for await (const ev of stream)
    if (ev.type === 'content_block_delta' && firstMs === undefined) firstMs = performance.now() - started;
  const totalMs = performance.now() - started;
  assert.ok(firstMs !== undefined && firstMs >= 290, `first token after ${firstMs} ms`);
  // 9 more tokens at 50/s: 180 ms after the first.
  assert.ok(totalMs - firstMs >= 170, `the rest took ${totalMs - firstMs} ms`);
  assert.ok(s.log.records[0]!.timing!.firstTokenMs! >= 290);
});

test('a client that hangs up mid-reply, and a stand-in closed mid-reply, end the paced reply at once', async (t) => {
  const s = await standIn(t, { ttft: '20s', rules: [{ when: { user: { contains: 'slow' } }, text: 'never sent' }] });
  const c = client(s.url);
  const controller = new AbortController();
  const stream = await c.messages.create(
    { model: 'm', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'slow' }] },
    { signal: controller.signal },
  );
  const kinds: string[] = [];
  try {
    for await (const ev of stream) {
      kinds.push(ev.type);
      if (ev.type === 'message_start') controller.abort();
    }
  } catch {
    // The SDK may end the iteration or throw on abort; either way no more events came.
  }
  assert.deepEqual(
    kinds.filter((k) => k !== 'ping'),
    ['message_start'],
  );
  // The stand-in notices at once (not after its 20 s ttft) and records the reply as cut off.
  const deadline = performance.now() + 5000;
  while (s.log.records.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.log.records[0]?.timing?.completed, false);
  assert.equal(s.log.records[0]?.timing?.firstTokenMs, undefined);

  const pending = c.messages.create({ model: 'm', max_tokens: 64, messages: [{ role: 'user', content: 'slow' }] });
  const closedAt = performance.now();
  const outcome = pending.then(
    () => 'answered',
    () => 'failed',
  );
  while (s.log.records.length < 1 || performance.now() - closedAt < 50) await new Promise((r) => setTimeout(r, 10));
  await s.close();
  assert.equal(await outcome, 'failed');
  assert.ok(performance.now() - closedAt < 5000, 'closing did not wait for the 20 s ttft');
});

test('a rule with a list of calls: one message with a tool_use block for each, streamed and not', async (t) => {
  const s = await standIn(t, { rules: [TWO_CALLS_RULE] });
  const c = client(s.url);
  const ask = { role: 'user' as const, content: 'Do both' };
  const streamed = await c.messages
    .stream({ model: 'm', max_tokens: 64, tools: TOOLS, messages: [ask] })
    .finalMessage();
  const plain = await c.messages.create({ model: 'm', max_tokens: 64, tools: TOOLS, messages: [ask] });
  for (const m of [streamed, plain]) {
    assert.equal(m.stop_reason, 'tool_use');
    assert.deepEqual(
      m.content.map((b) => (b.type === 'tool_use' ? [b.name, b.input] : b.type)),
      [
        ['write_file', { path: 'a.txt', content: LONG_CONTENT }],
        ['read_file', { path: 'b.txt' }],
      ],
    );
  }
  const ids = streamed.content.map((b) => (b.type === 'tool_use' ? b.id : ''));
  const done = await c.messages.create({
    model: 'm',
    max_tokens: 64,
    tools: TOOLS,
    messages: [
      ask,
      { role: 'assistant', content: streamed.content },
      { role: 'user', content: ids.map((id) => ({ type: 'tool_result' as const, tool_use_id: id, content: 'ok' })) },
    ],
  });
  assert.deepEqual(
    done.content.map((b) => (b.type === 'text' ? b.text : b.type)),
    ['Both done.'],
  );
  assert.deepEqual(
    s.log.records[2]!.toolResults!.map((r) => r.tool),
    ['write_file', 'read_file'],
  );
});
