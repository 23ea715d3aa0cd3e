// The data every step, gate and run produces. Steps never print: reporters read these.
import type { CoverageReport } from '../protocol/index.ts';
import type { Loc } from '../loc.ts';
import type { Failure } from './failure.ts';

export type { Failure, FailureKind } from './failure.ts';

export interface CheckResult {
  /** What was checked, in words: "tool_result.error absent". */
  name: string;
  expected: unknown;
  actual: unknown;
  passed: boolean;
  loc: Loc;
  /** Why it failed, in words, when the predicate said ("expected format uuid, got ..."). */
  reason?: string;
  /** What went wrong, as data (a failed check only): code decides on its kind, reporters word it. */
  failure?: Failure;
  /** The failure in words (describeFailure), kept in result.json for its readers. */
  cause?: string;
  /** Passed only as a warning (lenient mode, soft budget, optional message missing). */
  warning?: boolean;
}

/**
 * `unchecked` ("not checked"): the step's premise failed or could not be established (a variable only
 * the user can give, a request that never reached the server), so it says nothing either way about the
 * server: never counted as passed, never as the server's failure.
 */
export type StepStatus = 'passed' | 'failed' | 'pending' | 'skipped' | 'unchecked';

export interface FrameSummary {
  conn: string;
  seq: number;
  at: number;
  text: string;
}

export interface Timing {
  name: string;
  ms: number;
  budgetMs?: number;
  soft?: boolean;
  passed: boolean;
  /** ms wsgate's own processes waited for a CPU while this was measured. */
  stalledMs?: number;
  /** Over budget by no more than that waiting: the machine may be why, so there is no verdict. */
  unmeasurable?: boolean;
}

export interface StepResult {
  kind: string;
  label: string;
  status: StepStatus;
  checks: CheckResult[];
  ms: number;
  loc: Loc;
  /** The last frames on the step's connection(s), shown when it fails. */
  lastMessages?: FrameSummary[];
  timings?: Timing[];
  /** Free-form observations kept as evidence (file content, git status...). */
  observations?: Record<string, unknown>;
  note?: string;
  /** Set when wsgate's own code crashed in this step (the stack): the run exits 3, not 1. */
  harnessError?: string;
}

export type GateStatus = 'passed' | 'failed' | 'pending' | 'skipped' | 'unchecked';

export interface GateResult {
  id: string;
  title: string;
  status: GateStatus;
  /** Why the gate did not run (a gate it needs failed, --bail, an interruption). */
  note?: string;
  steps: StepResult[];
  ms: number;
  loc: Loc;
  /** Frames that no step of the gate consumed (the first 20 per connection), and frames dropped from a full inbox. */
  unconsumed?: { conn: string; count: number; dropped?: number; frames: FrameSummary[] }[];
}

export interface RunResult {
  schemaVersion: 1;
  runId: string;
  startedAt: string;
  ms: number;
  url: string;
  project: string;
  gatesFile: string;
  status: 'passed' | 'failed' | 'interrupted';
  exitCode: number;
  gates: GateResult[];
  /** `unchecked`: gates with a step not checked and none failed (absent in results written before it existed). */
  totals: {
    gates: number;
    passed: number;
    failed: number;
    pending: number;
    skipped: number;
    unchecked?: number;
    checks: number;
    checksFailed: number;
  };
  warnings: string[];
  /** Set when the run was one shard of a split (--shard K/N). */
  shard?: { index: number; total: number };
  /** Set on a result merged from shards (wsgate merge). */
  mergedFrom?: string[];
  /** Which message kinds, tools and slash commands of the protocol file the run exercised. */
  coverage?: CoverageReport;
}

export function stepStatus(checks: CheckResult[], pending = false): StepStatus {
  if (checks.some((c) => !c.passed)) return 'failed';
  return pending ? 'pending' : 'passed';
}

/** The note of a gate left out with --skip-gate. */
export const SKIPPED_BY_FLAG = 'left out by --skip-gate';

/** How reports name a status: `unchecked` reads "not checked". */
export function statusWords(status: StepStatus | GateStatus): string {
  return status === 'unchecked' ? 'not checked' : status;
}

/**
 * Gates with a step not checked, whatever their status: a gate also awaiting sign-off is `pending`, yet
 * its premise is as unmet as an `unchecked` gate's (--require-checked and the console verdict count it).
 */
export function gatesNotChecked(gates: GateResult[]): number {
  return gates.filter((g) => g.status === 'unchecked' || g.steps.some((s) => s.status === 'unchecked')).length;
}

export function gateStatus(steps: StepResult[]): GateStatus {
  if (steps.some((s) => s.status === 'failed')) return 'failed';
  if (steps.length > 0 && steps.every((s) => s.status === 'skipped')) return 'skipped';
  if (steps.some((s) => s.status === 'pending')) return 'pending';
  if (steps.some((s) => s.status === 'unchecked')) return 'unchecked';
  return 'passed';
}
