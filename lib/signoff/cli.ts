// `wsgate signoff` and `wsgate status`.
import path from 'node:path';
import { EXIT, HarnessFailure } from '../errors.ts';
import { gateStates, listRuns, proofNote, signoff } from './ledger.ts';
import { loadGatesFile } from '../gates/load.ts';
import { defaultRunsDirs } from '../evidence/dir.ts';
import { keyId, signingKey } from '../evidence/signing.ts';
import { termText } from '../reporters/term-safe.ts';
import { RUN_FLAGS } from '../cli/args.ts';
import { HELP, helpText, list, parsed, readFlags, required, splitArgv, text, usageError, usageFlags } from '../cli/flags.ts';

const RUNS = text('runs', 'DIR', 'the folder of runs (default: .wsgate/runs of the current folder and the\nprivate per-user runs folder)');

export const SIGNOFF_FLAGS = {
  gates: required(list('gate', 'ID', 'the gate signed off (repeatable)')),
  by: required(text('by', 'NAME', 'the person signing off'), 'a sign-off names the person'),
  // Not text(), which refuses an empty value: `--note ""` has always meant no note.
  note: parsed('note', 'TEXT', 'a note kept with the sign-off', '', (raw) => raw),
  runs: RUNS,
  help: HELP,
};

export const STATUS_FLAGS = {
  gatesFile: RUN_FLAGS.gatesFile,
  runs: RUNS,
  help: HELP,
};

export const SIGNOFF_USAGE = `usage: wsgate signoff [RUN_DIR] ${usageFlags(SIGNOFF_FLAGS)}`;
export const STATUS_USAGE = `usage: wsgate status ${usageFlags(STATUS_FLAGS)}`;

export const SIGNOFF_HELP = helpText(
  SIGNOFF_USAGE,
  "Records a person's sign-off of a gate whose automated checks passed, in gates.signoff.jsonl beside\nthe gates file, tied to the digest of the run's evidence.",
  [['RUN_DIR', 'the run signed off (default: the newest run under --runs)']],
  SIGNOFF_FLAGS,
  'exit codes: 0 signed off · 1 a sign-off was refused (the reason is printed) · 2 usage error',
);

export const STATUS_HELP = helpText(
  STATUS_USAGE,
  "Prints each gate's latest state (the newest run decides): passed, failed, awaiting sign-off,\nsigned off, stale, tampered, unsigned or not run.",
  [],
  STATUS_FLAGS,
  'exit codes: 0 printed · 2 usage error or a gates file that does not load',
);

/** --runs DIR, else the current folder's .wsgate/runs and the private per-user runs folder. */
function runsDirs(given: string | undefined): string[] {
  return given !== undefined ? [given] : defaultRunsDirs();
}

const warn = (m: string) => process.stderr.write(`wsgate: warning: ${termText(m)}\n`);

export function signoffMain(argv: string[]): number {
  const usage = usageError(SIGNOFF_USAGE);
  const { raw, positionals } = splitArgv(SIGNOFF_FLAGS, argv, usage);
  if (raw.help) {
    process.stdout.write(SIGNOFF_HELP + '\n');
    return EXIT.passed;
  }
  const v = readFlags(SIGNOFF_FLAGS, raw, usage);
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
  for (const gate of v.gates) {
    const r = signoff(runDir, gate, v.by, v.note, new Date(), key);
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
  const usage = usageError(STATUS_USAGE);
  const { raw, positionals } = splitArgv(STATUS_FLAGS, argv, usage);
  if (raw.help) {
    process.stdout.write(STATUS_HELP + '\n');
    return EXIT.passed;
  }
  const v = readFlags(STATUS_FLAGS, raw, usage);
  if (positionals.length) throw usage(`unexpected argument ${positionals[0]}`);
  const gatesFile = path.resolve(v.gatesFile ?? defaultGates);
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
