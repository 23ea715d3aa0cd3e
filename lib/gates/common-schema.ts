// Schema pieces shared by several step kinds. The zod schemas are the one source of truth:
// the loader validates with them, TypeScript types are inferred from them, and the shipped
// JSON Schema for gates.yaml is generated from them.
import { z } from 'zod';

export const Duration = z
  .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m)$/, 'a duration such as 500ms, 5s or 1m')])
  .describe('A duration: a number of milliseconds or a string such as 500ms, 5s, 1m');

/** A duration, or one `${VAR}` that holds one (checked when the step runs): a CI job can shorten a soak. */
export const DurationOrVar = z
  .union([Duration, z.string().regex(/^\$\{[A-Za-z_][A-Za-z0-9_.]*\}$/)])
  .describe('A duration, or a ${VARIABLE} holding one');

export const FORMATS = ['uuid', 'iso-date', 'date-time', 'integer', 'email', 'url', 'json'] as const;

const JsonType = z.enum(['string', 'number', 'boolean', 'object', 'array', 'null']);

export const MatcherObject = z
  .strictObject({
    equals: z.unknown().optional(),
    format: z.enum(FORMATS).optional(),
    regex: z.string().optional(),
    contains: z.unknown().optional(),
    startsWith: z.string().optional(),
    exists: z.boolean().optional(),
    absent: z.boolean().optional(),
    oneOf: z.array(z.unknown()).optional(),
    type: z
      .union([JsonType, z.array(JsonType).min(1)])
      .optional()
      .describe('A JSON type, or a list of accepted types'),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    length: z.union([z.number().int().nonnegative(), z.lazy((): z.ZodType => MatcherObject)]).optional(),
    not: z.lazy((): z.ZodType => Matcher).optional(),
  })
  // `{}` holds for anything, a field that is not there included; exists and absent together hold for nothing.
  // (Not when a key was refused already: `{formt: uuid}` is a misspelling, not an empty matcher.)
  .refine((m) => Object.keys(m).length > 0, {
    when: (r) => r.issues.length === 0,
    message: 'an empty matcher {} checks nothing (it passes even when the field is missing)',
    params: {
      hint: 'write `{exists: true}` to require the field, or give a check such as `{equals: x}` or `{type: string}`',
    },
  })
  .refine((m) => !(m.exists === true && m.absent === true), {
    message: 'exists: true and absent: true together can never pass',
    path: ['absent'],
    params: { hint: 'keep one of them' },
  })
  // minProperties / not: the same two rules for editors (gates.schema.json), which do not see zod refinements.
  .meta({
    description: 'Field matcher: every key given must hold',
    minProperties: 1,
    not: {
      type: 'object',
      required: ['exists', 'absent'],
      properties: { exists: { const: true }, absent: { const: true } },
    },
  });

export const MATCHER_KEYS = Object.keys(MatcherObject.shape) as (keyof typeof MatcherObject.shape)[];

/** A scalar is shorthand for `equals`. */
export const Matcher = z.union([z.string(), z.number(), z.boolean(), z.null(), MatcherObject]);

/** A variable name: what `${NAME}` can substitute (captures, `vars:`, collect's into). */
export const VarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is letters, digits and "_", not starting with a digit');

export const FieldMatchers = z
  .record(z.string(), Matcher)
  .describe('Field path (a.b[0].c; a|b: the first of those fields that is present) to matcher');
export const Captures = z.record(VarName, z.string()).describe('Variable name to field path');

/** Which frames: by kind, by fields, or both. A string is a kind. */
export const SelectorObject = z.strictObject({
  type: z.string().optional().describe('The message kind (the value of the type field)'),
  where: FieldMatchers.optional().describe('Every matcher must hold'),
});
export const Selector = z.union([z.string().describe('A message kind'), SelectorObject]);

export const MessageExpectation = z.strictObject({
  type: z.string().optional().describe('The message kind (the value of the type field)'),
  where: FieldMatchers.optional().describe('Selects which message: every matcher must hold (skips others)'),
  match: FieldMatchers.optional(),
  capture: Captures.optional(),
  optional: z.boolean().optional().describe('Pass with a note if no such message arrives'),
});

export const RawExpectation = z.strictObject({
  raw: Matcher.describe('Matcher for a frame that is not JSON'),
  optional: z.boolean().optional(),
});

