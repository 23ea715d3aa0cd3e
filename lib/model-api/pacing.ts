// The pace of a reply: the model "thinks" for ttft, then emits one piece per token at tokensPerSecond.
// Pieces are words for text and short slices of the JSON for tool input, so a client sees text and
// partial JSON arrive the way a real model streams them.
import { setTimeout as sleep } from 'node:timers/promises';

/** Words with their trailing spaces (so the pieces join back to the text). */
export function textPieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** The JSON text in slices of about `size` characters: at least two when it has two characters or more. */
export function jsonPieces(json: string, size = 8): string[] {
  const n = Math.max(json.length >= 2 ? 2 : 1, Math.ceil(json.length / size));
  const step = Math.ceil(json.length / n);
  const out: string[] = [];
  for (let i = 0; i < json.length; i += step) out.push(json.slice(i, i + step));
  return out;
}

/** Waits `ms` unless aborted; false when aborted (the client left, or the server is closing). */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** The wait before each piece: ttft before the first, 1000/tps between the others. */
export class Pacer {
  private first = true;
  constructor(
    private readonly ttftMs: number,
    private readonly tokensPerSecond: number,
    private readonly signal: AbortSignal,
  ) {}

  /** Resolves false when the reply must stop. */
  async beforePiece(): Promise<boolean> {
    const wait = this.first ? this.ttftMs : this.tokensPerSecond > 0 ? 1000 / this.tokensPerSecond : 0;
    this.first = false;
    return pause(wait, this.signal);
  }
}
