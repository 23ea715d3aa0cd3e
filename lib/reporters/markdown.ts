// `--reporter markdown[:FILE]`: a GitHub-flavoured summary (one table row per gate, the failed
// checks with expected/actual, the budgets table). FILE defaults to wsgate-summary.md; `-` is
// stdout. When $GITHUB_STEP_SUMMARY is set the same text is appended there too.
import type { RunResult, StepResult, Timing } from '../evidence/results.ts';
import { formatLoc } from '../loc.ts';
import { appendOut, fileReporter, normalize, show } from './output.ts';
import type { Reporter, ReporterOptions, RunInfo } from './types.ts';
import { termText } from './term-safe.ts';
import { escapeMarkup } from '../util/markup.ts';
import { whyFailed } from '../evidence/describe-failure.ts';

export const MARKDOWN_DEFAULT_FILE = 'wsgate-summary.md';
/** GitHub refuses step summaries over 1 MiB; failure details stop well before that. */
const MAX_DETAIL_CHARS = 600_000;
const MAX_VALUE_CHARS = 3_000;

/** Text safe inside a table cell or a line of prose: no HTML, no markdown syntax, no line breaks. */
export function mdText(s: string, max = 300): string {
  const flat = termText(
    String(s)
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .trim(),
    { github: false },
  );
  const short = flat.length > max ? flat.slice(0, max) + '…' : flat;
  return escapeMarkup(short, '"', "'").replace(/([\\`*_{}[\]()#+!|~])/g, '\\$1');
}

/** A fenced code block whose fence is longer than any backtick run inside. */
export function mdFence(text: string, lang = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  // Escapes, not raw controls: the summary is also read with `cat` and in CI logs.
  return `${fence}${lang}\n${termText(text.replace(/\r\n?/g, '\n'), { newlines: true, github: false })}\n${fence}`;
}

const ICON: Record<string, string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  pending: '⏳ pending',
  skipped: '⏭️ skipped',
  unchecked: '○ not checked',
  interrupted: '⚠️ interrupted',
};
const icon = (s: string) => ICON[s] ?? mdText(s);

export function markdownSummary(result: RunResult, info?: RunInfo): string {
  const r = normalize(result, info);
  const t = r.totals;
  const out: string[] = [];
  const verdict = r.status === 'passed' ? '✅ PASS' : r.status === 'interrupted' ? '⚠️ INTERRUPTED' : '❌ FAIL';
  out.push(`## wsgate ${verdict}`);
  out.push('');
  out.push(
    `${t.gates} gates: ${t.passed} passed, ${t.failed} failed${t.pending ? `, ${t.pending} awaiting sign-off` : ''}${t.unchecked ? `, ${t.unchecked} not checked` : ''}${t.skipped ? `, ${t.skipped} skipped` : ''} · ${t.checks} checks, ${t.checksFailed} failed · ${(r.ms / 1000).toFixed(2)} s`,
  );
  out.push('');
  out.push(
    `Run \`${r.runId.replace(/`/g, '')}\` against ${mdText(r.url)}${info?.embedded ? ' (embedded reference server)' : ''} · gates ${mdText(info?.gatesFile ?? r.gatesFile)}`,
  );
  out.push('');
  if (r.gates.length) {
    out.push('| Gate | Status | Steps passed | ms |');
    out.push('| --- | --- | ---: | ---: |');
    for (const g of r.gates) {
      const passed = g.steps.filter((s) => s.status === 'passed').length;
      out.push(
        `| **${mdText(g.id, 120)}** ${mdText(g.title, 120)} | ${icon(g.status)}${g.note ? ` (${mdText(g.note, 160)})` : ''} | ${passed}/${g.steps.length} | ${Math.round(g.ms)} |`,
      );
    }
  } else {
    out.push('_No gates were run._');
  }
  out.push('');

  const failedSteps: { gate: string; step: StepResult }[] = [];
  for (const g of r.gates)
    for (const s of g.steps) if (s.status === 'failed') failedSteps.push({ gate: g.id, step: s });
  if (failedSteps.length) {
    out.push('### Failures');
    out.push('');
    let used = 0;
    let omitted = 0;
    for (const { gate, step } of failedSteps) {
      const block: string[] = [];
      block.push(`#### ${mdText(gate, 120)} › ${mdText(step.label, 200)}`);
      block.push('');
      block.push(`Step at \`${formatLoc(step.loc).replace(/`/g, '')}\`${step.note ? ` · ${mdText(step.note)}` : ''}`);
      block.push('');
      const failed = step.checks.filter((c) => c && !c.passed);
      for (const c of failed) {
        block.push(`- **${mdText(c.name, 300)}** at \`${formatLoc(c.loc).replace(/`/g, '')}\``);
        block.push('');
        const why = whyFailed(c);
        block.push(
          mdFence(
            `expected: ${show(c.expected, MAX_VALUE_CHARS)}\nactual:   ${show(c.actual, MAX_VALUE_CHARS)}${why ? `\nwhy:      ${show(why, MAX_VALUE_CHARS)}` : ''}`,
          ).replace(/^/gm, '  '),
        );
        block.push('');
      }
      if (step.lastMessages?.length) {
        block.push('<details><summary>last messages</summary>');
        block.push('');
        block.push(
          mdFence(
            step.lastMessages
              .map((m) => `${m.conn} #${m.seq}: ${show(m.text, 1000).replace(/\s*\n\s*/g, ' ')}`)
              .join('\n'),
          ),
        );
        block.push('');
        block.push('</details>');
        block.push('');
      }
      const text = block.join('\n');
      if (used + text.length > MAX_DETAIL_CHARS) {
        omitted++;
        continue;
      }
      used += text.length;
      out.push(text);
    }
    if (omitted)
      out.push(`_${omitted} more failed steps are left out here; see the JSON result or the evidence folder._`, '');
  }

  const timings: { gate: string; t: Timing }[] = [];
  for (const g of r.gates)
    for (const s of g.steps)
      for (const x of s.timings ?? []) if (x && x.budgetMs !== undefined) timings.push({ gate: g.id, t: x });
  if (timings.length) {
    out.push('### Timings (measured vs budget)');
    out.push('');
    out.push('| Gate | Timing | Measured ms | Budget ms | Result |');
    out.push('| --- | --- | ---: | ---: | --- |');
    for (const { gate, t: x } of timings) {
      const res = x.passed ? '✅ within' : x.soft ? '⚠️ over (soft)' : '❌ over';
      out.push(
        `| ${mdText(gate, 120)} | ${mdText(String(x.name ?? ''), 120)} | ${Math.round(Number(x.ms) || 0)} | ${Math.round(Number(x.budgetMs) || 0)}${x.soft ? ' (soft)' : ''} | ${res} |`,
      );
    }
    out.push('');
  }
  if (r.warnings.length) {
    out.push('### Warnings');
    out.push('');
    for (const w of r.warnings.slice(0, 100)) out.push(`- ${mdText(w, 500)}`);
    out.push('');
  }
  return out.join('\n');
}

export function markdownReporter(o: ReporterOptions): Reporter {
  return fileReporter('markdown', o.file, MARKDOWN_DEFAULT_FILE, markdownSummary, (text, to) => {
    const summary = process.env.GITHUB_STEP_SUMMARY;
    if (summary && summary !== to) appendOut('markdown', summary, text + '\n');
  });
}
