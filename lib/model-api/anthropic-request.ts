// Reading an Anthropic Messages API request (POST /v1/messages) into a Conversation. What the real API
// refuses with invalid_request_error is refused here too, so a backend's malformed call fails the same way.
import {
  BadRequest,
  isObject,
  textOf,
  type Conversation,
  type ToolCallMade,
  type ToolResultReturned,
} from './conversation.ts';

export function readAnthropicRequest(body: unknown): Conversation {
  if (!isObject(body)) throw new BadRequest('the request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '') throw new BadRequest('model: Field required', 'model');
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1)
    throw new BadRequest('max_tokens: Field required (a positive integer)', 'max_tokens');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw new BadRequest('messages: at least one message is required', 'messages');
  if (body.stream !== undefined && typeof body.stream !== 'boolean')
    throw new BadRequest('stream: Input should be a valid boolean', 'stream');
  const declaredTools: string[] = [];
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw new BadRequest('tools: Input should be a valid list', 'tools');
    body.tools.forEach((t, i) => {
      if (!isObject(t) || typeof t.name !== 'string' || t.name === '')
        throw new BadRequest(`tools.${i}.name: Field required`, `tools.${i}.name`);
      // Server tools (web search and the like) carry a type; custom tools need an input_schema.
      if (t.type === undefined && !isObject(t.input_schema))
        throw new BadRequest(`tools.${i}.input_schema: Field required`, `tools.${i}.input_schema`);
      declaredTools.push(t.name);
    });
  }
  const messages = body.messages;
  messages.forEach((m, i) => {
    if (!isObject(m)) throw new BadRequest(`messages.${i}: Input should be an object`, `messages.${i}`);
    if (m.role !== 'user' && m.role !== 'assistant')
      throw new BadRequest(`messages.${i}.role: Input should be 'user' or 'assistant'`, `messages.${i}.role`);
    if (typeof m.content !== 'string' && !Array.isArray(m.content))
      throw new BadRequest(
        `messages.${i}.content: Input should be a string or a list of content blocks`,
        `messages.${i}.content`,
      );
    if (Array.isArray(m.content))
      m.content.forEach((b, j) => {
        if (!isObject(b) || typeof b.type !== 'string')
          throw new BadRequest(`messages.${i}.content.${j}.type: Field required`, `messages.${i}.content.${j}.type`);
        if (b.type === 'tool_result' && typeof b.tool_use_id !== 'string')
          throw new BadRequest(
            `messages.${i}.content.${j}.tool_use_id: Field required`,
            `messages.${i}.content.${j}.tool_use_id`,
          );
      });
  });
  if ((messages[0] as { role: string }).role !== 'user')
    throw new BadRequest('messages: the first message must use the "user" role', 'messages.0.role');

  // The latest user text: a user message with text of its own, not only tool results.
  const hasUserText = (m: Record<string, unknown>) =>
    m.role === 'user' &&
    (typeof m.content === 'string' || (m.content as unknown[]).some((b) => isObject(b) && b.type === 'text'));
  let at = -1;
  for (let i = messages.length - 1; i >= 0; i--)
    if (hasUserText(messages[i] as Record<string, unknown>)) {
      at = i;
      break;
    }
  const userText = at < 0 ? '' : textOf((messages[at] as { content: unknown }).content);
  const calls: ToolCallMade[] = [];
  const results: ToolResultReturned[] = [];
  for (const m of messages.slice(at + 1) as Record<string, unknown>[]) {
    if (!Array.isArray(m.content)) continue;
    for (const b of m.content as Record<string, unknown>[]) {
      if (m.role === 'assistant' && b.type === 'tool_use')
        calls.push({ id: String(b.id), name: String(b.name), input: b.input });
      if (m.role === 'user' && b.type === 'tool_result') {
        const id = b.tool_use_id as string;
        const name = calls.find((c) => c.id === id)?.name;
        results.push({
          id,
          ...(name !== undefined ? { name } : {}),
          content: textOf(b.content),
          isError: b.is_error === true,
        });
      }
    }
  }
  return {
    api: 'anthropic',
    model: body.model,
    stream: body.stream === true,
    userText,
    declaredTools,
    calls,
    results,
    messageCount: messages.length,
  };
}