export const CollectExpectation = z.strictObject({
  collect: z.string().describe('Message kind whose pieces are gathered, e.g. content_delta'),
  where: FieldMatchers.optional().describe('Gather only the frames of that kind where every matcher holds'),
  field: z.string().optional().describe('Field holding each piece (default: delta)'),
  join: z.string().optional().describe('Text put between pieces (default: none; e.g. "," for numbers)'),
  min: z.number().int().nonnegative().optional().describe('Fewest pieces (default 1)'),
  text: Matcher.optional().describe('Matcher for the joined text'),
  into: VarName.optional().describe('Variable receiving the joined text'),
});

export const NoneExpectation = z.strictObject({
  none: Selector.describe('Frames that must not arrive'),
  for: Duration.describe('How long nothing matching may arrive; the step lasts at least this long'),
});

export const Expectation = z.union([CollectExpectation, RawExpectation, NoneExpectation, MessageExpectation]);
export const ExpectList = z.array(Expectation).min(1);

/**
 * What a frame that is not JSON does while a step waits: `fail` the step, `ignore` it (left for nobody),
 * or `{allow: [...]}`: the frames a matcher of the list holds for (a protocol's text keep-alive such as
 * `PING`) are skipped, any other non-JSON frame fails the step.
 */
export const NonJson = z
  .union([
    z.enum(['fail', 'ignore']),
    z.strictObject({
      allow: z.array(Matcher).min(1).describe('Matchers for the non-JSON frames that are skipped, e.g. [PING]'),
    }),
  ])
  .describe(
    'What a non-JSON frame does to a waiting step: fail (default), ignore, or {allow: [...]}: the listed frames are skipped, any other fails',
  );

export const Budget = z.union([Duration, z.strictObject({ max: Duration, soft: z.boolean().optional() })]);

/**
 * A waiting step's budget: by default from the send to the frame that met the step's last expectation;
 * `from`/`to` time the span between two frames of the exchange instead (the first of each kind after
 * the send), e.g. the tool alone: `{max: 500ms, from: tool_execution, to: tool_result}`.
 */
export const FrameBudget = z.union([
  Duration,
  z.strictObject({
    max: Duration,
    soft: z.boolean().optional(),
    from: Selector.optional().describe('Time from the first frame this selects (default: the send)'),
    to: Selector.optional().describe(
      "Time to the first frame this selects after `from` (default: the frame that met the step's last expectation)",
    ),
  }),
]);

/**
 * `sid`: differs on each connection of this step's group. `{var: sid, across: [cp1, cp2]}`: the value of
 * `sid` that each of those named connections captured (every connection of a group counts) differs,
 * each one must have captured it: two chargers must not get one session.
 */
export const DistinctEntry = z.union([
  z.string(),
  z.strictObject({
    var: VarName.describe('The captured variable'),
    across: z.array(z.string()).min(1).describe('Names of the connections whose captures of it must all differ'),
  }),
]);

/** Keys every waiting step on a connection shares. */
export const waitKeys = {
  name: z.string().optional().describe('A label for reports'),
  on: z.string().optional().describe('Connection name (default: main)'),
  within: Duration.optional().describe(
    'How long the step waits with nothing arriving: each frame received moves the deadline to this long after it, up to 20 times this for the step',
  ),
  budget: FrameBudget.optional().describe(
    'Latency budget (from the send, or between two frames with from/to); over budget fails unless soft',
  ),
  forbid: z
    .array(Selector)
    .optional()
    .describe('Frames (kinds, or {type, where} selectors) that fail the step at once when they arrive'),
  unordered: z.boolean().optional().describe('The expected messages may arrive in any order (default: in list order)'),
  distinct: z
    .array(DistinctEntry)
    .optional()
    .describe(
      'Captured variables that must differ across a connection group; {var, across: [names]}: the value each named connection captured',
    ),
};

export type Matcher = z.infer<typeof Matcher>;
export type MatcherObject = z.infer<typeof MatcherObject>;
export type Expectation = z.infer<typeof Expectation>;
export type MessageExpectation = z.infer<typeof MessageExpectation>;
export type CollectExpectation = z.infer<typeof CollectExpectation>;
export type RawExpectation = z.infer<typeof RawExpectation>;
export type NoneExpectation = z.infer<typeof NoneExpectation>;
export type Selector = z.infer<typeof Selector>;
export type DistinctEntryInput = z.infer<typeof DistinctEntry>;
export type SelectorObject = z.infer<typeof SelectorObject>;
export type Budget = z.infer<typeof Budget>;
export type NonJson = z.infer<typeof NonJson>;
export type FrameBudget = z.infer<typeof FrameBudget>;
