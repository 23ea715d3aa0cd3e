// JSON Lines files (one JSON value per line: a transaction log, an audit trail), read as values rather
// than as text: a server that writes the same object with its keys in another order still matches, and
// a line that is not JSON is named by its line number. Pure: the bytes come from the caller.
import { describe, getPath, matchValue } from './match.ts';
import type { Matcher } from '../gates/common-schema.ts';

export interface JsonLine {
  /** 1-based line number in the whole file. */
  line: number;
  text: string;
  /** The parsed value, when the line is JSON. */
  value?: unknown;
  /** Why the line is not JSON. */
  error?: string;
}

/**
 * Where the lines appended after the first `sizeBefore` bytes start. A line cut at that offset (a
 * writer caught mid-line when the gate began) was finished during the gate: it counts as new.
 */
export function newLinesStart(bytes: Buffer, sizeBefore: number): number {
  if (sizeBefore <= 0) return 0;
  if (bytes[sizeBefore - 1] === 0x0a) return sizeBefore;
  return bytes.lastIndexOf(0x0a, sizeBefore - 1) + 1;
}

/** The lines from byte `from` on, each parsed; a final newline ends the last line, it does not add an empty one. */
export function jsonLines(bytes: Buffer, from = 0): JsonLine[] {
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < from; i = bytes.indexOf(0x0a, i + 1)) line++;
  const text = bytes.subarray(from).toString('utf8');
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((raw, i) => {
    const t = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    try {
      if (t.trim() === '') throw new Error('an empty line');
      return { line: line + i, text: t, value: JSON.parse(t) as unknown };
    } catch (e) {
      return { line: line + i, text: t, error: (e as Error).message };
    }
  });
}

export interface LineMiss {
  path: string;
  actual: unknown;
  reason: string;
}

/** The field matchers that do not hold for one value (none: every one holds). */
export function lineMisses(fields: Record<string, Matcher>, value: unknown): LineMiss[] {
  const out: LineMiss[] = [];
  for (const [p, m] of Object.entries(fields)) {
    const actual = getPath(value, p);
    const r = matchValue(m, actual);
    if (!r.passed) out.push({ path: p, actual, reason: r.reason ?? `got ${describe(actual)}` });
  }
  return out;
}

/** A miss in words: `line 3: amount: expected ... (got 5)`. */
export function missText(line: number, misses: LineMiss[]): string {
  return `line ${line}: ${misses.map((m) => `${m.path}: ${m.reason}`).join('; ')}`;
}

/** For `some`: the line that came nearest (fewest misses, the latest of those), or undefined when none was JSON. */
export function nearestLine(
  fields: Record<string, Matcher>,
  lines: JsonLine[],
): { line: number; misses: LineMiss[] } | undefined {
  let best: { line: number; misses: LineMiss[] } | undefined;
  for (const l of lines) {
    if (l.error !== undefined) continue;
    const misses = lineMisses(fields, l.value);
    if (!best || misses.length <= best.misses.length) best = { line: l.line, misses };
  }
  return best;
}
