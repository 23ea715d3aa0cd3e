// The gates-file line under a failed check, with a caret at the key, as compilers and hurl show them:
// the reader sees what they wrote without opening the file.
import type { Loc } from '../loc.ts';

/** `  85 |   verify: {file: test.txt}` and a `^` under loc.col; empty when the line is not in `source`. */
export function codeFrame(source: string, loc: Loc, maxWidth = 160): string[] {
  const lines = source.split('\n');
  const line = lines[loc.line - 1];
  if (line === undefined) return [];
  const num = String(loc.line);
  // A long line is cut around the caret so the caret stays under its key.
  let text = line.replace(/\t/g, ' ');
  let col = loc.col - 1;
  if (text.length > maxWidth) {
    const from = Math.max(0, Math.min(col - Math.floor(maxWidth / 2), text.length - maxWidth));
    text = (from > 0 ? '…' : '') + text.slice(from, from + maxWidth) + (from + maxWidth < line.length ? '…' : '');
    col = col - from + (from > 0 ? 1 : 0);
  }
  return [`${num} | ${text}`, `${' '.repeat(num.length)} | ${' '.repeat(Math.max(0, col))}^`];
}
