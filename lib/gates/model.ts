// A loaded, validated gates file: what the runner consumes.
import type { Loc } from '../loc.ts';
import type { StepKind, StepParams } from '../../steps/schemas/index.ts';
import type { ModelSectionInput } from './model-section.ts';
import type { NonJson } from './common-schema.ts';

export interface LoadedStep<K extends StepKind = StepKind> {
  kind: K;
  params: StepParams<K>;
  label: string;
  loc: Loc;
  locOf(path: (string | number)[]): Loc;
}

export interface LoadedGate {
  id: string;
  title: string;
  loc: Loc;
  steps: LoadedStep[];
  serial: boolean;
  /** Ids of earlier gates this one cannot run without (`needs:`). */
  needs: string[];
}

export interface LoadedGates {
  file: string;
  source: string;
  /** typeField is present only when the file sets it: otherwise kinds come from the protocol file, else `type`. */
  defaults: { timeoutMs: number; typeField?: string; nonJson: NonJson };
  vars: Record<string, string | number | boolean>;
  protocol?: string;
  /** The `model:` section: rules of the model API stand-in. */
  model?: ModelSectionInput;
  gates: LoadedGate[];
}
