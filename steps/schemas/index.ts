// The one registry of step kinds as the loader knows them: each kind's YAML schema, label and load-time
// checks, with no run code, so that loading a gates file loads no runtime. The step types derive from
// it; steps/index.ts adds each kind's run code to the same kinds.
import type { z } from 'zod';
import { connectSchema } from './connect.ts';
import { sendSchema } from './send.ts';
import { expectSchema } from './expect.ts';
import { verifySchema } from './verify.ts';
import { runSchema } from './run.ts';
import { httpSchema } from './http.ts';
import { startSchema } from './start.ts';
import { manualSchema } from './manual.ts';
import { closeSchema } from './close.ts';
import { soakSchema } from './soak.ts';
import { modelSchema } from './model.ts';

export const STEP_SCHEMAS = {
  connect: connectSchema,
  send: sendSchema,
  expect: expectSchema,
  verify: verifySchema,
  run: runSchema,
  http: httpSchema,
  start: startSchema,
  manual: manualSchema,
  close: closeSchema,
  soak: soakSchema,
  model: modelSchema,
} as const;

export type StepKind = keyof typeof STEP_SCHEMAS;
export type StepParams<K extends StepKind = StepKind> = K extends StepKind
  ? z.infer<(typeof STEP_SCHEMAS)[K]['schema']>
  : never;
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];
