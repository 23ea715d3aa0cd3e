// Reading an OpenAI Chat Completions request (POST /v1/chat/completions) into a Conversation; what the
// real API refuses with invalid_request_error is refused here too.
import {
  BadRequest,
  isObject,
  textOf,
  type Conversation,
  type ToolCallMade,
  type ToolResultReturned,
} from './conversation.ts';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];

export function readOpenAIRequest(body: unknown): Conversation {
  if (!isObject(body)) throw new BadRequest('the request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '')
    throw new BadRequest('you must provide a model parameter', 'model');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw new BadRequest("'messages' must contain at least one message", 'messages');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean')
    throw new BadRequest("'stream' must be a boolean", 'stream');
  const declaredTools: string[] = [];
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw new BadRequest("'tools' must be an array", 'tools');
    body.tools.forEach((t, i) => {
      const fn = isObject(t) ? t.function : undefined;
      if (!isObject(t) || t.type !== 'function' || !isObject(fn) || typeof fn.name !== 'string' || fn.name === '')
        throw new BadRequest(`Missing required parameter: 'tools[${i}].function.name'`, `tools[${i}].function.name`);
      declaredTools.push(fn.name);
    });
  }
  const messages = body.messages as unknown[];
  messages.forEach((m, i) => {
    if (!isObject(m) || !ROLES.includes(m.role as string))
      throw new BadRequest(`Invalid value for 'messages[${i}].role'`, `messages[${i}].role`);
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string')
      throw new BadRequest(`Missing required parameter: 'messages[${i}].tool_call_id'`, `messages[${i}].tool_call_id`);
  });
  const msgs = messages as Record<string, unknown>[];
  let at = -1;
  for (let i = msgs.length - 1; i >= 0; i--)
    if (msgs[i]!.role === 'user') {
      at = i;
      break;
    }
  const userText = at < 0 ? '' : textOf(msgs[at]!.content);
  const calls: ToolCallMade[] = [];
  const results: ToolResultReturned[] = [];
  for (const m of msgs.slice(at + 1)) {
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      for (const c of m.tool_calls as Record<string, unknown>[]) {
        const fn = isObject(c.function) ? c.function : {};
        let input: unknown = fn.arguments;
        try {
          input = JSON.parse(String(fn.arguments));
        } catch {
          // The arguments are kept as the text the backend sent back.
        }
        calls.push({ id: String(c.id), name: String(fn.name), input });
      }
    }
    if (m.role === 'tool') {
      const id = m.tool_call_id as string;
      const name = calls.find((c) => c.id === id)?.name;
      results.push({ id, ...(name !== undefined ? { name } : {}), content: textOf(m.content), isError: false });
    }
  }
  return {
    api: 'openai',
    model: body.model,
    stream: body.stream === true,
    userText,
    declaredTools,
    calls,
    results,
    messageCount: msgs.length,
  };
}
