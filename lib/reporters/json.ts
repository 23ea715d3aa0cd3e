// `--reporter json[:FILE]`: the RunResult as JSON (the same text as the evidence folder's
// result.json). FILE defaults to wsgate-result.json in the current folder; `-` is stdout.
// The fields are documented in docs/result-schema.md.
import type { RunResult } from '../evidence/results.ts';
import { guard, redactDeep, target, writeOut } from './output.ts';
import type { Reporter, ReporterOptions, RunInfo } from './types.ts';

export const JSON_DEFAULT_FILE = 'wsgate-result.json';

export function jsonReporter(o: ReporterOptions): Reporter {
  const to = target(o.file, JSON_DEFAULT_FILE);
  return {
    async onRunEnd(result: RunResult, info: RunInfo) {
      await guard('json', async () => {
        let text: string;
        try {
          text = JSON.stringify(redactDeep(result, info?.redact), null, 2) + '\n';
        } catch (e) {
          text = JSON.stringify({ schemaVersion: 1, error: `result could not be serialized: ${(e as Error).message}` }) + '\n';
        }
        await writeOut('json', to, text);
      });
    },
  };
}
