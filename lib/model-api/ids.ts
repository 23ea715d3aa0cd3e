// Identifiers in the shapes the real APIs use (msg_…, toolu_…, chatcmpl-…, call_…): backends that log or
// check them see familiar values.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** A rough token count (about 4 characters a token), for usage fields. */
export function roughTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Rough input tokens of a request: what a model reads of it (system prompt, messages, tool schemas). */
export function requestTokens(body: unknown): number {
  if (body === null || typeof body !== 'object') return 1;
  const b = body as Record<string, unknown>;
  return roughTokens(JSON.stringify([b.system ?? null, b.messages ?? null, b.tools ?? null]));
}
