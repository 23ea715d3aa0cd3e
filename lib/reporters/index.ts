// The one registry of built-in reporters.
import { consoleReporter } from './console.ts';
import type { Reporter, ReporterOptions } from './types.ts';

export const REPORTERS = {
  console: consoleReporter,
} as const satisfies Record<string, (o: ReporterOptions) => Reporter>;

export type ReporterName = keyof typeof REPORTERS;
export const REPORTER_NAMES = Object.keys(REPORTERS) as ReporterName[];
export type { Reporter, ReporterOptions, RunInfo } from './types.ts';
