// model.jsonl: one line per request the backend sent the model: the user text, the tools it declared,
// the tool results it returned, which rule answered with what, the stand-in's own checks, and timings.
// Kept in memory too, so a run can judge what its backend sent while the stand-in serves it.
import { appendFileSync } from 'node:fs';
import type { Conversation } from './conversation.ts';
import type { ModelCheck, Reply } from './rules.ts';
import type { ReplyTiming } from './stream-out.ts';

export type KeyKind = 'placeholder' | 'other' | 'none';

export interface ModelRecord {
  seq: number;
  at: string;
  api: Conversation['api'] | 'unknown';
  path: string;
  status: number;
  model?: string;
  stream?: boolean;
  /** Which API key the request carried, never the key: a real one here means the backend got one. */
  key?: KeyKind;
  userText?: string;
  declaredTools?: string[];
  toolCalls?: { name: string; input: unknown }[];
  toolResults?: { tool?: string; content: string; isError: boolean }[];
  /** 1-based number of the rule that answered; null: no rule matched. */
  rule?: number | null;
  ruleName?: string;
  reply?: { text: string; calls: { name: string; input: unknown }[] };
  checks?: ModelCheck[];
  /** Rough token counts (about 4 characters a token): what a real model would bill for this request. */
  tokens?: { input: number; output: number };
  error?: string;
  timing?: ReplyTiming & { ttftMs: number; tokensPerSecond: number };
}

/** Longer tool results are cut in the log (the whole text still reaches the rules). */
const MAX_RESULT_CHARS = 4000;

export class ModelLog {
  readonly records: ModelRecord[] = [];
  constructor(private readonly file?: string) {}

  answered(
    path: string,
    conv: Conversation,
    reply: Reply,
    timing: ReplyTiming,
    key: KeyKind,
    inputTokens: number,
  ): ModelRecord {
    return this.add({
      api: conv.api,
      path,
      status: 200,
      model: conv.model,
      stream: conv.stream,
      key,
      userText: conv.userText,
      declaredTools: conv.declaredTools,
      toolCalls: conv.calls.map((c) => ({ name: c.name, input: c.input })),
      toolResults: conv.results.map((r) => ({
        ...(r.name !== undefined ? { tool: r.name } : {}),
        content: r.content.length > MAX_RESULT_CHARS ? r.content.slice(0, MAX_RESULT_CHARS) + '…' : r.content,
        isError: r.isError,
      })),
      rule: reply.rule === undefined ? null : reply.rule + 1,
      ...(reply.ruleName !== undefined ? { ruleName: reply.ruleName } : {}),
      reply: { text: reply.text, calls: reply.calls },
      checks: reply.checks,
      tokens: { input: inputTokens, output: timing.pieces },
      timing: { ...timing, ttftMs: reply.ttftMs, tokensPerSecond: reply.tokensPerSecond },
    });
  }

  refused(api: ModelRecord['api'], path: string, status: number, error: string): ModelRecord {
    return this.add({ api, path, status, error });
  }

  private add(r: Omit<ModelRecord, 'seq' | 'at'>): ModelRecord {
    const record = { seq: this.records.length + 1, at: new Date().toISOString(), ...r };
    this.records.push(record);
    if (this.file) appendFileSync(this.file, JSON.stringify(record) + '\n');
    return record;
  }

  /** Every check the stand-in made that failed. */
  failedChecks(): { record: ModelRecord; check: ModelCheck }[] {
    return this.records.flatMap((record) =>
      (record.checks ?? []).filter((c) => !c.passed).map((check) => ({ record, check })),
    );
  }
}
