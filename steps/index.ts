// The one registry of step kinds. Types derive from it; the loader and the runner look kinds up here.
import type { z } from 'zod';
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

export const STEPS = { connect, send, expect, verify, run, http, start, manual, close, soak, model } as const;

export type StepKind = keyof typeof STEPS;
export type StepParams<K extends StepKind = StepKind> = K extends StepKind ? z.infer<(typeof STEPS)[K]['schema']> : never;
export const STEP_KINDS = Object.keys(STEPS) as StepKind[];
