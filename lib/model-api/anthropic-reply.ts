// Answering as the Anthropic Messages API does: with stream, server-sent events (message_start, then each
// content block's start, deltas and stop, then message_delta with the stop reason and usage, then
// message_stop); without, one Message object. Tool input streams as input_json_delta pieces of the JSON.
import type { Conversation } from './conversation.ts';
import { randomId } from './ids.ts';
import { jsonPieces, textPieces } from './pacing.ts';
import type { Reply } from './rules.ts';
import { PieceClock, sendJson, type ReplyOut, type ReplyTiming } from './stream-out.ts';

export function anthropicError(status: number, type: string, message: string): { status: number; body: unknown } {
  return { status, body: { type: 'error', error: { type, message } } };
}

interface ToolBlock {
  id: string;
  name: string;
  input: Record<string, unknown>;
  pieces: string[];
}

/** A text block (unless the reply only calls tools), then one tool_use block per call. */
function blocksOf(reply: Reply): { text?: string; tools: ToolBlock[] } {
  return {
    ...(reply.text !== '' || reply.calls.length === 0 ? { text: reply.text } : {}),
    tools: reply.calls.map((c) => ({ id: randomId('toolu_'), ...c, pieces: jsonPieces(JSON.stringify(c.input)) })),
  };
}

export async function writeAnthropic(conv: Conversation, reply: Reply, out: ReplyOut): Promise<ReplyTiming> {
  const clock = new PieceClock(out.startedAt);
  const { text, tools } = blocksOf(reply);
  const stopReason = tools.length ? 'tool_use' : 'end_turn';
  const textParts = text !== undefined ? textPieces(text) : [];
  const jsonParts = tools.flatMap((t) => t.pieces);
  const outputTokens = Math.max(1, textParts.length + jsonParts.length);
  const id = randomId('msg_');
  if (!conv.stream) {
    for (const _ of [...textParts, ...jsonParts]) {
      if (!(await out.pacer.beforePiece())) return clock.timing(false);
      clock.sent();
    }
    const content = [
      ...(text !== undefined ? [{ type: 'text', text }] : []),
      ...tools.map((t) => ({ type: 'tool_use', id: t.id, name: t.name, input: t.input })),
    ];
    sendJson(
      out.res,
      200,
      {
        id,
        type: 'message',
        role: 'assistant',
        model: conv.model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens: out.inputTokens, output_tokens: outputTokens },
      },
      { 'request-id': randomId('req_') },
    );
    return clock.timing(true);
  }
  const res = out.res;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': randomId('req_'),
  });
  const event = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  event('message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: conv.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: out.inputTokens, output_tokens: 1 },
    },
  });
  event('ping', {});
  let index = 0;
  // A block starts when its first piece is ready (after the model's pause), as the real API streams it.
  const block = async (
    start: Record<string, unknown>,
    pieces: string[],
    delta: (piece: string) => Record<string, unknown>,
  ): Promise<boolean> => {
    if (pieces.length === 0) event('content_block_start', { index, content_block: start });
    for (const [i, piece] of pieces.entries()) {
      if (!(await out.pacer.beforePiece())) return false;
      if (i === 0) event('content_block_start', { index, content_block: start });
      event('content_block_delta', { index, delta: delta(piece) });
      clock.sent();
    }
    event('content_block_stop', { index });
    index++;
    return true;
  };
  if (
    text !== undefined &&
    !(await block({ type: 'text', text: '' }, textParts, (t) => ({ type: 'text_delta', text: t })))
  )
    return cut(res, clock);
  for (const t of tools) {
    if (
      !(await block({ type: 'tool_use', id: t.id, name: t.name, input: {} }, t.pieces, (j) => ({
        type: 'input_json_delta',
        partial_json: j,
      })))
    )
      return cut(res, clock);
  }
  event('message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  event('message_stop', {});
  res.end();
  return clock.timing(true);
}

function cut(res: ReplyOut['res'], clock: PieceClock): ReplyTiming {
  res.destroy();
  return clock.timing(false);
}
