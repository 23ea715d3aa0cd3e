// Answering as the OpenAI Chat Completions API does: with stream, `data:` lines of chat.completion.chunk
// objects (the role, then content pieces, then the tool call with its arguments split over chunks, then
// the finish reason; usage when stream_options.include_usage asks) and `data: [DONE]`; without, one
// chat.completion object.
import type { Conversation } from './conversation.ts';
import { randomId } from './ids.ts';
import { jsonPieces, textPieces } from './pacing.ts';
import type { Reply } from './rules.ts';
import { PieceClock, sendJson, type ReplyOut, type ReplyTiming } from './stream-out.ts';

export function openaiError(
  status: number,
  message: string,
  param: string | null,
  code: string | null = null,
  type = 'invalid_request_error',
): { status: number; body: unknown } {
  return { status, body: { error: { message, type, param, code } } };
}

export async function writeOpenAI(
  conv: Conversation,
  reply: Reply,
  out: ReplyOut,
  includeUsage: boolean,
): Promise<ReplyTiming> {
  const clock = new PieceClock(out.startedAt);
  const calls = reply.calls.map((c) => {
    const args = JSON.stringify(c.input);
    return { id: randomId('call_'), name: c.name, args, pieces: jsonPieces(args) };
  });
  const text = reply.text !== '' || calls.length === 0 ? reply.text : undefined;
  const textParts = text !== undefined ? textPieces(text) : [];
  const argParts = calls.flatMap((c) => c.pieces);
  const finish = calls.length ? 'tool_calls' : 'stop';
  const completionTokens = Math.max(1, textParts.length + argParts.length);
  const usage = {
    prompt_tokens: out.inputTokens,
    completion_tokens: completionTokens,
    total_tokens: out.inputTokens + completionTokens,
  };
  const id = randomId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  if (!conv.stream) {
    for (const _ of [...textParts, ...argParts]) {
      if (!(await out.pacer.beforePiece())) return clock.timing(false);
      clock.sent();
    }
    const message = {
      role: 'assistant',
      content: text ?? null,
      refusal: null,
      ...(calls.length
        ? {
            tool_calls: calls.map((c) => ({
              id: c.id,
              type: 'function',
              function: { name: c.name, arguments: c.args },
            })),
          }
        : {}),
    };
    sendJson(
      out.res,
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model: conv.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage,
        system_fingerprint: null,
      },
      { 'x-request-id': randomId('req_') },
    );
    return clock.timing(true);
  }
  const res = out.res;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': randomId('req_'),
  });
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: conv.model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`,
    );
  chunk({ role: 'assistant', content: '', refusal: null });
  for (const piece of textParts) {
    if (!(await out.pacer.beforePiece())) return cut(res, clock);
    chunk({ content: piece });
    clock.sent();
  }
  // Each call by its index: the first chunk names it (id, name), later ones add to its arguments.
  for (const [index, call] of calls.entries()) {
    for (const [i, piece] of call.pieces.entries()) {
      if (!(await out.pacer.beforePiece())) return cut(res, clock);
      chunk({
        tool_calls: [
          i === 0
            ? { index, id: call.id, type: 'function', function: { name: call.name, arguments: piece } }
            : { index, function: { arguments: piece } },
        ],
      });
      clock.sent();
    }
  }
  chunk({}, finish);
  if (includeUsage)
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: conv.model, system_fingerprint: null, choices: [], usage })}\n\n`,
    );
  res.write('data: [DONE]\n\n');
  res.end();
  return clock.timing(true);
}

function cut(res: ReplyOut['res'], clock: PieceClock): ReplyTiming {
  res.destroy();
  return clock.timing(false);
}
