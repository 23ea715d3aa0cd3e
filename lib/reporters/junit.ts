// `--reporter junit[:FILE]`: JUnit XML (the Jenkins junit-10.xsd shape that CI servers read).
// One <testsuite> per gate, one <testcase> per step; failed checks become <failure>, skipped and
// pending steps <skipped>. FILE defaults to wsgate-junit.xml; `-` is stdout.
import os from 'node:os';
import type { GateResult, RunResult, StepResult } from '../evidence/results.ts';
import { formatLoc } from '../loc.ts';
import { fileReporter, normalize, show } from './output.ts';
import type { Reporter, ReporterOptions, RunInfo } from './types.ts';
import { escapeMarkup, unicodeEscape } from '../util/markup.ts';
import { whyFailed } from '../evidence/describe-failure.ts';

export const JUNIT_DEFAULT_FILE = 'wsgate-junit.xml';

// Everything XML 1.0 forbids (C0 controls but tab/newline/CR, lone surrogates, U+FFFE/U+FFFF)
// is shown as a visible \uXXXX escape instead of being dropped.
const ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function legal(s: string): string {
  return s.replace(ILLEGAL, unicodeEscape);
}

export function xmlText(s: string): string {
  return escapeMarkup(legal(s), '"', "'");
}

export function xmlAttr(s: string): string {
  return escapeMarkup(legal(s), '&quot;', '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function oneLine(s: string, max = 300): string {
  const flat = s.replace(/\s*\n\s*/g, ' ');
  return flat.length > max ? flat.slice(0, max) + '…' : flat;
}

function failureText(step: StepResult): { message: string; text: string } {
  const failed = step.checks.filter((c) => c && !c.passed);
  if (!failed.length) {
    const why = step.note ?? 'step failed';
    return { message: oneLine(why), text: `${why}\nat ${formatLoc(step.loc)}` };
  }
  const first = failed[0]!;
  const firstWhy = whyFailed(first);
  const message = oneLine(
    `${first.name}: ${firstWhy ? `${firstWhy}; ` : ''}expected ${show(first.expected, 200)}, actual ${show(first.actual, 200)}${failed.length > 1 ? ` (+${failed.length - 1} more)` : ''}`,
  );
  const parts = failed.map((c) => {
    const why = whyFailed(c);
    return [
      `✗ ${c.name}`,
      `  at ${formatLoc(c.loc)}`,
      `  expected: ${show(c.expected, 20_000)}`,
      `  actual:   ${show(c.actual, 20_000)}`,
      ...(why ? [`  why:      ${show(why, 20_000)}`] : []),
    ].join('\n');
  });
  if (step.lastMessages?.length) {
    parts.push(
      [
        'last messages:',
        ...step.lastMessages.map((m) => `  ${m.conn} #${m.seq}: ${oneLine(String(m.text ?? ''), 2000)}`),
      ].join('\n'),
    );
  }
  return { message, text: `step "${step.label}" at ${formatLoc(step.loc)}\n\n${parts.join('\n\n')}` };
}

function testcase(gate: GateResult, step: StepResult): string {
  const head = `    <testcase classname="${xmlAttr(gate.id)}" name="${xmlAttr(step.label)}" time="${seconds(step.ms)}"`;
  if (step.status === 'failed') {
    const f = failureText(step);
    return `${head}>\n      <failure message="${xmlAttr(f.message)}" type="${xmlAttr(`wsgate.${step.kind}`)}">${xmlText(f.text)}</failure>\n    </testcase>`;
  }
  // A step not checked is neither passed nor failed: JUnit's only such element is <skipped>.
  if (step.status === 'skipped' || step.status === 'pending' || step.status === 'unchecked') {
    const why =
      step.status === 'pending'
        ? `pending: ${step.note ?? 'awaiting sign-off'}`
        : step.status === 'unchecked'
          ? step.note?.startsWith('not checked')
            ? step.note
            : `not checked: ${step.note ?? 'its premise did not hold'}`
          : (step.note ?? 'skipped');
    return `${head}>\n      <skipped message="${xmlAttr(oneLine(why))}"/>\n    </testcase>`;
  }
  const warnings = step.checks.filter((c) => c?.warning);
  if (warnings.length) {
    const out = warnings.map((c) => `warning: ${c.name}: ${show(c.actual, 2000)} (${formatLoc(c.loc)})`).join('\n');
    return `${head}>\n      <system-out>${xmlText(out)}</system-out>\n    </testcase>`;
  }
  return `${head}/>`;
}

export function junitXml(result: RunResult, info?: RunInfo): string {
  const r = normalize(result, info);
  const timestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(r.startedAt)?.[0];
  let host = '';
  try {
    host = os.hostname();
  } catch {
    // no hostname attribute then
  }
  let tests = 0;
  let failures = 0;
  const suites = r.gates.map((g) => {
    const failed = g.steps.filter((s) => s.status === 'failed').length;
    const skipped = g.steps.filter(
      (s) => s.status === 'skipped' || s.status === 'pending' || s.status === 'unchecked',
    ).length;
    tests += g.steps.length;
    failures += failed;
    const attrs = [
      `name="${xmlAttr(g.id)}"`,
      `tests="${g.steps.length}"`,
      `failures="${failed}"`,
      `errors="0"`,
      `skipped="${skipped}"`,
      `time="${seconds(g.ms)}"`,
      ...(timestamp ? [`timestamp="${timestamp}"`] : []),
      ...(host ? [`hostname="${xmlAttr(host)}"`] : []),
      `id="${xmlAttr(g.id)}"`,
      `package="wsgate"`,
      ...(g.loc?.file ? [`file="${xmlAttr(String(g.loc.file))}"`] : []),
    ];
    const props = [
      ['title', g.title],
      ['status', String(g.status)],
      ['location', formatLoc(g.loc)],
      ['runId', r.runId],
      ['url', r.url],
    ]
      .map(([k, v]) => `      <property name="${xmlAttr(k!)}" value="${xmlAttr(v!)}"/>`)
      .join('\n');
    const cases = g.steps.map((s) => testcase(g, s)).join('\n');
    return `  <testsuite ${attrs.join(' ')}>\n    <properties>\n${props}\n    </properties>${cases ? '\n' + cases : ''}\n  </testsuite>`;
  });
  const root = `<testsuites name="${xmlAttr(`wsgate ${r.runId}`.trim())}" tests="${tests}" failures="${failures}" errors="0" time="${seconds(r.ms)}">`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n${suites.join('\n')}${suites.length ? '\n' : ''}</testsuites>\n`;
}

export function junitReporter(o: ReporterOptions): Reporter {
  return fileReporter('junit', o.file, JUNIT_DEFAULT_FILE, junitXml);
}
