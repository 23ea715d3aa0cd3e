// The public types, pinned with expect-type so a change to a step's schema or a result field is a
// compile error in `tsc --noEmit`; the runtime assertions keep the registry and the types in step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectTypeOf } from 'expect-type';
import { STEPS, STEP_KINDS, type StepKind, type StepParams } from '../steps/index.ts';
import type {
  CheckResult,
  GateResult,
  GateStatus,
  RunResult,
  StepResult,
  StepStatus,
  Timing,
  FrameSummary,
} from '../lib/evidence/results.ts';
import type { Loc } from '../lib/loc.ts';
import type { Failure } from '../lib/evidence/failure.ts';
import type { StepDefinition } from '../lib/runner/step-api.ts';
import { STEP_SCHEMAS } from '../steps/schemas/index.ts';
import type { StepSchema } from '../lib/gates/step-schema.ts';
import type { Expectation } from '../lib/gates/common-schema.ts';

const KINDS = [
  'connect',
  'send',
  'expect',
  'verify',
  'run',
  'http',
  'start',
  'manual',
  'close',
  'soak',
  'model',
] as const;

test('StepKind is exactly the eleven kinds, and STEPS has exactly those keys', () => {
  expectTypeOf<StepKind>().toEqualTypeOf<(typeof KINDS)[number]>();
  expectTypeOf<keyof typeof STEPS>().toEqualTypeOf<StepKind>();
  expectTypeOf(STEP_KINDS).toEqualTypeOf<StepKind[]>();
  expectTypeOf(STEPS.send).toExtend<StepDefinition>();
  assert.equal(Object.keys(STEPS).length, 11);
  assert.deepEqual([...STEP_KINDS].sort(), [...KINDS].sort());
  for (const k of KINDS) {
    assert.equal(typeof STEPS[k].run, 'function', `${k}.run`);
    assert.equal(typeof STEPS[k].label, 'function', `${k}.label`);
    assert.ok(STEPS[k].schema.safeParse({}).success === false, `${k}: an empty step is not valid`);
  }
});

test('each step kind runs on the schema the loader knows: STEPS is built on STEP_SCHEMAS, kind by kind', () => {
  expectTypeOf<keyof typeof STEP_SCHEMAS>().toEqualTypeOf<StepKind>();
  expectTypeOf(STEP_SCHEMAS.send).toExtend<StepSchema>();
  assert.deepEqual(Object.keys(STEPS), Object.keys(STEP_SCHEMAS));
  for (const k of KINDS) {
    assert.equal(STEPS[k].schema, STEP_SCHEMAS[k].schema, `${k}.schema`);
    assert.equal(STEPS[k].label, STEP_SCHEMAS[k].label, `${k}.label`);
    assert.equal(
      (STEPS[k] as StepDefinition).loadProblems,
      (STEP_SCHEMAS[k] as StepSchema).loadProblems,
      `${k}.loadProblems`,
    );
    assert.equal(
      (STEPS[k] as StepDefinition).loadWarnings,
      (STEP_SCHEMAS[k] as StepSchema).loadWarnings,
      `${k}.loadWarnings`,
    );
  }
});

