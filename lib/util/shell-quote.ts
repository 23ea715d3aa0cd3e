// `${NAME}` inside a shell command line (`run:` as a string, `start:`), substituted so that the value
// is always one literal piece of text, never shell syntax: a server that answers
// `{"sessionId": "$(touch pwned)"}` must not get a command run by `run: "echo ${sid}"`.
// The command line is scanned like sh reads it, to know for each reference whether it stands bare,
// inside '...' or inside "..."; each context has its own quoting. Where no quoting is safe (inside
// backticks, a here-document, a comment, $((...)), $'...', a shell ${...} expansion, or right
// after a lone `$`) the reference is refused when the gates file loads, pointing to the list form or env:.
// `\${` is wsgate's literal `${` as everywhere else: the backslash goes and the shell gets `${...}` (its own
// parameter expansion); the line is scanned as the shell will see it, after those backslashes are gone.
import type { Lookup } from './vars.ts';
import { refAt as refAtAny, unescapeRefs, valueText } from './var-refs.ts';
import { quoteFor, UnsafeShellValue, type ShellContext } from './shell-words.ts';

export interface ShellRef {
  name: string;
  start: number;
  end: number;
  context: ShellContext | 'unsafe';
  /** Why no quoting is safe here (context 'unsafe'). */
  why?: string;
  /** The fix for this place, when it is not the general one. */
  fix?: string;
}

/**
 * A reference right after a lone `$` (`$${X}`, `"$${X}"`): the shell would join that `$` to the quoted
 * value, `$'...'` (ANSI-C quoting, where `\'` ends nothing) or, in double quotes, `$(` when the value
 * starts with `(`. `$$${X}` (the shell's `$$`, then the value) is safe.
 */
const AFTER_DOLLAR_WHY =
  "right after a `$` (the shell would read that `$` and the value together, as `$(...)` or `$'...'`)";

type Frame =
  | { kind: 'bare'; parens: number; cases: number; closer: ')' | null }
  | { kind: 'single' | 'double' | 'backtick' | 'ansi' | 'param' }
  | { kind: 'arith'; parens: number };

const UNSAFE_WHY: Record<string, string> = {
  backtick: 'inside `...` (backticks)',
  ansi: "inside $'...'",
  param: 'inside a shell ${...} expansion',
  arith: 'inside $((...))',
};

/** Characters after which `#` starts a comment and a word such as `case` starts. */
const WORD_BREAK = /[\s;&|()<>]/;

function wordAt(text: string, i: number, word: string): boolean {
  return (
    text.startsWith(word, i) &&
    (i === 0 || WORD_BREAK.test(text[i - 1]!)) &&
    (i + word.length >= text.length || WORD_BREAK.test(text[i + word.length]!))
  );
}

/** The here-document delimiter after `<<` / `<<-` at `i`: its unquoted word and where it ends. */
function heredocWord(text: string, i: number): { word: string; end: number; strip: boolean } {
  let j = i + 2;
  const strip = text[j] === '-';
  if (strip) j++;
  while (text[j] === ' ' || text[j] === '\t') j++;
  let word = '';
  while (j < text.length && !/[\s;&|()<>]/.test(text[j]!)) {
    const c = text[j]!;
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, j + 1);
      const stop = close < 0 ? text.length : close;
      word += text.slice(j + 1, stop);
      j = stop + 1;
    } else if (c === '\\') {
      word += text[j + 1] ?? '';
      j += 2;
    } else {
      word += c;
      j++;
    }
  }
  return { word, end: j, strip };
}

/** A reference finder for a text whose escaped `${` (offsets in `literal`) are none. */
type RefAt = (text: string, i: number) => { name: string; end: number } | undefined;

/**
 * Every `${NAME}` reference of a shell command line, with the quoting context it stands in; offsets
 * are in the line as the shell sees it (each `\${` without its backslash).
 */
