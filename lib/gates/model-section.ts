// The `model:` section of a gates file: what `wsgate model` (the model API stand-in) answers an agent
// backend. Each rule matches the latest user text with the expectation matchers, then streams a text
// and/or calls one of the tools the backend declared, and answers again once the tool's result comes back.
import { z } from 'zod';
import { Duration, Matcher } from './common-schema.ts';
import { matcherRegexes } from '../matching/match.ts';

function compiles(src: string): boolean {
  try {
    new RegExp(src);
    return true;
  } catch {
    return false;
  }
}

/** Pace of a reply: time to the first token, then tokens per second (0: as fast as possible). */
const pace = {
  ttft: Duration.optional().describe('Time before the first token of a reply (default 0)'),
  tokensPerSecond: z
    .number()
    .nonnegative()
    .optional()
    .describe('Pace of the streamed tokens after the first (default 0: no pause)'),
};

const ToolCall = z.strictObject({
  tool: z.string().describe('A tool the backend declares in its request (tools)'),
  input: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('The tool input; string values may hold $<name> from the when regex'),
});

export const ModelRule = z
  .strictObject({
    name: z.string().optional().describe('A label for model.jsonl and reports'),
    when: z
      .strictObject({
        user: Matcher.describe(
          "Matcher for the latest user text; a regex's named groups (?<name>…) fill $<name> in text, call.input and then",
        ),
      })
      .describe('When the rule answers'),
    text: z.string().optional().describe('Text streamed as the answer (with call: before the tool call)'),
    call: z
      .union([ToolCall, z.array(ToolCall).min(1)])
      .optional()
      .describe('The tool the model calls, or a list of tools it calls at once (parallel tool use)'),
    then: z.strictObject({ text: z.string().describe('The answer once the tool result came back') }).optional(),
    requireToolResult: Matcher.optional().describe(
      "What the tool result the backend returns to the model must hold (with several calls: the last call's tool); a failed check in model.jsonl otherwise",
    ),
    ...pace,
  })
  // Only when the keys themselves are right: a misspelled key is reported as that, not as a missing answer.
  .refine((r) => r.text !== undefined || r.call !== undefined, {
    when: (x) => x.issues.length === 0,
    message: 'a rule answers with text:, call: or both',
    params: { hint: 'add `text: ...` (the answer) or `call: {tool: NAME, input: {...}}`' },
  })
  .refine((r) => r.call !== undefined || (r.then === undefined && r.requireToolResult === undefined), {
    when: (x) => x.issues.length === 0,
    message: 'then: and requireToolResult: follow a tool call: this rule has no call:',
    path: ['call'],
  })
  .refine((r) => matcherRegexes(r.when.user).every(compiles), {
    when: (x) => x.issues.length === 0,
    message: 'when.user holds a regex that does not compile',
    path: ['when', 'user'],
  });

export const ModelSection = z.strictObject({
  ...pace,
  rules: z
    .array(ModelRule)
    .optional()
    .describe(
      "First matching rule answers; none: a plain text answer, recorded. Without rules: the default gates' rules (at this section's pace)",
    ),
  fallback: z.string().optional().describe('The answer when no rule matches'),
});

export type ModelRuleInput = z.infer<typeof ModelRule>;
export type ModelSectionInput = z.infer<typeof ModelSection>;
