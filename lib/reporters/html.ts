// `--reporter html[:FILE]`: one self-contained HTML page (inline CSS and JS, nothing fetched, a CSP
// that forbids any network): the run header, every gate and step with status and time, failed
// checks as an expected-vs-actual diff, the timings table and a per-connection timeline of every
// frame, read from the evidence folder's transcript.jsonl. Every server-provided string is escaped.
// FILE defaults to wsgate-report.html; `-` is stdout.
import { createHash } from 'node:crypto';
import type { CheckResult, GateResult, RunResult, StepResult } from '../evidence/results.ts';
import { formatLoc } from '../loc.ts';
import { fileReporter, normalize, readTranscript, show, type Transcript, type TranscriptLine } from './output.ts';
import type { Reporter, ReporterOptions, RunInfo } from './types.ts';
import { escapeMarkup, unicodeEscape } from '../util/markup.ts';
import { whyFailed } from '../evidence/describe-failure.ts';

export const HTML_DEFAULT_FILE = 'wsgate-report.html';
const MAX_FRAME_CHARS = 20_000;
const MAX_VALUE_CHARS = 50_000;
const MAX_DIFF_LINES = 400;

/** Escapes text for HTML content and attribute values; C0 controls become visible \uXXXX. */
export function esc(s: unknown): string {
  return escapeMarkup(String(s).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, unicodeEscape));
}

function clip(s: string, max: number): string {
  return s.length > max
    ? `${esc(s.slice(0, max))}<span class="more">… ${s.length - max} more characters (full text in the evidence folder)</span>`
    : esc(s);
}

const STATUS_MARK: Record<string, string> = {
  passed: '✓',
  failed: '✗',
  pending: '?',
  skipped: '–',
  unchecked: '○',
  interrupted: '!',
};
const badge = (status: string) =>
  `<span class="badge s-${esc(status)}">${STATUS_MARK[status] ?? '·'} ${esc(status === 'unchecked' ? 'not checked' : status)}</span>`;

// ---- diff -----------------------------------------------------------------------------------

type Op = { op: ' ' | '-' | '+'; text: string };

/** Line diff by longest common subsequence (inputs are capped, so the table stays small). */
export function lineDiff(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ op: ' ', text: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) ops.push({ op: '-', text: a[i++]! });
    else ops.push({ op: '+', text: b[j++]! });
  }
  while (i < n) ops.push({ op: '-', text: a[i++]! });
  while (j < m) ops.push({ op: '+', text: b[j++]! });
  return ops;
}

/** One changed line pair with the differing middle marked. */
function inlinePair(a: string, b: string): [string, string] {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const mark = (x: string) =>
    `${esc(x.slice(0, p))}<mark>${esc(x.slice(p, x.length - s))}</mark>${esc(x.slice(x.length - s))}`;
  return [mark(a), mark(b)];
}

function diffView(c: CheckResult): string {
  const exp = show(c.expected, MAX_VALUE_CHARS, true);
  const act = show(c.actual, MAX_VALUE_CHARS, true);
  const why = whyFailed(c);
  const a = exp.split('\n');
  const b = act.split('\n');
  let body: string;
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) {
    body = `<div class="dl d-del">- ${esc(exp)}</div><div class="dl d-ins">+ ${esc(act)}</div>`;
  } else {
    const ops = lineDiff(a, b);
    const rows: string[] = [];
    for (let k = 0; k < ops.length; k++) {
      const o = ops[k]!;
      const next = ops[k + 1];
      if (o.op === '-' && next?.op === '+' && !(ops[k + 2]?.op === '+') && !(ops[k - 1]?.op === '-')) {
        const [x, y] = inlinePair(o.text, next.text);
        rows.push(`<div class="dl d-del">- ${x}</div><div class="dl d-ins">+ ${y}</div>`);
        k++;
        continue;
      }
      const cls = o.op === '-' ? 'd-del' : o.op === '+' ? 'd-ins' : 'd-same';
      rows.push(`<div class="dl ${cls}">${o.op} ${esc(o.text)}</div>`);
    }
    body = rows.join('');
  }
  return `<div class="check failed">
<div class="check-head">✗ ${esc(c.name)} <span class="loc">${esc(formatLoc(c.loc))}</span></div>${why ? `\n<div class="why">${esc(why)}</div>` : ''}
<div class="diff"><div class="diff-legend"><span class="d-del">- expected</span> <span class="d-ins">+ actual</span></div><pre>${body}</pre></div>
</div>`;
}

