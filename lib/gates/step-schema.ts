// What the loader knows of a step kind: its YAML form, its one-line label and the problems it finds in
// its own parameters. Pure data and functions of the parameters, so that loading a gates file loads
// no runtime; a kind's run code (lib/runner/step-api.ts) is built on top of this.
import type { z } from 'zod';

export interface StepSchema<S extends z.ZodType = z.ZodType> {
  /** Schema of the whole step object, e.g. `{send: {...}, expect: [...]}`. */
  schema: S;
  /** One line for reports: "send init_session". */
  label(params: z.infer<S>): string;
  /** Problems the loader reports before anything runs (exit 2), each at a key path of the step. */
  loadProblems?(params: z.infer<S>): LoadProblem[];
  /** Risks the loader prints as warnings (the run goes on); `known` names the variables that are not captures. */
  loadWarnings?(params: z.infer<S>, known: ReadonlySet<string>): LoadProblem[];
}

export interface LoadProblem {
  /** Where, from the step: the problem is shown at the value there (at the key the path ends with, with `atKey`). */
  path: (string | number)[];
  atKey?: boolean;
  title: string;
  hint?: string;
}

export function defineStepSchema<S extends z.ZodType>(def: StepSchema<S>): StepSchema<S> {
  return def;
}
