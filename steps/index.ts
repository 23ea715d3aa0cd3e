// The one registry of step kinds with their run code: each kind's schema part (steps/schemas/, the
// loader's registry) with what the runner needs. Types derive from the schema registry.
import type { z } from 'zod';
import type { StepDefinition } from '../lib/runner/step-api.ts';
import type { STEP_SCHEMAS, StepKind } from './schemas/index.ts';
import { connect } from './connect.ts';
import { send } from './send.ts';
import { expect } from './expect.ts';
import { verify } from './verify.ts';
import { run } from './run.ts';
import { http } from './http.ts';
import { start } from './start.ts';
import { manual } from './manual.ts';
import { close } from './close.ts';
import { soak } from './soak.ts';
import { model } from './model.ts';

export { STEP_KINDS, type StepKind, type StepParams } from './schemas/index.ts';

/** Every kind of the schema registry, each built on its own schema (a missing or extra kind is a type error). */
type Registry = { [K in StepKind]: StepDefinition<(typeof STEP_SCHEMAS)[K]['schema'] & z.ZodType> };

export const STEPS = {
  connect,
  send,
  expect,
  verify,
  run,
  http,
  start,
  manual,
  close,
  soak,
  model,
} as const satisfies Registry;
