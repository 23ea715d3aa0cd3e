// The run-level rules of `wsgate run` that can fail a run whose gates all passed: --require-coverage
// (the protocol file exercised to at least P %), --require-signoff (no manual check left waiting) and
// --require-checked (no gate left not checked: exit 4, which no server failure uses).
import { EXIT } from '../../errors.ts';
import { gatesNotChecked, type RunResult } from '../../evidence/results.ts';
import type { RunArgs } from '../args.ts';

export function applyRunRules(args: RunArgs, result: RunResult): void {
  if (args.requireCoverage !== undefined) {
    const got = result.coverage?.percent.overall;
    if (got === undefined)
      result.warnings.push('--require-coverage needs a protocol file (`protocol:` in the gates file)');
    if (got === undefined || got < args.requireCoverage) {
      if (got !== undefined)
        result.warnings.push(`protocol coverage ${got}% is below --require-coverage ${args.requireCoverage}%`);
      fail(result);
    }
  }
  // Sign-off first: a run that fails on it is a failure (1), worse than a premise not established (4).
  if (args.requireSignoff && result.totals.pending > 0 && result.exitCode === EXIT.passed) {
    result.warnings.push(`${result.totals.pending} gate(s) await sign-off and --require-signoff is set`);
    fail(result);
  }
  const unchecked = gatesNotChecked(result.gates);
  if (args.requireChecked && unchecked > 0 && result.exitCode === EXIT.passed) {
    // Not the server's failure (that is exit 1): the run could not establish every premise.
    result.warnings.push(`${unchecked} gate(s) not checked and --require-checked is set`);
    result.exitCode = EXIT.unchecked;
  }
}

/** A failed run-level rule fails a run that passed; a worse verdict (harness error, interrupt) stays. */
function fail(result: RunResult): void {
  if (result.exitCode !== EXIT.passed) return;
  result.exitCode = EXIT.failed;
  result.status = 'failed';
}
