// `wsgate signoff` and `wsgate status`.
import path from 'node:path';
import { EXIT, HarnessFailure } from '../errors.ts';
import { gateStates, listRuns, proofNote, signoff } from './ledger.ts';
import { loadGatesFile } from '../gates/load.ts';
import { defaultRunsDirs } from '../evidence/dir.ts';
import { keyId, signingKey } from '../evidence/signing.ts';
import { termText } from '../reporters/term-safe.ts';
import { RUN_FLAGS } from '../cli/args.ts';
import { defineCommand, type CommandInput } from '../cli/command.ts';
import { HELP, list, parsed, required, text } from '../cli/flags.ts';

const RUNS = text(
  'runs',
  'DIR',
  'the folder of runs (default: .wsgate/runs of the current folder and the\nprivate per-user runs folder)',
);

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

/** --runs DIR, else the current folder's .wsgate/runs and the private per-user runs folder. */
function runsDirs(given: string | undefined): string[] {
  return given !== undefined ? [given] : defaultRunsDirs();
}

const warn = (m: string) => process.stderr.write(`wsgate: warning: ${termText(m)}\n`);

/** Signs off each --gate of the run; a refused one is said on stderr and makes the exit code 1. */
function signoffRun({ flags: v, positionals, refuse: usage }: CommandInput<typeof SIGNOFF_FLAGS>): number {
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
    if (r.ok)
      process.stdout.write(
        termText(
          `signed off gate ${gate} of run ${r.entry.runId} by ${r.entry.tester} (evidence ${r.entry.evidenceDigest.slice(0, 19)}…${key ? `, signed with key ${keyId(key)}` : ''}) → ${r.ledger}`,
        ) + '\n',
      );
    else {
      process.stderr.write(`wsgate: sign-off refused: ${termText(r.reason)}\n`);
      code = EXIT.failed;
    }
  }
  if (code === EXIT.passed) process.stdout.write(`note: ${proofNote(key)}\n`);
  return code;
}

/** Prints each gate's latest state: the newest run decides. */
function statusRun({ flags: v, context }: CommandInput<typeof STATUS_FLAGS>): number {
  const gatesFile = path.resolve(v.gatesFile ?? context.defaultGatesFile());
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

export const SIGNOFF = defineCommand({
  name: 'signoff',
  summary:
    "Records a person's sign-off of a gate whose automated checks passed, in gates.signoff.jsonl beside\nthe gates file, tied to the digest of the run's evidence.",
  positionals: {
    usage: '[RUN_DIR]',
    help: [['RUN_DIR', 'the run signed off (default: the newest run under --runs)']],
    max: 1,
  },
  flags: SIGNOFF_FLAGS,
  epilogue: 'exit codes: 0 signed off · 1 a sign-off was refused (the reason is printed) · 2 usage error',
  run: signoffRun,
});

export const STATUS = defineCommand({
  name: 'status',
  summary:
    "Prints each gate's latest state (the newest run decides): passed, failed, awaiting sign-off,\nsigned off, stale, tampered, unsigned or not run.",
  flags: STATUS_FLAGS,
  epilogue: 'exit codes: 0 printed · 2 usage error or a gates file that does not load',
  run: statusRun,
});

export const SIGNOFF_USAGE = SIGNOFF.usage;
export const STATUS_USAGE = STATUS.usage;
export const SIGNOFF_HELP = SIGNOFF.help;
export const STATUS_HELP = STATUS.help;
