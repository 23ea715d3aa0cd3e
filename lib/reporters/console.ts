// Live, one line per step with ✓/✗ and milliseconds; on failure the gate, the step, its
// gates.yaml line, what was expected and what arrived; totals and timings at the end.
import { formatLoc, type CheckResult, type GateResult, type RunResult, type StepResult, type Timing } from '../results.ts';
import type { Reporter, ReporterOptions, RunInfo } from './types.ts';
import { formatCoverage } from '../protocol/coverage.ts';

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '(absent)';
  return JSON.stringify(v);
}

function indent(text: string, pad: string, maxLines = 20): string {
  const lines = text.split('\n');
  const kept = lines.length > maxLines ? [...lines.slice(0, maxLines), `… ${lines.length - maxLines} more lines`] : lines;
  return kept.map((l) => pad + l).join('\n');
}

/**
 * Failed checks grouped by what went wrong, most gates first: one defect that breaks seven gates reads
 * as one line ("message_complete arrived before tool_result: 7 gates"), not seven stories.
 */
export function failuresByCause(gates: GateResult[]): { cause: string; gates: string[] }[] {
  const by = new Map<string, Set<string>>();
  for (const g of gates) {
    for (const s of g.steps) {
      for (const c of s.checks) {
        if (c.passed) continue;
        const cause = c.cause ?? c.name.replace(/^[^:]+#\d+: |^[A-Za-z0-9_.-]+: /, '');
        const set = by.get(cause) ?? new Set<string>();
        set.add(g.id);
        by.set(cause, set);
      }
    }
  }
  return [...by.entries()].map(([cause, set]) => ({ cause, gates: [...set] })).sort((a, b) => b.gates.length - a.gates.length);
}

export function consoleReporter(o: ReporterOptions): Reporter {
  const c = (code: string) => (s: string) => (o.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const green = c('32');
  const red = c('31');
  const yellow = c('33');
  const dim = c('2');
  const bold = c('1');
  const write = (s: string) => o.out.write(s + '\n');
  let gateHeaderShown = false;
  let pendingHeader = '';
  const timings: { gate: string; t: Timing }[] = [];

  const header = () => {
    if (!gateHeaderShown) {
      write(pendingHeader);
      gateHeaderShown = true;
    }
  };

  const failureDetail = (step: StepResult, failed: CheckResult[]) => {
    for (const ch of failed) {
      write(`      ${red('✗')} ${ch.name}  ${dim(formatLoc(ch.loc))}`);
      write(indent(`expected: ${show(ch.expected)}`, '          '));
      write(indent(`actual:   ${show(ch.actual)}`, '          '));
      if (ch.reason) write(indent(`why:      ${ch.reason}`, '          '));
    }
    if (step.lastMessages?.length) {
      write(dim(`        last messages (${step.lastMessages.length}):`));
      for (const m of step.lastMessages) write(dim(indent(`${m.conn} #${m.seq}: ${m.text.replace(/\s*\n\s*/g, ' ')}`, '          ', 1)));
    }
  };

  return {
    onRunStart(info: RunInfo) {
      if (o.quiet) return;
      write(bold(`wsgate ${info.version}`) + ` · ${info.url}${info.embedded ? ' (embedded reference server)' : ''}`);
      write(dim(`project ${info.project} · gates ${info.gatesFile} · run ${info.runId}${info.evidenceDir ? ` · evidence ${info.evidenceDir}` : ''}`));
    },
    onGateStart(g) {
      pendingHeader = `\n${bold(g.id)}  ${g.title}`;
      gateHeaderShown = false;
      if (!o.quiet) header();
    },
    onFrame(conn, dir, text) {
      if (o.verbose) write(dim(`      ${dir === 'in' ? '←' : '→'} ${conn} ${text.replace(/\s*\n\s*/g, ' ')}`));
    },
    onStepEnd(gateId, step) {
      for (const t of step.timings ?? []) if (t.budgetMs !== undefined) timings.push({ gate: gateId, t });
      const failed = step.checks.filter((ch) => !ch.passed);
      if (o.quiet && step.status !== 'failed') return;
      header();
      const mark = step.status === 'passed' ? green('✓') : step.status === 'failed' ? red('✗') : step.status === 'pending' ? yellow('?') : dim('-');
      const note = step.note ? dim(`  (${step.note})`) : '';
      const where = step.status === 'failed' ? '  ' + dim(formatLoc(step.loc)) : '';
      write(`  ${mark} ${step.label}  ${dim(`${step.ms} ms`)}${where}${note}`);
      for (const w of step.checks.filter((ch) => ch.warning)) write(yellow(`      ! ${w.name}: ${show(w.actual)}`));
      if (failed.length) failureDetail(step, failed);
    },
    onGateEnd(g: GateResult) {
      // A gate that did not run at all (a gate it needs failed) says so in one line, quiet or not.
      if (g.status !== 'skipped' || !g.note || g.steps.some((s) => s.note !== g.note)) return;
      header();
      write(dim(`  - not run: ${g.note}`));
    },
    onRunEnd(r: RunResult) {
      const t = r.totals;
      if (timings.length && !o.quiet) {
        write(`\n${bold('timings')} (measured vs budget)`);
        for (const { gate, t: x } of timings) {
          const mark = x.passed ? green('✓') : x.soft ? yellow('!') : red('✗');
          write(`  ${mark} ${gate.padEnd(22)} ${String(x.ms).padStart(6)} ms  ${dim(`budget ${x.budgetMs} ms${x.soft ? ' (soft)' : ''}`)}`);
        }
      }
      if (r.coverage && !o.quiet) write('\n' + formatCoverage(r.coverage));
      const parts = [`${t.passed} passed`, t.failed ? red(`${t.failed} failed`) : '0 failed'];
      if (t.pending) parts.push(yellow(`${t.pending} awaiting sign-off`));
      if (t.skipped) parts.push(`${t.skipped} skipped`);
      const verdict = r.status === 'passed' ? green('PASS') : r.status === 'interrupted' ? yellow('INTERRUPTED') : red('FAIL');
      write(`\n${verdict}  ${t.gates} gates: ${parts.join(', ')} · ${t.checks} checks, ${t.checksFailed} failed · ${(r.ms / 1000).toFixed(2)} s`);
      if (r.status === 'failed') {
        const causes = failuresByCause(r.gates);
        if (causes.length > 1 || (causes[0] && causes[0].gates.length > 1)) {
          write(`\n${bold('failures by cause')}`);
          for (const c of causes.slice(0, 12)) write(`  ${red('✗')} ${c.cause}: ${c.gates.length} gate${c.gates.length === 1 ? '' : 's'} ${dim(`(${c.gates.slice(0, 6).join(', ')}${c.gates.length > 6 ? ', …' : ''})`)}`);
          if (causes.length > 12) write(dim(`  … ${causes.length - 12} more causes`));
        }
        const first = r.gates.find((g) => g.status === 'failed');
        const step = first?.steps.find((s) => s.status === 'failed');
        if (first && step) write(`first failure: gate ${first.id}, step "${step.label}" at ${formatLoc(step.loc)}`);
      }
      for (const w of r.warnings) write(yellow(`warning: ${w}`));
    },
  };
}

export type { GateResult };
