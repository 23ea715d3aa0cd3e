// The OpenAI Chat Completions API of the stand-in, driven through the official openai package over real
// HTTP: streamed chunks (content, tool calls with arguments over several chunks, finish_reason, usage,
// [DONE]), the SDK's accumulating stream helper, non-streaming, the tool round trip and the error shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { LONG_CONTENT, READ_RULE, TWO_CALLS_RULE, WRITE_RULE, standIn } from './helpers.ts';

const TOOLS = [
  {
    type: 'function' as const,
    function: {
      name: 'write_file',
      parameters: {
        type: 'object',
        properties: { path: { type: 'string' }, content: { type: 'string' } },
        required: ['path', 'content'],
      },
    },
  },
  {
    type: 'function' as const,
    function: {
      name: 'read_file',
      parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    },
  },
];

function client(url: string): OpenAI {
  return new OpenAI({ apiKey: 'test', baseURL: `${url}/v1`, maxRetries: 0, timeout: 10_000 });
}

test('streaming: content pieces, then a tool call whose arguments arrive over several chunks, finish_reason tool_calls, usage', async (t) => {
  const s = await standIn(t, { rules: [WRITE_RULE] });
  const stream = await client(s.url).chat.completions.create({
    model: 'gpt-test',
    stream: true,
    stream_options: { include_usage: true },
    tools: TOOLS,
    messages: [{ role: 'user', content: `Create a test.txt file with '${LONG_CONTENT}'` }],
  });
  let text = '';
  let args = '';
  let argChunks = 0;
  let name = '';
  let id = '';
  let finish: string | null = null;
  let usage: unknown;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? '';
    for (const tc of choice.delta.tool_calls ?? []) {
      assert.equal(tc.index, 0);
      if (tc.id) id = tc.id;
      if (tc.function?.name) name = tc.function.name;
      if (tc.function?.arguments) {
        args += tc.function.arguments;
        argChunks++;
      }
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  assert.equal(text, 'Creating it.');
  assert.equal(name, 'write_file');
  assert.match(id, /^call_/);
  assert.ok(argChunks >= 3, `arguments in ${argChunks} chunks`);
  assert.deepEqual(JSON.parse(args), { path: 'test.txt', content: LONG_CONTENT });
  assert.equal(finish, 'tool_calls');
  assert.ok(usage && (usage as { total_tokens: number }).total_tokens > 0);
});

test("streaming: the SDK's accumulator (chat.completions.stream) builds the final completion", async (t) => {
  const s = await standIn(t, {
    rules: [WRITE_RULE, { when: { user: { contains: 'Hello' } }, text: 'Hello from the stand-in.' }],
  });
  const c = client(s.url);
  const hello = await c.chat.completions
    .stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hello' }] })
    .finalChatCompletion();
  assert.equal(hello.choices[0]!.message.content, 'Hello from the stand-in.');
  assert.equal(hello.choices[0]!.finish_reason, 'stop');
  const write = await c.chat.completions
    .stream({
      model: 'gpt-test',
      tools: TOOLS,
      messages: [{ role: 'user', content: "Create a b.txt file with 'bee'" }],
    })
    .finalChatCompletion();
  const call = write.choices[0]!.message.tool_calls?.[0];
  assert.ok(call && call.type === 'function');
  assert.deepEqual(JSON.parse(call.function.arguments), { path: 'b.txt', content: 'bee' });
});

test('non-streaming: one chat.completion with tool_calls and finish_reason', async (t) => {
  const s = await standIn(t, { rules: [WRITE_RULE] });
  const r = await client(s.url).chat.completions.create({
    model: 'gpt-test',
    tools: TOOLS,
    messages: [
      { role: 'system', content: 'You write files.' },
      { role: 'user', content: "Create a c.txt file with 'sea'" },
    ],
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(r.choices[0]!.message.content, 'Creating it.');
  const call = r.choices[0]!.message.tool_calls![0]!;
  assert.ok(call.type === 'function');
  assert.deepEqual(JSON.parse(call.function.arguments), { path: 'c.txt', content: 'sea' });
  assert.ok(r.usage!.prompt_tokens > 0);
});

test('the tool round trip: role tool results are judged by requireToolResult and recorded', async (t) => {
  const s = await standIn(t, { rules: [READ_RULE] });
  const c = client(s.url);
  const ask = { role: 'user' as const, content: 'Read test.txt' };
  const first = await c.chat.completions.create({ model: 'g', tools: TOOLS, messages: [ask] });
  const msg = first.choices[0]!.message;
  const call = msg.tool_calls![0]!;
  const answer = (result: string) =>
    c.chat.completions.create({
      model: 'g',
      tools: TOOLS,
      messages: [ask, msg, { role: 'tool', tool_call_id: call.id, content: result }],
    });
  const good = await answer('Test content\n');
  assert.equal(good.choices[0]!.message.content, 'Read it.');
  assert.equal(good.choices[0]!.finish_reason, 'stop');
  await answer('nothing like it');
  assert.deepEqual(
    s.log.records.flatMap((r) => r.checks ?? []).map((c) => c.passed),
    [true, false],
  );
  assert.deepEqual(s.log.records[1]!.toolCalls, [{ name: 'read_file', input: { path: 'test.txt' } }]);
});

test('a rule naming an undeclared tool: a text answer and a failed check naming the declared tools', async (t) => {
  const s = await standIn(t, { rules: [WRITE_RULE] });
  const r = await client(s.url).chat.completions.create({
    model: 'g',
    tools: [TOOLS[1]!],
    messages: [{ role: 'user', content: "Create a t.txt file with 'x'" }],
  });
  assert.equal(r.choices[0]!.finish_reason, 'stop');
  assert.equal(r.choices[0]!.message.tool_calls, undefined);
  assert.match(r.choices[0]!.message.content ?? '', /offers: read_file/);
  assert.deepEqual(
    s.log.failedChecks().map((f) => f.check.actual),
    [['read_file']],
  );
});

test('a malformed request gets 400 with the OpenAI error shape', async (t) => {
  const s = await standIn(t, { rules: [] });
  await assert.rejects(client(s.url).chat.completions.create({ model: 'g', messages: [] }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.status, 400);
    assert.equal(e.type, 'invalid_request_error');
    assert.equal(e.param, 'messages');
    assert.match(e.message, /messages/);
    return true;
  });
  const raw = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test' },
    body: JSON.stringify({ model: 'g', messages: [{ role: 'robot', content: 'x' }] }),
  });
  assert.equal(raw.status, 400);
  const body = (await raw.json()) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(body.error.param, 'messages[0].role');
});

