// Errors of the harness itself (not failed checks): typed values with a code, a short title,
// a hint and the place in gates.yaml they come from.
import { formatLoc, type Loc } from './loc.ts';

export type HarnessErrorCode =
  | 'USAGE'
  | 'GATES_FILE'
  | 'YAML_SYNTAX'
  | 'SCHEMA'
  | 'UNKNOWN_STEP'
  | 'UNKNOWN_KEY'
  | 'UNKNOWN_VARIABLE'
  | 'BAD_REGEX'
  | 'DUPLICATE_GATE'
  | 'UNSAFE_PATH'
  | 'PROJECT'
  | 'WSCAT_MISSING'
  | 'SERVER'
  | 'INTERNAL';

export interface HarnessError {
  code: HarnessErrorCode;
  title: string;
  hint?: string;
  loc?: Loc;
}

/** `unchecked`: nothing failed, but a gate was not checked and --require-checked asks for every one. */
export const EXIT = { passed: 0, failed: 1, usage: 2, harness: 3, unchecked: 4, interrupted: 130 } as const;

/** Thrown only across module boundaries to abort a command; always caught by the CLI. */
export class HarnessFailure extends Error {
  constructor(
    readonly errors: HarnessError[],
    readonly exitCode: number,
  ) {
    super(errors.map(formatError).join('\n'));
  }
}

/**
 * User text quoted in a message (a key, a value), on one line and short: a mutated file can turn a
 * whole gate into a mapping key, and one problem must stay one line of the report.
 */
export function quoted(text: string, max = 60): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function formatError(e: HarnessError): string {
  const head = e.loc ? `${formatLoc(e.loc)}: ${e.title}` : `wsgate: ${e.title}`;
  return e.hint ? `${head}\n  hint: ${e.hint}` : head;
}

/** Harness errors as a command prints them: each formatted, one after another, on stderr. */
export function printErrors(errors: HarnessError[], out: NodeJS.WritableStream = process.stderr): void {
  for (const e of errors) out.write(formatError(e) + '\n');
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function didYouMean(word: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of choices) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
