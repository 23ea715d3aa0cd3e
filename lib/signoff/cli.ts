// `wsgate signoff` and `wsgate status`.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { HarnessFailure, EXIT } from '../errors.ts';
import { gateStates, listRuns, proofNote, signoff } from './ledger.ts';
import { loadGatesFile } from '../gates/load.ts';
import { defaultRunsDirs } from '../evidence/dir.ts';
import { keyId, signingKey } from '../evidence/signing.ts';
import { termText } from '../reporters/term-safe.ts';

export const SIGNOFF_USAGE = 'usage: wsgate signoff [RUN_DIR] --gate ID --by NAME [--note TEXT] [--runs DIR]';
export const STATUS_USAGE = 'usage: wsgate status [--gates FILE] [--runs DIR]';

function parse(argv: string[], usage: string, options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new HarnessFailure([{ code: 'USAGE', title: (e as Error).message.replace(/\. To specify.*$/s, ''), hint: usage.replace(/^usage: /, '') }], EXIT.usage);
  }
}

/** --runs DIR, else the current folder's .wsgate/runs and the private per-user runs folder. */
function runsDirs(given: unknown): string[] {
  return given !== undefined ? [String(given)] : defaultRunsDirs();
}

const warn = (m: string) => process.stderr.write(`wsgate: warning: ${termText(m)}\n`);

export function signoffMain(argv: string[]): number {
  const { values: v, positionals } = parse(argv, SIGNOFF_USAGE, { gate: { type: 'string', multiple: true }, by: { type: 'string' }, note: { type: 'string' }, runs: { type: 'string' } });
  if (v.help) {
    process.stdout.write(SIGNOFF_USAGE + '\n');
    return EXIT.passed;
  }
  const usage = (t: string) => new HarnessFailure([{ code: 'USAGE', title: t, hint: SIGNOFF_USAGE.replace(/^usage: /, '') }], EXIT.usage);
  if (!Array.isArray(v.gate) || v.gate.length === 0) throw usage('--gate ID is required');
  if (!v.by || !String(v.by).trim()) throw usage('--by NAME is required: a sign-off names the person');
  if (positionals.length > 1) throw usage(`too many arguments: ${positionals.slice(1).join(' ')}`);
  const key = signingKey();
  let runDir = positionals[0];
  if (!runDir) {
    const dirs = runsDirs(v.runs);
    const runs = listRuns(dirs, warn);
    if (!runs.length) throw usage(`no runs under ${dirs.join(' or ')}: pass RUN_DIR`);
    runDir = runs[runs.length - 1]!.dir;
  }
  let code: number = EXIT.passed;
  for (const gate of v.gate as string[]) {
    const r = signoff(runDir, gate, String(v.by), String(v.note ?? ''), new Date(), key);
    if (r.ok) process.stdout.write(termText(`signed off gate ${gate} of run ${r.entry.runId} by ${r.entry.tester} (evidence ${r.entry.evidenceDigest.slice(0, 19)}…${key ? `, signed with key ${keyId(key)}` : ''}) → ${r.ledger}`) + '\n');
    else {
      process.stderr.write(`wsgate: sign-off refused: ${termText(r.reason)}\n`);
      code = EXIT.failed;
    }
  }
  if (code === EXIT.passed) process.stdout.write(`note: ${proofNote(key)}\n`);
  return code;
}

export function statusMain(argv: string[], defaultGates: string): number {
  const { values: v, positionals } = parse(argv, STATUS_USAGE, { gates: { type: 'string' }, runs: { type: 'string' } });
  if (v.help) {
    process.stdout.write(STATUS_USAGE + '\n');
    return EXIT.passed;
  }
  if (positionals.length) throw new HarnessFailure([{ code: 'USAGE', title: `unexpected argument ${positionals[0]}`, hint: STATUS_USAGE.replace(/^usage: /, '') }], EXIT.usage);
  const gatesFile = path.resolve(String(v.gates ?? defaultGates));
  const loaded = loadGatesFile(gatesFile);
  if (!loaded.ok) throw new HarnessFailure(loaded.errors, EXIT.usage);
  const key = signingKey();
  const rows = gateStates(gatesFile, loaded.gates.gates, runsDirs(v.runs), key, warn);
  const w = Math.max(4, ...rows.map((r) => r.gate.length));
  const sw = Math.max(...rows.map((r) => r.state.length));
  process.stdout.write(`${'gate'.padEnd(w)}  ${'state'.padEnd(sw)}  detail\n`);
  // Details quote run folders and testers' names from files anyone may have edited: shown escaped.
  for (const r of rows) process.stdout.write(`${r.gate.padEnd(w)}  ${r.state.padEnd(sw)}  ${termText(r.detail)}\n`);
  process.stdout.write(`note: ${proofNote(key)}\n`);
  return EXIT.passed;
}
