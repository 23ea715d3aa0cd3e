// The load and choose phases of `wsgate run`: the gates file read and checked whole (every problem
// printed at once, nothing run), `--list` answered, the `--gate` and `--skip-gate` ids checked against the file, and
// whether the gates that will run need a git repository.
import path from 'node:path';
import { EXIT, HarnessFailure, didYouMean, printErrors, type HarnessError } from '../../errors.ts';
import { BUILTIN_VARS, loadGatesFile } from '../../gates/load.ts';
import type { LoadedGate, LoadedGates } from '../../gates/model.ts';
import type { StepDefinition } from '../../runner/step-api.ts';
import { STEPS } from '../../../steps/index.ts';
import type { RunArgs } from '../args.ts';
import { chooseGatesFile, type ChosenGatesFile } from '../gates-file.ts';

export interface LoadedRun {
  file: ChosenGatesFile;
  gates: LoadedGates;
}

/** Load: the gates file with --var values; undefined when it has problems (printed, exit 2). */
export function loadGates(args: RunArgs): LoadedRun | undefined {
  const file = chooseGatesFile(args.gatesFile);
  const loaded = loadGatesFile(file.file, { cliVars: args.vars, display: file.display });
  if (loaded.ok) {
    printLoadWarnings(loaded.gates, args.vars);
    return { file, gates: loaded.gates };
  }
  printErrors(loaded.errors);
  process.stderr.write(
    `wsgate: ${loaded.errors.length} problem${loaded.errors.length === 1 ? '' : 's'} in ${file.display}; nothing was run\n`,
  );
  return undefined;
}

/** Risks in the gates file that do not stop the run, each at its place: `FILE:LINE:COL: warning: ...`. */
export function loadWarnings(gates: LoadedGates, cliVars: Record<string, string>): HarnessError[] {
  const known = new Set<string>([...BUILTIN_VARS, ...Object.keys(gates.vars), ...Object.keys(cliVars)]);
  const out: HarnessError[] = [];
  for (const g of gates.gates) {
    g.steps.forEach((s, i) => {
      for (const w of (STEPS[s.kind] as unknown as StepDefinition).loadWarnings?.(s.params, known) ?? []) {
        out.push({
          code: 'SCHEMA',
          title: `warning: gate "${g.id}" step ${i + 1}: ${w.title}`,
          loc: s.locOf(w.path),
          ...(w.hint ? { hint: w.hint } : {}),
        });
      }
    });
  }
  return out;
}

function printLoadWarnings(gates: LoadedGates, cliVars: Record<string, string>): void {
  printErrors(loadWarnings(gates, cliVars));
}

/** `--list`: ids and titles, one gate a line. */
export function listGates(gates: LoadedGates): number {
  const w = Math.max(...gates.gates.map((g) => g.id.length));
  for (const g of gates.gates) process.stdout.write(`${g.id.padEnd(w)}  ${g.title}\n`);
  return EXIT.passed;
}

/** Choose: every --gate must name a gate of the file. Returns whether the gates that run need git. */
export function chooseGates(args: RunArgs, run: LoadedRun): { withGit: boolean } {
  const ids = run.gates.gates.map((g) => g.id);
  for (const [flag, list] of [
    ['--gate', args.gates],
    ['--skip-gate', args.skipGates],
  ] as const) {
    for (const id of list) {
      if (!ids.includes(id)) {
        const guess = didYouMean(id, ids);
        throw new HarnessFailure(
          [
            {
              code: 'USAGE',
              title: `${flag} ${id}: no such gate in ${path.basename(run.file.file)}`,
              hint: guess ? `did you mean "${guess}"?` : 'see --list',
            },
          ],
          EXIT.usage,
        );
      }
    }
  }
  // PATH becomes a repository only for gates that look at git (a notes server's data
  // folder should not grow a .git/).
  const chosen = run.gates.gates.filter(
    (g) => (!args.gates.length || args.gates.includes(g.id)) && !args.skipGates.includes(g.id),
  );
  return { withGit: args.gitInit || gatesUseGit(chosen) };
}

/** Whether any step of these gates needs a git repository (a verify git step, a `git` command). */
export function gatesUseGit(gates: LoadedGate[]): boolean {
  return gates.some((g) =>
    g.steps.some((s) => (STEPS[s.kind] as unknown as StepDefinition).usesGit?.(s.params) ?? false),
  );
}
