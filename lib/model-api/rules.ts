// Which answer a request gets: the first rule whose `when` matches the latest user text. A rule that
// calls a tool calls it once; when the backend brings the tool's result back, the rule answers `then`
// (and judges the result against requireToolResult). A tool the backend did not declare is never
// called: the answer is text, and a failed check names the tools it did declare.
import type { ModelRuleInput, ModelSectionInput } from '../gates/model-section.ts';
import { parseDuration } from '../gates/duration.ts';
import { describe, isMatcherObject, matchValue } from '../matching/match.ts';
import type { Conversation } from './conversation.ts';
import { DEFAULT_MODEL_SECTION } from './default-rules.ts';

export interface ModelCheck {
  name: string;
  expected: unknown;
  actual: unknown;
  passed: boolean;
  reason?: string;
}

export interface Reply {
  /** Streamed before the calls, or the whole answer. */
  text: string;
  /** The tools the model calls in this turn (none: a text answer). */
  calls: { name: string; input: Record<string, unknown> }[];
  /** Index of the rule that answered; undefined: no rule matched. */
  rule?: number;
  ruleName?: string;
  ttftMs: number;
  tokensPerSecond: number;
  checks: ModelCheck[];
}

/** The rules and pace the stand-in serves (a gates file's `model:` section, and flags over it). */
export interface ModelScript {
  ttftMs: number;
  tokensPerSecond: number;
  rules: ModelRuleInput[];
  fallback?: string;
}

/**
 * The script a section describes, with flags over its pace. A section without `rules:` (only a pace, say)
 * serves the default gates' rules; `rules: []` answers everything with the fallback.
 */
export function scriptOf(
  section: ModelSectionInput | undefined,
  over: { ttftMs?: number; tokensPerSecond?: number } = {},
): ModelScript {
  const fallback = section?.fallback ?? (section?.rules === undefined ? DEFAULT_MODEL_SECTION.fallback : undefined);
  return {
    ttftMs: over.ttftMs ?? (section?.ttft !== undefined ? parseDuration(section.ttft) : 0),
    tokensPerSecond: over.tokensPerSecond ?? section?.tokensPerSecond ?? 0,
    rules: section?.rules ?? DEFAULT_MODEL_SECTION.rules ?? [],
    ...(fallback !== undefined ? { fallback } : {}),
  };
}

export const NO_RULE_TEXT = 'wsgate model: no rule answers this message.';

/** `$<name>` in a string replaced by the named group of the when regex. */
function filler(groups: Record<string, string>): (s: string) => string {
  return (s) => s.replace(/\$<([A-Za-z_][A-Za-z0-9_]*)>/g, (all, name: string) => groups[name] ?? all);
}

function fillDeep(v: unknown, fill: (s: string) => string): unknown {
  if (typeof v === 'string') return fill(v);
  if (Array.isArray(v)) return v.map((x) => fillDeep(x, fill));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillDeep(x, fill)]));
  return v;
}

function groupsOf(rule: ModelRuleInput, text: string): Record<string, string> {
  const m = rule.when.user;
  if (!isMatcherObject(m) || typeof m.regex !== 'string') return {};
  try {
    return { ...(new RegExp(m.regex).exec(text)?.groups ?? {}) };
  } catch {
    return {};
  }
}

export function chooseReply(conv: Conversation, script: ModelScript): Reply {
  const i = script.rules.findIndex((r) => matchValue(r.when.user, conv.userText).passed);
  if (i < 0)
    return {
      text: script.fallback ?? NO_RULE_TEXT,
      calls: [],
      ttftMs: script.ttftMs,
      tokensPerSecond: script.tokensPerSecond,
      checks: [],
    };
  const rule = script.rules[i]!;
  const label = rule.name ?? `rule ${i + 1}`;
  const fill = filler(groupsOf(rule, conv.userText));
  const base = {
    rule: i,
    ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
    ttftMs: rule.ttft !== undefined ? parseDuration(rule.ttft) : script.ttftMs,
    tokensPerSecond: rule.tokensPerSecond ?? script.tokensPerSecond,
  };
  if (!rule.call) return { ...base, text: fill(rule.text ?? 'OK.'), calls: [], checks: [] };
  const wanted = Array.isArray(rule.call) ? rule.call : [rule.call];
  const tool = wanted.at(-1)!.tool;
  // The backend brought results back: this is the model's second turn.
  if (conv.calls.length > 0) {
    const checks: ModelCheck[] = [];
    if (rule.requireToolResult !== undefined) {
      const expected = fillDeep(rule.requireToolResult, fill) as typeof rule.requireToolResult;
      const results = conv.results.filter((r) => r.name === tool);
      const last = results.at(-1);
      const judged = last
        ? matchValue(expected, last.content)
        : {
            passed: false,
            reason: `the backend returned no ${tool} result (results: ${describe(conv.results.map((r) => r.name ?? r.id))})`,
          };
      checks.push({
        name: `${label}: the ${tool} result the backend returned to the model`,
        expected,
        actual: last?.content,
        passed: judged.passed,
        ...(judged.reason ? { reason: judged.reason } : {}),
      });
    }
    return { ...base, text: fill(rule.then?.text ?? 'Done.'), calls: [], checks };
  }
  const missing = [...new Set(wanted.map((c) => c.tool).filter((t) => !conv.declaredTools.includes(t)))];
  if (missing.length) {
    const offered = conv.declaredTools.length ? conv.declaredTools.join(', ') : 'none';
    return {
      ...base,
      text: `I cannot call ${missing.join(', ')}: this backend offers no such tool (it offers: ${offered}).`,
      calls: [],
      checks: missing.map((t) => ({
        name: `${label}: the backend declares the tool ${t}`,
        expected: t,
        actual: conv.declaredTools,
        passed: false,
        reason: `the backend declared ${offered}`,
      })),
    };
  }
  const calls = wanted.map((c) => ({ name: c.tool, input: fillDeep(c.input ?? {}, fill) as Record<string, unknown> }));
  return { ...base, text: rule.text !== undefined ? fill(rule.text) : '', calls, checks: [] };
}
