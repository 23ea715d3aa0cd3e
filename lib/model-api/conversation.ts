// What the stand-in needs from a request, whichever API it came through: the latest text a user wrote,
// the tools the backend declared, and what happened since that text (the calls the model made and the
// results the backend returned for them). Both wire formats reduce to this, so one rule engine serves both.

export interface ToolCallMade {
  id: string;
  name: string;
  input: unknown;
}

export interface ToolResultReturned {
  id: string;
  /** The tool's name, found from the call with that id (undefined: the backend returned an unknown id). */
  name?: string;
  content: string;
  isError: boolean;
}

export interface Conversation {
  api: 'anthropic' | 'openai';
  model: string;
  stream: boolean;
  /** The last user message's text ('' when there is none). */
  userText: string;
  declaredTools: string[];
  /** Since the user text: the model's tool calls and the backend's results. */
  calls: ToolCallMade[];
  results: ToolResultReturned[];
  /** How many messages the request held. */
  messageCount: number;
}

/** A request the API refuses: the message and the parameter it names. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Text of a content that is a string or a list of parts with `text`. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p): p is { text: string } => isObject(p) && typeof p.text === 'string')
    .map((p) => p.text)
    .join('\n');
}
