import type { ServerContext } from './context.ts';
import type { Outbox } from './outbox.ts';
import { TOOL_PATTERNS_HINT } from './replies.ts';
import type { Binding } from './session-messages.ts';

type SlashHandler = (ctx: ServerContext, binding: Binding) => string | { error: string; code: string };

const COMMANDS: Record<string, { help: string; run: SlashHandler }> = {
  '/help': {
    help: 'list the commands',
    run: () =>
      [
        'Commands:',
        ...Object.entries(COMMANDS).map(([name, c]) => `  ${name}  ${c.help}`),
        `Instructions: ${TOOL_PATTERNS_HINT}`,
      ].join('\n'),
  },
  '/status': {
    help: "show this connection's session",
    run: (ctx, binding) => {
      const session = binding.sessionId ? ctx.store.get(binding.sessionId) : undefined;
      if (!session) return 'No session bound to this connection. Send init_session first.';
      return [
        `Session: ${session.id}`,
        `Project: ${session.projectPath}`,
        `Messages: ${session.messageCount}`,
        `Created: ${session.createdAt}`,
        `Last active: ${session.lastActiveAt}`,
      ].join('\n');
    },
  },
  '/clear': {
    help: 'reset the message count of this session',
    run: (ctx, binding) => {
      const cleared = binding.sessionId
        ? ctx.store.update(binding.sessionId, (s) => {
            s.messageCount = 0;
            s.lastActiveAt = new Date().toISOString();
          })
        : undefined;
      if (!cleared) return { error: 'No session: send init_session first', code: 'NO_SESSION' };
      return `Cleared session ${cleared.id}: message count is 0.`;
    },
  },
  '/sessions': {
    help: 'list all sessions',
    run: (ctx) => {
      const sessions = ctx.store.list();
      if (sessions.length === 0) return 'No sessions.';
      return [
        `${sessions.length} session(s):`,
        ...sessions.map((s) => `  ${s.id}  ${s.projectPath}  (${s.messageCount} messages)`),
      ].join('\n');
    },
  },
};

export function handleSlashCommand(ctx: ServerContext, out: Outbox, binding: Binding, raw: unknown): void {
  if (typeof raw !== 'string' || raw.trim() === '') {
    out.error('slash_command needs a string "command"', 'INVALID_MESSAGE');
    return;
  }
  const word = raw.trim().split(/\s+/)[0]!.toLowerCase();
  const name = word.startsWith('/') ? word : `/${word}`;
  const command = COMMANDS[name];
  if (!command) {
    out.error(`Unknown command: ${name}`, 'UNKNOWN_COMMAND');
    return;
  }
  const response = command.run(ctx, binding);
  if (typeof response !== 'string') {
    out.error(response.error, response.code);
    return;
  }
  // `content` is the documented field; `response` is the same text under the name one implementation uses.
  out.send({ type: 'slash_command_response', command: raw.trim(), content: response, response });
}
