// The one shape every step kind has: a zod schema for its YAML form and
// `run(params, ctx) => Promise<StepResult>`.
import type { z } from 'zod';
import type { StepContext } from './context.ts';
import type { StepResult } from '../evidence/results.ts';

export interface StepDefinition<S extends z.ZodType = z.ZodType> {
  /** Schema of the whole step object, e.g. `{send: {...}, expect: [...]}`. */
  schema: S;
  /** One line for reports: "send init_session". */
  label(params: z.infer<S>): string;
  /**
   * Whether the label (when the author gave no name) is made from the values the step runs with, the
   * variables filled in: a label that shows what was sent or checked. Other labels stay as written, so
   * reports (JUnit test names, the fault table) name the step the same way on every run.
   */
  labelShowsValues?: boolean;
  run(params: z.infer<S>, ctx: StepContext): Promise<StepResult>;
  /** Files whose state the gate must record at its start (for "changed in this run"). */
  watches?(params: z.infer<S>): string[];
  /** The connections the step works on (a step on a connection that never opened does not run). */
  uses?(params: z.infer<S>): string[];
  /** Whether the gate must record git HEAD at its start (one git process per gate otherwise saved). */
  watchesHead?(params: z.infer<S>): boolean;
  /** Whether the step needs the project to be a git repository (PATH is git-initialised only then). */
  usesGit?(params: z.infer<S>): boolean;
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

export function defineStep<S extends z.ZodType>(def: StepDefinition<S>): StepDefinition<S> {
  return def;
}