test('a rule with a list of calls: tool_calls with indexes 0 and 1, their arguments interleaved by index', async (t) => {
  const s = await standIn(t, { rules: [TWO_CALLS_RULE] });
  const c = client(s.url);
  const ask = { role: 'user' as const, content: 'Do both' };
  const streamed = await c.chat.completions.stream({ model: 'g', tools: TOOLS, messages: [ask] }).finalChatCompletion();
  const plain = await c.chat.completions.create({ model: 'g', tools: TOOLS, messages: [ask] });
  for (const r of [streamed, plain]) {
    assert.equal(r.choices[0]!.finish_reason, 'tool_calls');
    const calls = r.choices[0]!.message.tool_calls!.map((x) =>
      x.type === 'function' ? [x.function.name, JSON.parse(x.function.arguments)] : x.type,
    );
    assert.deepEqual(calls, [
      ['write_file', { path: 'a.txt', content: LONG_CONTENT }],
      ['read_file', { path: 'b.txt' }],
    ]);
  }
});

test('a list naming one undeclared tool calls none of them and names the missing one', async (t) => {
  const s = await standIn(t, { rules: [TWO_CALLS_RULE] });
  const r = await client(s.url).chat.completions.create({
    model: 'g',
    tools: [TOOLS[0]!],
    messages: [{ role: 'user', content: 'both' }],
  });
  assert.equal(r.choices[0]!.message.tool_calls, undefined);
  assert.deepEqual(
    s.log.failedChecks().map((f) => f.check.expected),
    ['read_file'],
  );
});