// ---- sections -------------------------------------------------------------------------------

function stepRow(step: StepResult, index: number): string {
  const failed = step.checks.filter((c) => c && !c.passed);
  const warnings = step.checks.filter((c) => c?.passed && c.warning);
  const timings = (step.timings ?? [])
    .filter(Boolean)
    .map((t) => `${esc(t.name)} ${esc(t.ms)} ms${t.budgetMs !== undefined ? ` / ${esc(t.budgetMs)} ms` : ''}`);
  const details: string[] = [];
  for (const c of failed) details.push(diffView(c));
  for (const w of warnings)
    details.push(
      `<div class="check warn">! ${esc(w.name)}: ${clip(show(w.actual, MAX_VALUE_CHARS), 2000)} <span class="loc">${esc(formatLoc(w.loc))}</span></div>`,
    );
  if (step.status === 'failed' && step.lastMessages?.length) {
    details.push(
      `<div class="last"><div class="sub">last messages</div>${step.lastMessages.map((m) => `<div class="msg"><span class="conn">${esc(m.conn)} #${esc(m.seq)}</span> <code>${clip(String(m.text ?? ''), 4000)}</code></div>`).join('')}</div>`,
    );
  }
  if (step.status === 'failed' && !failed.length)
    details.push(`<div class="check failed">✗ ${esc(step.note ?? 'step failed')}</div>`);
  return `<tr class="step s-${esc(step.status)}" data-status="${esc(step.status)}">
<td class="num">${index + 1}</td><td>${badge(step.status)}</td><td class="label">${esc(step.label)}<span class="kind">${esc(step.kind)}</span>${step.note ? `<div class="note">${esc(step.note)}</div>` : ''}${details.length ? `<div class="details">${details.join('\n')}</div>` : ''}</td>
<td class="num">${esc(step.ms)} ms</td><td class="loc">${esc(formatLoc(step.loc))}</td><td class="timings">${timings.join('<br>')}</td></tr>`;
}

function gateSection(g: GateResult): string {
  const passed = g.steps.filter((s) => s.status === 'passed').length;
  return `<details class="gate s-${esc(g.status)}" data-status="${esc(g.status)}" id="gate-${esc(g.id)}"${g.status === 'failed' ? ' open' : ''}>
<summary>${badge(g.status)} <span class="gate-id">${esc(g.id)}</span> <span class="title">${esc(g.title)}</span> <span class="meta">${passed}/${g.steps.length} steps · ${esc(g.ms)} ms · ${esc(formatLoc(g.loc))}</span></summary>
<table class="steps"><thead><tr><th>#</th><th>status</th><th>step</th><th>time</th><th>where</th><th>timings</th></tr></thead><tbody>
${g.steps.map((s, i) => stepRow(s, i)).join('\n')}
</tbody></table>
</details>`;
}

