// The few lines `wsgate record` prints after writing: what the gate holds and, above all, what was
// inferred instead of hard-coded, so a person can judge the gate before trusting it.
import path from 'node:path';
import type { Inferred } from './infer.ts';

const RULES: [string, string][] = [
  ['uuid', 'UUID → {format: uuid}'],
  ['iso-date', 'ISO date → {format: iso-date}'],
  ['number', 'varying number → {type: number}'],
  ['id', 'server-made id → {type: string}'],
  ['hash', 'git hash → hex pattern'],
  ['long text', 'text over 4 KB → {type: string}'],
  ['regex', 'text with volatile parts → regex'],
  ['project', 'project folder → ${PROJECT}'],
  ['run id', 'run id → ${RUN_ID}'],
  ['capture', 'captured id reused → ${name}'],
];

function stepKinds(g: Inferred): string {
  const n = (k: string) => g.steps.filter((s) => k in s).length;
  const standalone = g.steps.filter((s) => 'expect' in s && !('send' in s)).length;
  const expectations = g.steps.reduce((a, s) => a + (Array.isArray(s.expect) ? s.expect.length : 0), 0);
  const parts = [
    n('connect') && `${n('connect')} connect`,
    n('send') && `${n('send')} send${n('send') > 1 ? 's' : ''}`,
    standalone && `${standalone} expect`,
    expectations && `${expectations} expected messages`,
    n('verify') && `${n('verify')} verify`,
    n('close') && `${n('close')} close`,
  ].filter(Boolean);
  return parts.join(', ');
}

function streams(g: Inferred): string {
  const by = new Map<string, { runs: number; pieces: number }>();
  for (const s of g.streams) {
    const key = `${s.stream} (text ${s.text === 'loose' ? 'not pinned' : s.text === 'pattern' ? 'as a pattern' : 'pinned'})`;
    const e = by.get(key) ?? { runs: 0, pieces: 0 };
    by.set(key, { runs: e.runs + 1, pieces: e.pieces + s.pieces });
  }
  return [...by].map(([k, e]) => `${e.runs} run${e.runs > 1 ? 's' : ''} of ${k}, ${e.pieces} pieces`).join('; ');
}

export function summaryLines(gates: Inferred[], file: string, created: boolean): string[] {
  const rel = path.relative(process.cwd(), file) || file;
  const many = gates.length > 1;
  const out: string[] = many ? [`wrote ${gates.length} gates to ${rel}${created ? ' (new file)' : ''}`] : [];
  const pad = many ? '    ' : '  ';
  for (const g of gates) {
    const what = `${g.steps.length} steps (${stepKinds(g)})`;
    out.push(many ? `  ${g.id}: ${what}` : `wrote gate ${g.id} to ${rel}${created ? ' (new file)' : ''}: ${what}`);
    const values = RULES.filter(([k]) => g.stats.get(k)).map(([k, words]) => `${g.stats.get(k)}× ${words}`);
    if (values.length) out.push(`${pad}not hard-coded: ${values.join('; ')}`);
    for (const c of g.captures) out.push(`${pad}captured ${c.name} from ${c.source}, used again ${c.uses}×`);
    if (g.streams.length) out.push(`${pad}streams → collect: ${streams(g)}`);
    if (g.verifies.length) out.push(`${pad}side effects: ${g.verifies.join('; ')}`);
    for (const n of g.notes) out.push(`${pad}note: ${n}`);
  }
  out.push(`replay: wsgate run [URL] [PATH] --gates ${rel}${many ? '' : ` --gate ${gates[0]!.id}`}`);
  return out;
}
