// `--reporter json[:FILE]`: the RunResult as JSON (the same text as the evidence folder's
// result.json). FILE defaults to wsgate-result.json in the current folder; `-` is stdout.
// The fields are documented in docs/result-schema.md.
import type { RunResult } from '../evidence/results.ts';
import { fileReporter, redactDeep } from './output.ts';
import type { Reporter, ReporterOptions, RunInfo } from './types.ts';

export const JSON_DEFAULT_FILE = 'wsgate-result.json';

/** The result as the file's text; a result that cannot be serialized still gives a JSON document saying so. */
export function resultJson(result: RunResult, info: RunInfo | undefined): string {
  try {
    return JSON.stringify(redactDeep(result, info?.redact), null, 2) + '\n';
  } catch (e) {
    return (
      JSON.stringify({ schemaVersion: 1, error: `result could not be serialized: ${(e as Error).message}` }) + '\n'
    );
  }
}

export function jsonReporter(o: ReporterOptions): Reporter {
  return fileReporter('json', o.file, JSON_DEFAULT_FILE, resultJson);
}