function timingsTable(r: RunResult): string {
  const rows: string[] = [];
  for (const g of r.gates) {
    for (const s of g.steps) {
      for (const t of s.timings ?? []) {
        if (!t) continue;
        const res = t.budgetMs === undefined ? 'no budget' : t.passed ? 'within' : t.soft ? 'over (soft)' : 'over';
        const cls = t.budgetMs === undefined ? 'none' : t.passed ? 'passed' : t.soft ? 'pending' : 'failed';
        const pct = t.budgetMs ? Math.min(100, Math.round((Number(t.ms) / t.budgetMs) * 100)) : 0;
        rows.push(
          `<tr class="s-${cls}"><td>${esc(g.id)}</td><td>${esc(s.label)}</td><td>${esc(t.name)}</td><td class="num">${esc(t.ms)}</td><td class="num">${t.budgetMs === undefined ? '–' : esc(t.budgetMs) + (t.soft ? ' (soft)' : '')}</td><td>${t.budgetMs ? `<span class="bar"><span class="fill s-${cls}" data-pct="${pct}"></span></span> ` : ''}${esc(res)}</td></tr>`,
        );
      }
    }
  }
  if (!rows.length) return '<p class="empty">No timings were measured.</p>';
  return `<table class="timings-table"><thead><tr><th>gate</th><th>step</th><th>timing</th><th>measured ms</th><th>budget ms</th><th>result</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function looksJson(s: string): boolean {
  const t = s.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}

function timeline(t: Transcript, r: RunResult): string {
  if (t.missing) return '<p class="empty">No transcript: the evidence folder was not available to this reporter.</p>';
  const notes: string[] = [];
  if (t.dropped)
    notes.push(
      `${t.dropped} further frames are not shown (limit reached); see transcript.jsonl in the evidence folder.`,
    );
  if (t.unreadable) notes.push(`${t.unreadable} transcript lines could not be read.`);
  if (!t.lines.length)
    return `<p class="empty">The transcript is empty.</p>${notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}`;
  const start = Date.parse(r.startedAt);
  const gateIds = new Set(r.gates.map((g) => g.id));
  // A connection belongs to the gate whose step wrote the frame ("write-file#3" → write-file).
  const groups = new Map<string, { gate: string; conn: string; lines: TranscriptLine[] }>();
  for (const l of t.lines) {
    const hash = l.step.lastIndexOf('#');
    const gate = hash > 0 && gateIds.has(l.step.slice(0, hash)) ? l.step.slice(0, hash) : l.step || '?';
    const key = `${gate}\u0000${l.conn}`;
    let g = groups.get(key);
    if (!g) {
      g = { gate, conn: l.conn, lines: [] };
      groups.set(key, g);
    }
    g.lines.push(l);
  }
  const sections = [...groups.values()].map((g) => {
    const rows = g.lines.map((l) => {
      const at = Date.parse(l.at);
      const rel = Number.isFinite(at) && Number.isFinite(start) ? `+${((at - start) / 1000).toFixed(3)} s` : esc(l.at);
      const json = l.dir !== 'event' && looksJson(l.text) && l.text.length <= MAX_FRAME_CHARS ? ' data-json="1"' : '';
      return `<tr class="f-${l.dir}"><td class="num" title="${esc(l.at)}">${rel}</td><td class="dir">${l.dir === 'in' ? '← in' : l.dir === 'out' ? '→ out' : '• event'}</td><td class="num">${l.seq === undefined ? '' : '#' + esc(l.seq)}</td><td class="stepref">${esc(l.step)}</td><td><pre class="${l.dir === 'event' ? 'event' : 'frame'}"${json}>${clip(l.text, MAX_FRAME_CHARS)}</pre></td></tr>`;
    });
    const ins = g.lines.filter((l) => l.dir === 'in').length;
    return `<details class="conn" open><summary><span class="gate-id">${esc(g.gate)}</span> · connection <b>${esc(g.conn)}</b> <span class="meta">${ins} in, ${g.lines.length - ins} out</span></summary>
<table class="frames"><thead><tr><th>time</th><th>dir</th><th>seq</th><th>step</th><th>message</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></details>`;
  });
  return `${notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}${sections.join('\n')}`;
}

// ---- page -----------------------------------------------------------------------------------

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--mute:#6e7781;--bg:#fff;--fg:#1f2328;--line:#d0d7de;--soft:#f6f8fa}
*{box-sizing:border-box}body{margin:0;padding:1.2rem 1.6rem;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
.verdict{font-weight:700;padding:.1rem .5rem;border-radius:4px;color:#fff}.verdict.s-passed{background:var(--ok)}.verdict.s-failed{background:var(--bad)}.verdict.s-interrupted{background:var(--warn)}
dl.run{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.6rem 0}dl.run dt{color:var(--mute)}dl.run dd{margin:0;word-break:break-all}
.totals span{margin-right:1rem}.badge{display:inline-block;min-width:5.2rem;font-size:.8rem;font-weight:600;padding:0 .4rem;border-radius:10px;border:1px solid currentColor}
.s-passed .badge,.badge.s-passed{color:var(--ok)}.badge.s-failed{color:var(--bad)}.badge.s-pending{color:var(--warn)}.badge.s-skipped{color:var(--mute)}.badge.s-unchecked{color:var(--warn)}
details.gate{border:1px solid var(--line);border-radius:6px;margin:.5rem 0;background:var(--bg)}details.gate>summary{padding:.45rem .7rem;cursor:pointer;background:var(--soft);border-radius:6px}
details.gate.s-failed{border-color:var(--bad)}.gate-id{font-family:ui-monospace,monospace;font-weight:700}.meta{color:var(--mute);font-size:.85rem;margin-left:.5rem}
table{border-collapse:collapse;width:100%}th,td{border-top:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:var(--soft);font-weight:600;font-size:.85rem}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}.loc,.stepref{font-family:ui-monospace,monospace;font-size:.8rem;color:var(--mute);white-space:nowrap}
.kind{margin-left:.5rem;font-size:.75rem;color:var(--mute)}.note{color:var(--mute);font-size:.85rem}.details{margin-top:.4rem}
.check{margin:.3rem 0;padding:.3rem .5rem;border-left:3px solid var(--line)}.check.failed{border-color:var(--bad)}.check.warn{border-color:var(--warn);color:var(--warn)}.check-head{font-weight:600}.why{margin:.2rem 0}
.diff pre,pre.frame{margin:.2rem 0;white-space:pre-wrap;word-break:break-all;font:12px/1.4 ui-monospace,monospace}.diff-legend{font-size:.8rem}
.d-del{background:#ffebe9;color:#82071e}.d-ins{background:#dafbe1;color:#116329}.d-same{color:var(--mute)}mark{background:#ffd8b5;color:inherit}
.last .msg{font-size:.8rem}.last code{word-break:break-all}.conn{font-family:ui-monospace,monospace}.more{color:var(--warn);font-style:italic}
details.conn{margin:.4rem 0;border:1px solid var(--line);border-radius:6px}details.conn>summary{padding:.35rem .6rem;background:var(--soft);cursor:pointer}
tr.f-in td.dir{color:#0969da}tr.f-out td.dir{color:#8250df}td.dir{white-space:nowrap}
.bar{display:inline-block;width:6rem;height:.6rem;background:var(--soft);border:1px solid var(--line);vertical-align:middle}.bar .fill{display:block;height:100%;width:0}
.fill.s-passed{background:var(--ok)}.fill.s-failed{background:var(--bad)}.fill.s-pending{background:var(--warn)}
.toolbar{margin:.6rem 0}.toolbar button,.toolbar label{margin-right:.6rem;font:inherit}.hidden{display:none}.empty{color:var(--mute)}
.warnings li{color:var(--warn)}footer{margin-top:2rem;color:var(--mute);font-size:.8rem}
`;

// Progressive enhancement only: the page is complete without it. It never builds HTML from text.
const JS = `
(function(){
  var root=document.documentElement;
  document.querySelectorAll('.bar .fill').forEach(function(el){el.style.width=(+el.getAttribute('data-pct')||0)+'%';});
  var only=document.getElementById('only-failed');
  function apply(){
    var on=only&&only.checked;
    document.querySelectorAll('details.gate').forEach(function(g){g.classList.toggle('hidden',on&&g.getAttribute('data-status')!=='failed');});
    document.querySelectorAll('tr.step').forEach(function(r){r.classList.toggle('hidden',on&&r.getAttribute('data-status')!=='failed');});
  }
  if(only)only.addEventListener('change',apply);
  function all(open){document.querySelectorAll('details').forEach(function(d){d.open=open;});}
  var ex=document.getElementById('expand-all'),co=document.getElementById('collapse-all');
  if(ex)ex.addEventListener('click',function(){all(true);});
  if(co)co.addEventListener('click',function(){all(false);});
  var pretty=document.getElementById('pretty-json');
  if(pretty)pretty.addEventListener('change',function(){
    document.querySelectorAll('pre.frame[data-json]').forEach(function(p){
      if(!p.hasAttribute('data-raw'))p.setAttribute('data-raw',p.textContent);
      var raw=p.getAttribute('data-raw');
      if(pretty.checked){try{p.textContent=JSON.stringify(JSON.parse(raw),null,2);}catch(e){}}else{p.textContent=raw;}
    });
  });
  var frames=document.querySelectorAll('pre.frame').length;
  var c=document.getElementById('frame-count');if(c)c.textContent=String(frames);
  root.setAttribute('data-ready','1');
})();
`;

export function htmlReport(result: RunResult, info: RunInfo | undefined, transcript: Transcript): string {
  const r = normalize(result, info);
  const t = r.totals;
  const status = r.status;
  const scriptHash = createHash('sha256').update(JS).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const verdict = status === 'passed' ? 'PASS' : status === 'interrupted' ? 'INTERRUPTED' : 'FAIL';
  const runRows: [string, string][] = [
    ['run', r.runId],
    ['started', r.startedAt],
    ['duration', `${(r.ms / 1000).toFixed(2)} s`],
    ['server', `${r.url}${info?.embedded ? ' (embedded reference server)' : ''}`],
    ['project', r.project],
    ['gates file', info?.gatesFile ?? r.gatesFile],
    ['exit code', String(r.exitCode ?? '')],
    ...(info?.version ? [['wsgate', info.version] as [string, string]] : []),
    ...(info?.evidenceDir ? [['evidence', info.evidenceDir] as [string, string]] : []),
  ];
  const warnings = r.warnings.length
    ? `<h2>Warnings</h2><ul class="warnings">${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>wsgate ${esc(verdict)} · run ${esc(r.runId)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>wsgate <span class="verdict s-${esc(status)}">${esc(verdict)}</span></h1>
<div class="totals"><span>${esc(t.gates)} gates</span><span>${esc(t.passed)} passed</span><span>${esc(t.failed)} failed</span><span>${esc(t.pending)} pending</span><span>${esc(t.skipped)} skipped</span>${t.unchecked ? `<span>${esc(t.unchecked)} not checked</span>` : ''}<span>${esc(t.checks)} checks, ${esc(t.checksFailed)} failed</span><span><b id="frame-count">${transcript.lines.filter((l) => l.dir !== 'event').length}</b> frames</span></div>
<dl class="run">${runRows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
</header>
<div class="toolbar"><label><input type="checkbox" id="only-failed"> failed only</label><button type="button" id="expand-all">expand all</button><button type="button" id="collapse-all">collapse all</button><label><input type="checkbox" id="pretty-json"> pretty-print JSON frames</label></div>
${warnings}
<h2>Gates</h2>
${r.gates.length ? r.gates.map(gateSection).join('\n') : '<p class="empty">No gates were run.</p>'}
<h2>Timings</h2>
${timingsTable(r)}
<h2>Message timeline</h2>
${timeline(transcript, r)}
<footer>Generated by wsgate${info?.version ? ' ' + esc(info.version) : ''}. Self-contained: this file loads nothing from the network.</footer>
<script>${JS}</script>
</body>
</html>
`;
}

export function htmlReporter(o: ReporterOptions): Reporter {
  return fileReporter('html', o.file, HTML_DEFAULT_FILE, async (result, info) => {
    const transcript = await readTranscript(info?.evidenceDir).catch(
      () => ({ lines: [], dropped: 0, unreadable: 1, missing: true }) as Transcript,
    );
    return htmlReport(result, info, transcript);
  });
}
