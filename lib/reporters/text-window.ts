// Which lines of a long text a failure shows. The first lines of a 200-line file say nothing when the
// server changed line 150 or appended at the end: the window goes to the first line that differs from
// the expected text, and with no expected text to compare it shows the head and the tail.

/** Index of the first line where the two texts differ (the shorter text's end counts), or undefined when equal. */
export function firstDifferentLine(expected: string, actual: string): number | undefined {
  if (expected === actual) return undefined;
  const a = expected.split('\n');
  const b = actual.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Lines kept before the focus line, so the change is read in its context. */
const BEFORE = 4;

/**
 * At most `maxLines` lines of `lines` (plus the markers saying what was left out): around `focus` when
 * given, else the head and the tail.
 */
export function windowLines(lines: string[], maxLines: number, focus?: number): string[] {
  if (lines.length <= maxLines) return lines;
  const s = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
  const more = (n: number) => `… ${n} more line${n === 1 ? '' : 's'}`;
  if (focus === undefined) {
    if (maxLines < 2) return [...lines.slice(0, maxLines), more(lines.length - maxLines)];
    const head = Math.ceil(maxLines / 2);
    const tail = maxLines - head;
    return [
      ...lines.slice(0, head),
      `… ${s(lines.length - maxLines)} not shown …`,
      ...lines.slice(lines.length - tail),
    ];
  }
  const f = Math.min(Math.max(0, focus), lines.length - 1);
  const start = Math.max(0, Math.min(f - BEFORE, lines.length - maxLines));
  const end = start + maxLines;
  return [
    ...(start > 0 ? [`… ${s(start)} before (the first difference is on line ${f + 1})`] : []),
    ...lines.slice(start, end),
    ...(end < lines.length ? [more(lines.length - end)] : []),
  ];
}
