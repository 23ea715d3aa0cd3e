// `--reporter github[:FILE]`: GitHub Actions workflow commands, one `::error` per failed check
// (and `::warning` per check that passed only as a warning), pointing at its gates.yaml line.
// Without FILE they are printed only when $GITHUB_ACTIONS is set; with FILE they always are
// (`-` is stdout).
import path from 'node:path';
import type { CheckResult, RunResult } from '../evidence/results.ts';
import { formatLoc, type Loc } from '../loc.ts';
import { guard, normalize, show, target, writeOut } from './output.ts';
import type { Reporter, ReporterOptions, RunInfo } from './types.ts';
import { termText } from './term-safe.ts';
import { whyFailed } from '../evidence/describe-failure.ts';

/** Escaping of a workflow command's message (the part after `::`). */
export function escapeData(s: string): string {
  // Control characters from a server's text are shown as escapes (an annotation is displayed in the
  // log and in the UI); line breaks stay, encoded, so the text cannot start a line of its own; the old
  // `##[` command form, which the runner looks for anywhere in a line, is broken like everywhere else.
  const shown = String(s)
    .split('\r')
    .map((part) => termText(part, { newlines: true, github: false }))
    .join('\r')
    .replace(/##\[/g, '#\\x23[');
  return shown.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escaping of a workflow command's property value (file=, title=...). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** The annotation's file, relative to the repository root GitHub shows (GITHUB_WORKSPACE) when known. */
function annotationFile(loc: Loc | undefined, fallback: string): string {
  const file = loc?.file ? String(loc.file) : fallback;
  const ws = process.env.GITHUB_WORKSPACE;
  if (ws && file) {
    const rel = path.relative(ws, path.resolve(file));
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return file.split(path.sep).join('/');
}

function command(kind: 'error' | 'warning', c: CheckResult, gate: string, step: string, gatesFile: string): string {
  const loc = c.loc;
  const props = [`file=${escapeProperty(annotationFile(loc, gatesFile))}`];
  if (Number.isInteger(loc?.line) && loc.line > 0) props.push(`line=${loc.line}`);
  if (Number.isInteger(loc?.col) && loc.col > 0) props.push(`col=${loc.col}`);
  props.push(`title=${escapeProperty(`wsgate ${gate} › ${step}`.slice(0, 200))}`);
  const why = c.passed ? undefined : whyFailed(c);
  const msg = `${c.name}\nexpected: ${show(c.expected, 1500)}\nactual:   ${show(c.actual, 1500)}${why ? `\nwhy:      ${show(why, 1500)}` : ''}\nat ${formatLoc(loc)}`;
  return `::${kind} ${props.join(',')}::${escapeData(msg)}`;
}

export function githubAnnotations(result: RunResult, info?: RunInfo): string[] {
  const r = normalize(result, info);
  const gatesFile = info?.gatesFile ?? r.gatesFile;
  const lines: string[] = [];
  for (const g of r.gates) {
    for (const s of g.steps) {
      for (const c of s.checks) {
        if (!c) continue;
        if (!c.passed) lines.push(command('error', c, g.id, s.label, gatesFile));
        else if (c.warning) lines.push(command('warning', c, g.id, s.label, gatesFile));
      }
      // Not checked: a warning, never an error (the server did nothing wrong that wsgate saw).
      if (s.status === 'unchecked')
        lines.push(
          command(
            'warning',
            { name: s.note ?? 'not checked', expected: 'checked', actual: 'not checked', passed: true, loc: s.loc },
            g.id,
            s.label,
            gatesFile,
          ),
        );
      if (s.status === 'failed' && !s.checks.some((c) => c && !c.passed)) {
        lines.push(
          command(
            'error',
            { name: s.note ?? 'step failed', expected: 'passed', actual: 'failed', passed: false, loc: s.loc },
            g.id,
            s.label,
            gatesFile,
          ),
        );
      }
    }
  }
  for (const w of r.warnings) lines.push(`::warning title=${escapeProperty('wsgate')}::${escapeData(w)}`);
  return lines;
}

export function githubReporter(o: ReporterOptions): Reporter {
  const to = o.file ? target(o.file, '-') : undefined;
  return {
    async onRunEnd(result: RunResult, info: RunInfo) {
      if (!to && !process.env.GITHUB_ACTIONS) return;
      await guard('github', async () => {
        const lines = githubAnnotations(result, info);
        const text = lines.length ? lines.join('\n') + '\n' : '';
        if (to) await writeOut('github', to, text);
        else if (text) o.out.write(text);
      });
    },
  };
}
