// One interface for every reporter: optional hooks, called in this order.
import type { GateResult, RunResult, StepResult } from '../evidence/results.ts';

export interface RunInfo {
  runId: string;
  url: string;
  project: string;
  gatesFile: string;
  /** The gates file's text, for the line under a failed check. */
  gatesSource?: string;
  /** How the gates file was chosen (from --gates, found in the current folder, shipped with wsgate). */
  gatesOrigin?: string;
  embedded: boolean;
  version: string;
  gateCount: number;
  evidenceDir: string | null;
  /** The run's secret redaction (--secret-var); file reporters apply it to everything they write. */
  redact?: (text: string) => string;
}

export interface Reporter {
  onRunStart?(info: RunInfo): void | Promise<void>;
  onGateStart?(gate: { id: string; title: string }): void;
  /** A step began (its label with variables filled in). */
  onStepStart?(gateId: string, label: string): void;
  /** A long step's account of how far it got (a soak: elapsed of total, rounds, memory growth). */
  onStepProgress?(gateId: string, text: string): void;
  onStepEnd?(gateId: string, step: StepResult): void;
  onGateEnd?(gate: GateResult): void;
  /** Every frame, for --verbose. */
  onFrame?(conn: string, direction: 'in' | 'out', text: string): void;
  onRunEnd?(result: RunResult, info: RunInfo): void | Promise<void>;
}

export interface ReporterOptions {
  /** FILE of `--reporter NAME:FILE`; undefined = the reporter's default place. */
  file?: string;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  /** Where console output goes (stdout unless the stream is reserved for a machine format). */
  out: NodeJS.WritableStream;
}
