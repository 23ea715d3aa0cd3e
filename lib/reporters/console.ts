// Live, one line per step with ✓/✗ and milliseconds; on failure the gate, the step, its
// gates.yaml line, what was expected and what arrived; totals and timings at the end. Every piece
// of text that is not the reporter's own goes through termText: frames and values come from the
// server under test and must not drive the terminal or the CI log (lib/reporters/term-safe.ts).
import { termText } from './term-safe.ts';
import type { CheckResult, GateResult, RunResult, StepResult, Timing } from '../evidence/results.ts';
import { formatLoc } from '../loc.ts';
import type { Reporter, ReporterOptions, RunInfo } from './types.ts';
import { formatCoverage } from '../protocol/coverage.ts';
import { codeFrame } from './code-frame.ts';
import { SKIPPED_BY_FLAG, gatesNotChecked } from '../evidence/results.ts';
import { EXIT } from '../errors.ts';
import { liveLine, liveLineEnabled } from './live-line.ts';
import { describeFailure, failureSubject, whyFailed } from '../evidence/describe-failure.ts';
import type { FailureKind } from '../evidence/failure.ts';
import { firstDifferentLine, windowLines } from './text-window.ts';

function show(v: unknown): string {
  if (typeof v === 'string') return termText(v, { newlines: true });
  if (v === undefined) return '(absent)';
  return termText(JSON.stringify(v) ?? String(v));
}

/** One line of foreign text. */
const safe = (s: unknown) => termText(String(s ?? ''));
/** A frame on one line: its own line breaks become spaces, other controls escapes. */
const frame = (s: string) => safe(s.replace(/\s*\n\s*/g, ' '));

function indent(text: string, pad: string, maxLines = 20, focus?: number, label = ''): string {
  const lines = text.split('\n');
  return windowLines(lines, maxLines, focus)
    .map((l, i) => pad + (i === 0 ? label : '') + l)
    .join('\n');
}

/**
 * Failed checks grouped by what went wrong (the failure's kind and subject), most gates first: one
 * defect that breaks seven gates reads as one line ("message_complete arrived before tool_result: 7
 * gates"), not seven stories. A check with no typed failure (a result from an older wsgate) is its own
 * group, under its whole name.
 */
export function failuresByCause(
  gates: GateResult[],
): { kind: FailureKind | 'check'; subject: string; cause: string; gates: string[] }[] {
  const by = new Map<string, { kind: FailureKind | 'check'; subject: string; cause: string; gates: Set<string> }>();
  for (const g of gates) {
    for (const s of g.steps) {
      for (const c of s.checks) {
        if (c.passed) continue;
        const kind = c.failure?.kind ?? 'check';
        const subject = c.failure ? failureSubject(c.failure) : c.name;
        const key = JSON.stringify([kind, subject]);
        const group = by.get(key) ?? {
          kind,
          subject,
          cause: c.failure ? describeFailure(c.failure) : (c.cause ?? c.name),
          gates: new Set<string>(),
        };
        group.gates.add(g.id);
        by.set(key, group);
      }
    }
  }
  return [...by.values()].map((x) => ({ ...x, gates: [...x.gates] })).sort((a, b) => b.gates.length - a.gates.length);
}

