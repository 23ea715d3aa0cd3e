// The gates.yaml format (version 1): one zod schema from which the loader validates,
// the TypeScript types are inferred and gates.schema.json is generated.
import { z } from 'zod';
import { Duration } from './common-schema.ts';
import { STEPS, STEP_KINDS } from '../../steps/index.ts';

const stepSchemas = STEP_KINDS.map((k) => STEPS[k].schema) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]];

export const Step = z.union(stepSchemas).describe('One step: exactly one step kind key plus its options');

export const Gate = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit'),
  title: z.string().min(1),
  steps: z.array(Step).min(1),
  serial: z.boolean().optional().describe('Never run concurrently with other gates'),
  needs: z.array(z.string()).optional().describe('Ids of earlier gates this gate cannot run without: when one of them fails, this gate is skipped at once'),
  tags: z.array(z.string()).optional(),
});

export const Defaults = z.strictObject({
  timeout: Duration.optional().describe('Deadline for each wait (default 5s)'),
  typeField: z.string().optional().describe('Field naming a message kind (default: type)'),
  nonJson: z.enum(['fail', 'ignore']).optional().describe('What a non-JSON frame does to an expect step (default: fail)'),
});

export const GatesFile = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  defaults: Defaults.optional(),
  vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean()])).optional(),
  protocol: z.string().optional().describe('Protocol description (AsyncAPI 3) for schema checks and coverage: a path relative to this file, or wsgate:NAME for one shipped with wsgate (wsgate:agent-backend)'),
  gates: z.array(Gate).min(1),
});

export type GatesFileInput = z.infer<typeof GatesFile>;
export type GateInput = z.infer<typeof Gate>;
export type StepInput = z.infer<typeof Step>;

export const TOP_KEYS = Object.keys(GatesFile.shape);
export const GATE_KEYS = Object.keys(Gate.shape);
export const DEFAULT_KEYS = Object.keys(Defaults.shape);

export function gatesJsonSchema(): unknown {
  return z.toJSONSchema(GatesFile, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });
}
