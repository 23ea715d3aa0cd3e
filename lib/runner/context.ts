// What a step receives besides its own parameters: the gate's variables, its connections,
// deadlines, the project folder and the evidence sink. Steps return results; they never print.
import type { CheckResult, Failure, StepResult, Timing } from '../evidence/results.ts';
import type { Loc } from '../loc.ts';
import type { VarScope } from '../util/vars.ts';
import type { WscatConnection, ConnectOptions, ConnectionFailure } from '../wscat/connection.ts';
import type { EvidenceSink } from '../types/evidence-sink.ts';
import type { ChildProcess } from 'node:child_process';
import type { GateSnapshot } from './snapshot.ts';
import type { Secrets } from '../evidence/secrets.ts';
import type { Kinds } from '../matching/kinds.ts';
import type { StallReading } from '../os/stall.ts';
import type { RunModel } from '../model-api/in-run.ts';
import type { NonJson } from '../gates/common-schema.ts';

export interface Member {
  conn: WscatConnection;
  /** Captures made on this connection alone (groups of connections). */
  vars: VarScope;
  label: string;
  /** A failed check already named this connection's close: later steps on it are skipped, not failed again. */
  closeReported?: boolean;
}

// The sink's interface lives in lib/types (the evidence writer implements it without loading the runner).
export type { EvidenceSink };

export interface StartedProcess {
  name: string;
  child: ChildProcess;
  stopAt: 'gate' | 'run';
}

export interface RunSettings {
  timeoutScale: number;
  budgetScale: number;
  /** The embedded server's process (started by the harness): time it waited for a CPU is the machine's. */
  serverPid?: number;
  defaultTimeoutMs: number;
  /** How a frame's kind is found (the type field, or a protocol's rules). */
  kinds: Kinds;
  nonJson: NonJson;
  verbose: boolean;
  interactive: boolean;
  /**
   * Connection targets (URL and options) that could not be opened at all this run, with where and why:
   * later connects to them are not tried. A `start` step clears it (a new backend may answer).
   */
  deadTargets: Map<string, { where: string; why: string }>;
  /** Where `manual` prompts read and write, when interactive. */
  ask?: (question: string) => Promise<string>;
  signal: AbortSignal;
  /** The model API stand-in this run hosts, when it hosts one. */
  model?: RunModel;
}

/**
 * What a step states for one check. A check that may fail names its failure's kind: the type asks for
 * `failure` unless `passed` is the literal `true`.
 */
export type CheckInput = {
  name: string;
  expected: unknown;
  actual: unknown;
  /** Default: the step's own location. */
  loc?: Loc;
  warning?: boolean;
  /** The matcher's own words for why the value does not hold. */
  reason?: string;
} & ({ passed: true; failure?: Failure } | { passed: boolean; failure: Failure });

export interface StepContext {
  gateId: string;
  /** "gate-id#3" for evidence. */
  stepId: string;
  /** The step's place in its gate, from 1 (the 3 of "gate-id#3"). */
  stepNumber: number;
  loc: Loc;
  /** Location of a nested key of the step, e.g. ['expect', 0, 'match', 'sessionId']. */
  locOf(path: (string | number)[]): Loc;
  vars: VarScope;
  project: string;
  url: string;
  /** The results of the gate's steps before this one (a step's premise may rest on them). */
  earlier: StepResult[];
  settings: RunSettings;
  snapshot: GateSnapshot;
  evidence: EvidenceSink;
  /** Scaled deadline length in ms for a step's `within`/`timeout` (or the default). */
  timeoutMs(d?: number | string): number;
  connections: Map<string, Member[]>;
  /** `refusalExpected`: a refusal is what the step wants, so it does not make the target dead for the run. */
  openConnection(
    name: string,
    label: string,
    opts: ConnectOptions,
    refusalExpected?: boolean,
  ): Promise<{ ok: true; member: Member } | { ok: false; error: ConnectionFailure }>;
  processes: StartedProcess[];
  /** Every backend a start step launched so far in the run (this gate's and earlier gates'). */
  startedProcesses(): StartedProcess[];
  /** Register values that must be shown as ***. */
  secrets: Secrets;
  /** Tell a person watching how far a long step got (shown on a terminal only, never in reports). */
  progress(text: string): void;
  /** Build the step's result; status derives from the checks. */
  result(checks: CheckResult[], extra?: Partial<Omit<StepResult, 'checks' | 'kind' | 'loc'>>): StepResult;
  /** A check; `failure` says what went wrong when it did not pass (kept only then). */
  check(c: CheckInput): CheckResult;
  /** A measured time against a budget; `stall` is how long wsgate's own processes waited for a CPU meanwhile. */
  timing(
    name: string,
    ms: number,
    budget: unknown,
    loc?: Loc,
    stall?: StallReading,
  ): { timing: Timing; check?: CheckResult };
}
