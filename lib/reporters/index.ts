// The one registry of built-in reporters.
import { consoleReporter } from './console.ts';
import { githubReporter } from './github.ts';
import { htmlReporter } from './html.ts';
import { jsonReporter } from './json.ts';
import { junitReporter } from './junit.ts';
import { markdownReporter } from './markdown.ts';
import type { Reporter, ReporterOptions } from './types.ts';

export const REPORTERS = {
  console: consoleReporter,
  json: jsonReporter,
  junit: junitReporter,
  markdown: markdownReporter,
  github: githubReporter,
  html: htmlReporter,
} as const satisfies Record<string, (o: ReporterOptions) => Reporter>;

export type ReporterName = keyof typeof REPORTERS;
export const REPORTER_NAMES = Object.keys(REPORTERS) as ReporterName[];

/** True when `--reporter NAME:-` sends a machine format to stdout, so human output must go to stderr. */
export function claimsStdout(list: { name: string; file?: string }[]): boolean {
  return list.some((r) => r.name !== 'console' && r.file === '-');
}
export type { Reporter, ReporterOptions, RunInfo } from './types.ts';
