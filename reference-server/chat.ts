import crypto from 'node:crypto';
import type { ServerContext } from './context.ts';
import type { Outbox } from './outbox.ts';
import { plan } from './planner.ts';
import { closingText, countWords, introText, splitIntoPieces } from './replies.ts';
import type { Binding } from './session-messages.ts';
import { runToolWithFaults } from './tools/faulty.ts';
import type { ToolCall, ToolOutcome } from './tools/types.ts';

/** One streamed reply: intro deltas, each tool's events, closing deltas, message_complete. */
export async function handleChat(ctx: ServerContext, out: Outbox, binding: Binding, text: string): Promise<void> {
  const session = binding.sessionId ? ctx.store.get(binding.sessionId) : undefined;
  if (!session) {
    out.error('No session: send init_session first', 'NO_SESSION');
    return;
  }
  const faults = ctx.faults;
  const thePlan = plan(text);
  let deltasSent = 0;

  // Returns false once the crash fault has closed the socket, so the caller stops mid-reply.
  const stream = (body: string, minPieces: number): boolean => {
    const pieces = splitIntoPieces(body, minPieces);
    for (let i = 0; i < pieces.length; i++) {
      out.send({ type: 'content_delta', delta: pieces[i] });
      deltasSent++;
      if (faults.has('chatty') && i === 0) out.send({ type: 'content_delta', delta: '' });
      if (faults.has('crash-mid-stream') && deltasSent === 2) {
        ctx.logger.log('error', 'crash_mid_stream', { connectionId: binding.connectionId });
        out.close(1011, 'internal error');
        return false;
      }
    }
    return true;
  };

  const intro = introText(thePlan, text);
  if (!stream(intro, 2)) return;

  const outcomes: Array<[ToolCall, ToolOutcome]> = [];
  if (thePlan.kind === 'tools') {
    const toolCtx = {
      projectPath: session.projectPath,
      execTimeoutMs: ctx.execTimeoutMs,
      onChildStart: ctx.trackChild,
    };
    for (const call of thePlan.calls) {
      if (!faults.has('no-tool-events')) out.send({ type: 'tool_execution', tool: call.tool, input: call.input });
      const started = Date.now();
      const outcome = await runToolWithFaults(faults, toolCtx, call.tool, call.input);
      ctx.logger.log(outcome.ok ? 'info' : 'warn', 'tool_run', {
        connectionId: binding.connectionId,
        sessionId: session.id,
        tool: call.tool,
        ok: outcome.ok,
        ms: Date.now() - started,
        // First line only: a failed command's error carries its output, which never goes into a log.
        ...(outcome.ok ? {} : { error: outcome.error.split('\n', 1)[0] }),
      });
      if (!faults.has('no-tool-events') && !faults.has('no-tool-result')) {
        out.send({
          type: 'tool_result',
          tool: call.tool,
          ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
        });
      }
      outcomes.push([call, outcome]);
    }
  }

  const closing = closingText(thePlan, outcomes);
  if (!stream(closing, 1)) return;

  ctx.store.update(session.id, (s) => {
    s.messageCount++;
    s.lastActiveAt = new Date().toISOString();
  });
  if (!faults.has('no-complete')) {
    out.send({
      type: 'message_complete',
      messageId: crypto.randomUUID(),
      tokensUsed: countWords(intro) + countWords(closing),
    });
  }
}
