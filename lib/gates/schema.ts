// The gates.yaml format (version 1): one zod schema from which the loader validates,
// the TypeScript types are inferred and gates.schema.json is generated.
import { z } from 'zod';
import { Duration, NonJson, VarName } from './common-schema.ts';
import { STEP_SCHEMAS, STEP_KINDS } from '../../steps/schemas/index.ts';
import { ModelSection } from './model-section.ts';

const stepSchemas = STEP_KINDS.map((k) => STEP_SCHEMAS[k].schema) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]];

export const Step = z.union(stepSchemas).describe('One step: exactly one step kind key plus its options');

const GroupName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'letters, digits, "_" and "-", starting with a letter');

/** `- use: handshake`: the steps of a named group, in place (a handshake written once, used by every gate). */
export const UseStep = z.strictObject({ use: GroupName.describe('The name of a group under `groups:`') });

const StepOrUse = z.union([UseStep, Step]);

export const Gate = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit'),
  title: z.string().min(1),
  steps: z.array(StepOrUse).min(1),
  serial: z.boolean().optional().describe('Never run concurrently with other gates'),
  needs: z
    .array(z.string())
    .optional()
    .describe(
      'Ids of earlier gates this gate cannot run without: when one of them fails, this gate is skipped at once',
    ),
});

export const Defaults = z.strictObject({
  timeout: Duration.optional().describe(
    'Deadline (default 5s) of every wait that gives no within: of its own: connect, send, expect and close steps (also inside a soak) and http requests; not run (its timeout, default 60s), start (its within, default 30s) or verify (its wait, default 0: one look)',
  ),
  typeField: z
    .string()
    .optional()
    .describe("Field naming a message kind (default: the protocol file's kind rules, else type)"),
  nonJson: NonJson.optional(),
});

export const GatesFile = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  defaults: Defaults.optional(),
  vars: z.record(VarName, z.union([z.string(), z.number(), z.boolean()])).optional(),
  groups: z
    .record(GroupName, z.array(StepOrUse).min(1))
    .optional()
    .describe('Named lists of steps that gates (and other groups) use with `- use: NAME`'),
  protocol: z
    .string()
    .optional()
    .describe(
      'Protocol description (AsyncAPI 3) for schema checks and coverage: a path relative to this file, or wsgate:NAME for one shipped with wsgate (wsgate:agent-backend)',
    ),
  model: ModelSection.optional().describe(
    'What `wsgate model`, the model API stand-in, answers an agent backend (see docs/model-in-the-loop.md)',
  ),
  gates: z.array(Gate).min(1),
});

export type GatesFileInput = z.infer<typeof GatesFile>;
export type GateInput = z.infer<typeof Gate>;
export type StepInput = z.infer<typeof Step>;

export const TOP_KEYS = Object.keys(GatesFile.shape);
export const GATE_KEYS = Object.keys(Gate.shape);
export const DEFAULT_KEYS = Object.keys(Defaults.shape);

export function gatesJsonSchema(): unknown {
  const schema = z.toJSONSchema(GatesFile, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' }) as Record<
    string,
    unknown
  >;
  // Top-level keys starting with x- are the author's own (a place for YAML anchors), as in OpenAPI.
  schema.patternProperties = { '^x-': {} };
  return schema;
}