export function consoleReporter(o: ReporterOptions): Reporter {
  const c = (code: string) => (s: string) => (o.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const green = c('32');
  const red = c('31');
  const yellow = c('33');
  const dim = c('2');
  const bold = c('1');
  const live = liveLine(o.out, liveLineEnabled(o.out), dim);
  const write = (s: string) => {
    live.erase();
    o.out.write(s + '\n');
  };
  let gateHeaderShown = false;
  let pendingHeader = '';
  const timings: { gate: string; t: Timing }[] = [];

  const header = () => {
    if (!gateHeaderShown) {
      write(pendingHeader);
      gateHeaderShown = true;
    }
  };

  let source: { file: string; text: string } | undefined;
  const failureDetail = (step: StepResult, failed: CheckResult[]) => {
    for (const ch of failed) {
      write(`      ${red('✗')} ${safe(ch.name)}  ${dim(safe(formatLoc(ch.loc)))}`);
      if (source && ch.loc.file === source.file)
        for (const l of codeFrame(source.text, ch.loc)) write(dim(`          ${safe(l)}`));
      // A long text shows the part that changed: the same window of both around their first different line.
      const focus =
        typeof ch.expected === 'string' && typeof ch.actual === 'string'
          ? firstDifferentLine(ch.expected, ch.actual)
          : undefined;
      write(indent(show(ch.expected), '          ', 20, focus, 'expected: '));
      write(indent(show(ch.actual), '          ', 20, focus, 'actual:   '));
      const why = whyFailed(ch);
      if (why) write(indent(`why:      ${show(why)}`, '          '));
    }
    if (step.lastMessages?.length) {
      write(dim(`        last messages (${step.lastMessages.length}):`));
      for (const m of step.lastMessages)
        write(dim(indent(`${safe(m.conn)} #${m.seq}: ${frame(m.text)}`, '          ', 1)));
    }
  };

  return {
    onRunStart(info: RunInfo) {
      if (info.gatesSource !== undefined) source = { file: info.gatesFile, text: info.gatesSource };
      if (o.quiet) return;
      const redact = info.redact ?? ((x: string) => x);
      write(
        bold(`wsgate ${safe(info.version)}`) +
          ` · ${safe(redact(info.url))}${info.embedded ? ' (embedded reference server)' : ''}`,
      );
      write(
        dim(
          safe(
            `project ${info.project} · gates ${info.gatesFile}${info.gatesOrigin && info.gatesOrigin !== 'from --gates' ? ` (${info.gatesOrigin})` : ''} · run ${info.runId}${info.evidenceDir ? ` · evidence ${info.evidenceDir}` : ''}`,
          ),
        ),
      );
    },
    onGateStart(g) {
      pendingHeader = `\n${bold(safe(g.id))}  ${safe(g.title)}`;
      gateHeaderShown = false;
      if (!o.quiet) header();
    },
    onStepStart(_gateId, label) {
      live.start(safe(label));
    },
    onStepProgress(_gateId, text) {
      live.progress(safe(text));
    },
    onFrame(conn, dir, text) {
      if (dir === 'in') live.frame();
      if (o.verbose) write(dim(`      ${dir === 'in' ? '←' : '→'} ${safe(conn)} ${frame(text)}`));
    },
    onStepEnd(gateId, step) {
      live.stop();
      for (const t of step.timings ?? []) if (t.budgetMs !== undefined) timings.push({ gate: gateId, t });
      const failed = step.checks.filter((ch) => !ch.passed);
      // Quiet still shows what is not a pass: failures, and steps not checked.
      if (o.quiet && step.status !== 'failed' && step.status !== 'unchecked') return;
      header();
      const mark =
        step.status === 'passed'
          ? green('✓')
          : step.status === 'failed'
            ? red('✗')
            : step.status === 'pending'
              ? yellow('?')
              : step.status === 'unchecked'
                ? yellow('○')
                : dim('-');
      const note = step.note ? dim(`  (${safe(step.note)})`) : '';
      const where = step.status === 'failed' ? '  ' + dim(safe(formatLoc(step.loc))) : '';
      write(`  ${mark} ${safe(step.label)}  ${dim(`${step.ms} ms`)}${where}${note}`);
      for (const w of step.checks.filter((ch) => ch.warning))
        write(yellow(`      ! ${safe(w.name)}: ${safe(show(w.actual))}`));
      if (failed.length) failureDetail(step, failed);
      if (step.harnessError) write(red(indent(`wsgate error (exit 3): ${show(step.harnessError)}`, '      ', 8)));
    },
    onGateEnd(g: GateResult) {
      // A gate that did not run at all (a gate it needs failed) says so in one line, quiet or not.
      if (g.status !== 'skipped' || !g.note || g.steps.some((s) => s.note !== g.note)) return;
      header();
      write(dim(`  - not run: ${safe(g.note)}`));
    },
    onRunEnd(r: RunResult) {
      live.stop();
      const t = r.totals;
      if (timings.length && !o.quiet) {
        write(`\n${bold('timings')} (measured vs budget)`);
        for (const { gate, t: x } of timings) {
          const mark = x.passed ? green('✓') : x.soft ? yellow('!') : red('✗');
          write(
            `  ${mark} ${safe(gate).padEnd(22)} ${String(x.ms).padStart(6)} ms  ${dim(`budget ${x.budgetMs} ms${x.soft ? ' (soft)' : ''}`)}`,
          );
        }
      }
      if (r.coverage && !o.quiet) write('\n' + formatCoverage(r.coverage));
      const parts = [`${t.passed} passed`, t.failed ? red(`${t.failed} failed`) : '0 failed'];
      if (t.pending) parts.push(yellow(`${t.pending} awaiting sign-off`));
      if (t.unchecked) parts.push(yellow(`${t.unchecked} not checked`));
      if (t.skipped) parts.push(`${t.skipped} skipped`);
      // A pass with gates not checked says so in the verdict word itself; exit 4 (--require-checked) is no pass.
      const notChecked = gatesNotChecked(r.gates);
      const passWord =
        r.exitCode === EXIT.unchecked
          ? yellow(`NOT CHECKED (${notChecked} gate${notChecked === 1 ? '' : 's'})`)
          : notChecked
            ? yellow(`PASS (${notChecked} gate${notChecked === 1 ? '' : 's'} not checked)`)
            : green('PASS');
      const verdict =
        r.status === 'passed' ? passWord : r.status === 'interrupted' ? yellow('INTERRUPTED') : red('FAIL');
      write(
        `\n${verdict}  ${t.gates} gates: ${parts.join(', ')} · ${t.checks} checks, ${t.checksFailed} failed · ${(r.ms / 1000).toFixed(2)} s`,
      );
      if (r.status === 'failed') {
        const causes = failuresByCause(r.gates);
        if (causes.length > 1 || (causes[0] && causes[0].gates.length > 1)) {
          write(`\n${bold('failures by cause')}`);
          for (const c of causes.slice(0, 12))
            write(
              `  ${red('✗')} ${safe(c.cause)}: ${c.gates.length} gate${c.gates.length === 1 ? '' : 's'} ${dim(safe(`(${c.gates.slice(0, 6).join(', ')}${c.gates.length > 6 ? ', …' : ''})`))}`,
            );
          if (causes.length > 12) write(dim(`  … ${causes.length - 12} more causes`));
        }
        const first = r.gates.find((g) => g.status === 'failed');
        const step = first?.steps.find((s) => s.status === 'failed');
        if (first && step)
          write(safe(`first failure: gate ${first.id}, step "${step.label}" at ${formatLoc(step.loc)}`));
      }
      // Gates not checked and gates left out are named, with why: neither is a pass.
      for (const g of r.gates.filter((x) => x.status === 'unchecked')) {
        const why = g.steps.find((s) => s.status === 'unchecked')?.note ?? 'not checked';
        write(yellow(`  ○ not checked: ${safe(g.id)}: ${safe(why.replace(/^not checked: /, ''))}`));
      }
      const left = r.gates.filter((x) => x.status === 'skipped' && x.note === SKIPPED_BY_FLAG).map((x) => x.id);
      if (left.length) write(dim(`  - left out by --skip-gate: ${safe(left.join(', '))}`));
      for (const w of r.warnings) write(yellow(`warning: ${safe(w)}`));
    },
  };
}

export type { GateResult };
