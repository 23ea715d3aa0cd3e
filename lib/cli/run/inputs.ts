// The phase of `wsgate run` that accepts or refuses every remaining input before anything is created
// (a usage error leaves no folder, process or git repository behind): the protocol file when PATH is
// the user's, the reporters, wscat's presence, --out. Then the signing key leaves the environment (no
// child the run starts may inherit it) and the run gets its id.
import { randomBytes } from 'node:crypto';
import { EXIT, HarnessFailure, didYouMean } from '../../errors.ts';
import type { LoadedGates } from '../../gates/model.ts';
import { checkOutDir } from '../../evidence/dir.ts';
import { signingKey } from '../../evidence/signing.ts';
import { Coverage, isShippedProtocol, loadProtocol } from '../../protocol/index.ts';
import { ProtocolWatch } from '../../protocol/watch.ts';
import { REPORTERS, REPORTER_NAMES, claimsStdout, type Reporter } from '../../reporters/index.ts';
import { wscatBinPath } from '../../wscat/connection.ts';
import type { RunArgs } from '../args.ts';
import type { LoadedRun } from './gates.ts';

/** Everything a run decided before it created anything. */
export interface RunPlan extends LoadedRun {
  args: RunArgs;
  withGit: boolean;
  reporters: Reporter[];
  /** Compiled here when PATH is the user's; else while the target starts (see compilesLate). */
  protocol?: ProtocolWatch;
  /** The key from WSGATE_SIGNING_KEY_FILE. */
  key?: string;
  runId: string;
}

/**
 * Compiling the protocol's validators costs ~0.1 s of CPU. With a temp project nothing of the user's
 * is touched by starting first, so the server and the first wscat start while it compiles; with a
 * PATH of the user's, every input is checked before anything is created or git-initialised in it.
 */
export function compilesLate(args: RunArgs): boolean {
  return args.project === undefined;
}

export function checkInputs(args: RunArgs, run: LoadedRun, withGit: boolean): RunPlan {
  const protocol = compilesLate(args) ? undefined : loadRunProtocol(run.gates, args.lenient);
  const reporters = buildReporters(args);
  if (!wscatBinPath())
    throw new HarnessFailure(
      [
        {
          code: 'WSCAT_MISSING',
          title: 'wscat is not installed',
          hint: 'run `npm ci` in the wsgate folder (wscat is a local dependency)',
        },
      ],
      EXIT.harness,
    );
  if (args.out !== undefined) checkOutDir(args.out, args.project);
  const key = signingKey();
  return {
    ...run,
    args,
    withGit,
    reporters,
    ...(protocol ? { protocol } : {}),
    ...(key !== undefined ? { key } : {}),
    runId: randomBytes(4).toString('hex'),
  };
}

/** The gates file's protocol, loaded before any gate runs: a broken protocol file is a usage error. */
export function loadRunProtocol(gates: LoadedGates, lenient: boolean): ProtocolWatch | undefined {
  const file = gates.protocol;
  if (!file) return undefined;
  // The shipped files are checked against the AsyncAPI specification by the tests; that check costs ~1 s.
  const r = loadProtocol(file, { checkDocument: !isShippedProtocol(file) });
  if (!r.ok) throw new HarnessFailure(r.errors, EXIT.usage);
  return new ProtocolWatch(r.protocol, new Coverage(r.protocol), lenient);
}

function buildReporters(args: RunArgs): Reporter[] {
  const list = args.reporters.length ? args.reporters : [{ name: 'console' }];
  if (!list.some((r) => r.name === 'console')) list.unshift({ name: 'console' });
  // `--reporter json:-` owns stdout: everything meant for people goes to stderr then.
  const out = claimsStdout(list) ? process.stderr : process.stdout;
  return list.map((r) => {
    if (!(REPORTER_NAMES as string[]).includes(r.name)) {
      const guess = didYouMean(r.name, REPORTER_NAMES);
      throw new HarnessFailure(
        [
          {
            code: 'USAGE',
            title: `unknown reporter "${r.name}"`,
            hint: guess ? `did you mean "${guess}"?` : `reporters: ${REPORTER_NAMES.join(', ')}`,
          },
        ],
        EXIT.usage,
      );
    }
    return REPORTERS[r.name as keyof typeof REPORTERS]({
      ...(r.file ? { file: r.file } : {}),
      quiet: args.quiet,
      verbose: args.verbose,
      color: args.color,
      out,
    });
  });
}
