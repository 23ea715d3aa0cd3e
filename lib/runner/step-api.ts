// The one shape every step kind has: its schema part (lib/gates/step-schema.ts: zod schema, label,
// load-time checks) and `run(params, ctx) => Promise<StepResult>` with what the runner plans from.
import type { z } from 'zod';
import type { StepContext } from './context.ts';
import type { StepResult } from '../evidence/results.ts';
import type { StepSchema } from '../gates/step-schema.ts';

export interface StepDefinition<S extends z.ZodType = z.ZodType> extends StepSchema<S> {
  run(params: z.infer<S>, ctx: StepContext): Promise<StepResult>;
  /** Files whose state the gate must record at its start (for "changed in this run"). */
  watches?(params: z.infer<S>): string[];
  /** The connections the step works on (a step on a connection that never opened does not run). */
  uses?(params: z.infer<S>): string[];
  /** Whether the gate must record git HEAD at its start (one git process per gate otherwise saved). */
  watchesHead?(params: z.infer<S>): boolean;
  /** Whether the step needs the project to be a git repository (PATH is git-initialised only then). */
  usesGit?(params: z.infer<S>): boolean;
}

export function defineStep<S extends z.ZodType>(def: StepDefinition<S>): StepDefinition<S> {
  return def;
}