export function shellRefs(raw: string, escapes = true): ShellRef[] {
  const { text, literal } = escapes ? unescapeRefs(raw) : { text: raw, literal: new Set<number>() };
  const refAt: RefAt = (t, i) => (literal.has(i) ? undefined : refAtAny(t, i));
  const refs: ShellRef[] = [];
  const stack: Frame[] = [{ kind: 'bare', parens: 0, cases: 0, closer: null }];
  const heredocs: { word: string; strip: boolean }[] = [];
  const unsafe = (name: string, start: number, end: number, why: string) =>
    refs.push({ name, start, end, context: 'unsafe', why });
  // The run of plain `$` characters (bare or in double quotes) that ends at `runEnd`.
  let run = 0;
  let runEnd = -1;
  let prev = -1;
  let prevKind = '';
  let i = 0;
  while (i < text.length) {
    const top = stack[stack.length - 1]!;
    const c = text[i]!;
    if (i === prev + 1 && text[prev] === '$' && (prevKind === 'bare' || prevKind === 'double')) {
      run = runEnd === prev ? run + 1 : 1;
      runEnd = i;
    }
    prev = i;
    prevKind = top.kind;
    const ref = c === '$' ? refAt(text, i) : undefined;
    if (ref) {
      if ((top.kind === 'bare' || top.kind === 'double') && runEnd === i && run % 2 === 1) {
        refs.push({
          name: ref.name,
          start: i,
          end: ref.end,
          context: 'unsafe',
          why: AFTER_DOLLAR_WHY,
          fix: `for a literal $ before the value write \\$\${${ref.name}}; or pass the value through env: (env: {VALUE: "\${${ref.name}}"}, then "$VALUE" in the command)`,
        });
      } else if (top.kind === 'bare' || top.kind === 'single' || top.kind === 'double')
        refs.push({ name: ref.name, start: i, end: ref.end, context: top.kind });
      else unsafe(ref.name, i, ref.end, UNSAFE_WHY[top.kind]!);
      i = ref.end;
      continue;
    }
    switch (top.kind) {
      case 'single':
        if (c === "'") stack.pop();
        i++;
        continue;
      case 'ansi':
      case 'backtick': {
        const close = top.kind === 'ansi' ? "'" : '`';
        if (c === '\\') {
          const r = refAt(text, i + 1);
          if (r) unsafe(r.name, i + 1, r.end, UNSAFE_WHY[top.kind]!);
          i = r ? r.end : i + 2;
        } else {
          if (c === close) stack.pop();
          i++;
        }
        continue;
      }
      case 'arith':
        if (c === '(') top.parens++;
        else if (c === ')' && --top.parens === 0) stack.pop();
        i++;
        continue;
      case 'param':
      case 'double':
      case 'bare':
        break;
    }
    // bare, double and param frames share the openers; each has its own closer.
    if (c === '\\') {
      const r = refAt(text, i + 1);
      if (r) unsafe(r.name, i + 1, r.end, 'after a backslash');
      i = r ? r.end : i + 2;
      continue;
    }
    if (c === '$' && text.startsWith('$((', i)) {
      stack.push({ kind: 'arith', parens: 2 });
      i += 3;
      continue;
    }
    if (c === '$' && text[i + 1] === '(') {
      stack.push({ kind: 'bare', parens: 0, cases: 0, closer: ')' });
      i += 2;
      continue;
    }
    if (c === '$' && text[i + 1] === '{') {
      stack.push({ kind: 'param' });
      i += 2;
      continue;
    }
    if (c === '`') {
      stack.push({ kind: 'backtick' });
      i++;
      continue;
    }
    if (top.kind === 'double') {
      if (c === '"') stack.pop();
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      stack.push({ kind: c === "'" ? 'single' : 'double' });
      i++;
      continue;
    }
    if (top.kind === 'param') {
      if (c === '}') stack.pop();
      i++;
      continue;
    }
    // bare
    if (c === '$' && (text[i + 1] === "'" || text[i + 1] === '"')) {
      stack.push({ kind: text[i + 1] === "'" ? 'ansi' : 'double' });
      i += 2;
      continue;
    }
    if (c === '#' && (i === 0 || WORD_BREAK.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      const stop = nl < 0 ? text.length : nl;
      unsafeBetween(text, i, stop, 'in a comment (a value with a line break would end it)', unsafe, refAt);
      i = stop;
      continue;
    }
    if (c === '<' && text.startsWith('<<<', i)) {
      i += 3; // a here-string: an ordinary word follows
      continue;
    }
    if (c === '<' && text.startsWith('<<', i)) {
      const h = heredocWord(text, i);
      heredocs.push({ word: h.word, strip: h.strip });
      i = h.end;
      continue;
    }
    if (c === '\n' && heredocs.length) {
      i = skipHeredocBodies(text, i + 1, heredocs.splice(0), unsafe, refAt);
      continue;
    }
    if (top.kind === 'bare') {
      if (wordAt(text, i, 'case')) top.cases++;
      else if (wordAt(text, i, 'esac') && top.cases > 0) top.cases--;
      if (c === '(') top.parens++;
      else if (c === ')') {
        if (top.parens > 0) top.parens--;
        // Inside `case`, a `)` ends a pattern, not the $(...) around it.
        else if (top.cases === 0 && top.closer === ')' && stack.length > 1) stack.pop();
      }
    }
    i++;
  }
  return refs;
}

type Unsafe = (name: string, start: number, end: number, why: string) => void;

/** Every reference between `from` and `to`, all unsafe for the same reason. */
function unsafeBetween(text: string, from: number, to: number, why: string, unsafe: Unsafe, refAt: RefAt): void {
  for (let j = text.indexOf('${', from); j >= 0 && j < to; j = text.indexOf('${', j + 1)) {
    const r = refAt(text, j);
    if (r && r.end <= to) unsafe(r.name, j, r.end, why);
  }
}

/** Skips the bodies of pending here-documents from `i`; references in them are unsafe. */
function skipHeredocBodies(
  text: string,
  i: number,
  docs: { word: string; strip: boolean }[],
  unsafe: Unsafe,
  refAt: RefAt,
): number {
  for (const doc of docs) {
    while (i < text.length) {
      const nl = text.indexOf('\n', i);
      const stop = nl < 0 ? text.length : nl;
      const line = text.slice(i, stop);
      if ((doc.strip ? line.replace(/^\t+/, '') : line) === doc.word) {
        i = stop + 1;
        break;
      }
      unsafeBetween(text, i, stop, 'in a here-document', unsafe, refAt);
      i = stop + 1;
    }
  }
  return Math.min(i, text.length);
}

export interface ShellProblem {
  name: string;
  title: string;
  hint: string;
}

/** Load-time problems of a command line: each reference that no quoting can make literal. */
export function shellProblems(text: string): ShellProblem[] {
  return shellRefs(text)
    .filter((r) => r.context === 'unsafe')
    .map((r) => ({
      name: r.name,
      title: `\${${r.name}} stands ${r.why} of a shell command line, where wsgate cannot quote its value safely`,
      hint:
        r.fix ??
        `pass it as an argument of the list form (run: [prog, "\${${r.name}}"]) or through env: (env: {VALUE: "\${${r.name}}"}, then "$VALUE" in the command)`,
    }));
}

/**
 * The `\${NAME}` of a command line whose meaning changed when `\${` became an escape here: before, inside
 * '...' or after `\\`, the line passed NAME's value after a backslash (elsewhere it was refused at load).
 */
export function changedEscapes(raw: string): ShellProblem[] {
  return shellRefs(raw, false)
    .filter((r) => r.context !== 'unsafe' && raw.startsWith('\\${', r.start - 1))
    .map((r) => ({
      name: r.name,
      title: `\\\${${r.name}} is a literal \${${r.name}} for the shell now (as in sends); before, here it passed ${r.name}'s value after a backslash`,
      hint: `keep it for the shell's own \${${r.name}}; for a backslash and then the value write '\\'\${${r.name}}`,
    }));
}

/**
 * The command line with every reference replaced by its quoted value. A reference in a place the
 * loader refused cannot reach here from a gates file; called directly, it throws UnsafeShellValue.
 */
export function substituteShell(raw: string, lookup: Lookup): string {
  const { text } = unescapeRefs(raw);
  let out = '';
  let at = 0;
  for (const r of shellRefs(raw)) {
    if (r.context === 'unsafe') throw new UnsafeShellValue(`\${${r.name}} stands ${r.why}`);
    out += text.slice(at, r.start) + quoteFor(r.context, valueText(lookup, r.name));
    at = r.end;
  }
  return out + text.slice(at);
}

/** substituteShell for a step: a value that cannot be passed (NUL) is a failed check, not a harness error. */
export function buildShellLine(text: string, lookup: Lookup): { ok: true; line: string } | { ok: false; why: string } {
  try {
    return { ok: true, line: substituteShell(text, lookup) };
  } catch (e) {
    if (e instanceof UnsafeShellValue) return { ok: false, why: e.message };
    throw e;
  }
}