test('step params: send has `send` and optional `expect`; others have their key', () => {
  expectTypeOf<StepParams<'send'>>().toHaveProperty('send');
  expectTypeOf<StepParams<'send'>['send']>().toEqualTypeOf<
    Record<string, unknown> | unknown[] | number | boolean | string
  >();
  expectTypeOf<StepParams<'send'>['expect']>().toEqualTypeOf<Expectation[] | undefined>();
  expectTypeOf<StepParams<'send'>>().toHaveProperty('on');
  expectTypeOf<StepParams<'send'>['within']>().toEqualTypeOf<number | string | undefined>();
  expectTypeOf<StepParams<'expect'>['expect']>().toEqualTypeOf<Expectation[]>();
  expectTypeOf<StepParams<'connect'>['connect']>().toExtend<
    string | { name?: string | undefined; count?: number | undefined }
  >();
  expectTypeOf<StepParams<'manual'>['manual']>().toEqualTypeOf<string>();
  expectTypeOf<StepParams<'start'>['start']>().toEqualTypeOf<string>();
  expectTypeOf<StepParams<'run'>['run']>().toEqualTypeOf<string | string[]>();
  expectTypeOf<StepParams<'close'>['close']>().toExtend<string | { by?: 'client' | 'server' | undefined }>();
  // The union over every kind: one of them.
  expectTypeOf<StepParams<'send'>>().toExtend<StepParams>();
  expectTypeOf<StepParams<'manual'>>().not.toHaveProperty('send');

  // And at run time the schemas agree.
  assert.equal(STEPS.send.schema.safeParse({ send: { type: 'ping' } }).success, true);
  assert.equal(STEPS.send.schema.safeParse({ send: 'raw line', expect: [{ type: 'x' }] }).success, true);
  assert.equal(
    STEPS.send.schema.safeParse({ send: { type: 'ping' }, expect: [] }).success,
    false,
    'an empty expect list is refused',
  );
  assert.equal(STEPS.send.schema.safeParse({ send: 1 }).success, true, 'any JSON value but null');
  assert.equal(STEPS.send.schema.safeParse({ send: [2, 'id', 'Heartbeat', {}] }).success, true);
  assert.equal(STEPS.send.schema.safeParse({ send: null }).success, false, 'an empty send: is a mistake, not null');
});

test('CheckResult, StepResult, GateResult and RunResult fields', () => {
  expectTypeOf<CheckResult>().toEqualTypeOf<{
    name: string;
    expected: unknown;
    actual: unknown;
    passed: boolean;
    loc: Loc;
    reason?: string;
    failure?: Failure;
    cause?: string;
    warning?: boolean;
  }>();
  expectTypeOf<Loc>().toEqualTypeOf<{ file: string; line: number; col: number }>();
  expectTypeOf<StepStatus>().toEqualTypeOf<'passed' | 'failed' | 'pending' | 'skipped' | 'unchecked'>();
  expectTypeOf<GateStatus>().toEqualTypeOf<'passed' | 'failed' | 'pending' | 'skipped' | 'unchecked'>();
  expectTypeOf<StepResult>().toEqualTypeOf<{
    kind: string;
    label: string;
    status: StepStatus;
    checks: CheckResult[];
    ms: number;
    loc: Loc;
    lastMessages?: FrameSummary[];
    timings?: Timing[];
    observations?: Record<string, unknown>;
    note?: string;
    harnessError?: string;
  }>();
  expectTypeOf<GateResult>().toEqualTypeOf<{
    id: string;
    title: string;
    status: GateStatus;
    note?: string;
    steps: StepResult[];
    ms: number;
    loc: Loc;
    unconsumed?: { conn: string; count: number; dropped?: number; frames: FrameSummary[] }[];
  }>();
  expectTypeOf<RunResult['status']>().toEqualTypeOf<'passed' | 'failed' | 'interrupted'>();
  expectTypeOf<RunResult['schemaVersion']>().toEqualTypeOf<1>();
  expectTypeOf<RunResult['gates']>().toEqualTypeOf<GateResult[]>();
  expectTypeOf<RunResult['totals']>().toEqualTypeOf<{
    gates: number;
    passed: number;
    failed: number;
    pending: number;
    skipped: number;
    unchecked?: number;
    checks: number;
    checksFailed: number;
  }>();
  expectTypeOf<RunResult>().toHaveProperty('exitCode').toEqualTypeOf<number>();
  expectTypeOf<RunResult>().toHaveProperty('warnings').toEqualTypeOf<string[]>();

  const check: CheckResult = { name: 'n', expected: 1, actual: 1, passed: true, loc: { file: 'f', line: 1, col: 1 } };
  assert.equal(Object.keys(check).length, 5);
});
