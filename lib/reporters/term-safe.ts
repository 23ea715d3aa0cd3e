// Text that came from a server (frames, check values, captured names) printed to a terminal or a
// CI log. Raw, it can move the cursor and overwrite lines (`\r`, `ESC[2K` then a fake PASS line),
// set the clipboard (OSC 52), reorder text (bidi controls), or, on GitHub Actions, run workflow
// commands (`::add-mask::`, `::error::`, `::stop-commands::`, `##[...]`) when it starts a log line.
// Every such character is shown as a visible escape instead; workflow command markers are broken
// when $GITHUB_ACTIONS is set.

/** C0 controls but tab and newline, DEL, C1 controls, bidi and line/paragraph separators. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  if (c === '\r') return '\\r';
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
}

export function inGithubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/**
 * `s` safe to print: controls escaped (`\n` kept only with `newlines`), and under GitHub Actions no
 * line of it can start a workflow command (the runner reads `::` at a line's start, after blanks,
 * and the old `##[` form anywhere in a line).
 */
export function termText(s: string, opts: { newlines?: boolean; github?: boolean } = {}): string {
  let out = String(s).replace(CONTROL, escapeChar);
  out = opts.newlines ? out : out.replace(/\n/g, '\\n');
  if (opts.github ?? inGithubActions()) {
    // Any blank the runner trims (it trims Unicode whitespace, not only spaces) may precede `::`.
    out = out.replace(/(^|\n)([^\S\n]*)::/g, '$1$2\\x3a:').replace(/##\[/g, '#\\x23[');
  }
  return out;
}
