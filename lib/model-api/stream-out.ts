// What both wire formats share when answering: the HTTP response, the pace, and the moments worth
// recording (when the first token left, whether the reply was finished or cut off by the client).
import type { ServerResponse } from 'node:http';
import type { Pacer } from './pacing.ts';

export interface ReplyOut {
  res: ServerResponse;
  pacer: Pacer;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Estimated tokens of the request, for usage. */
  inputTokens: number;
}

export interface ReplyTiming {
  /** ms from the request to the first content piece (text or tool input); undefined: none was sent. */
  firstTokenMs?: number;
  totalMs: number;
  pieces: number;
  /** False when the client went away or the server closed mid-reply. */
  completed: boolean;
}

/** Counts pieces and notes when the first one left. */
export class PieceClock {
  firstTokenMs: number | undefined;
  pieces = 0;
  constructor(private readonly startedAt: number) {}
  sent(): void {
    this.pieces++;
    if (this.firstTokenMs === undefined) this.firstTokenMs = Math.round(performance.now() - this.startedAt);
  }
  timing(completed: boolean): ReplyTiming {
    return {
      ...(this.firstTokenMs !== undefined ? { firstTokenMs: this.firstTokenMs } : {}),
      totalMs: Math.round(performance.now() - this.startedAt),
      pieces: this.pieces,
      completed,
    };
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
