// A subcommand declared as data, like its flags: its name, what it does, its positionals and its flag
// table, and what it runs. The usage line, the --help text and the answers every command gives alike
// come from here: --help prints the help and exits 0; an unknown or malformed flag, a value its table
// refuses, or more arguments than it takes is a usage error (exit 2) with the usage line as its hint.
// A HarnessFailure thrown while running reaches the one place that turns errors into exit codes
// (exitCodeOf, called by `wsgate`'s dispatcher).
import { EXIT, HarnessFailure, printErrors } from '../errors.ts';
import {
  helpText,
  readFlags,
  splitArgv,
  usageError,
  usageFlags,
  type FlagTable,
  type FlagValues,
  type Refuse,
} from './flags.ts';

/** What the dispatcher knows that a command of a feature folder must not import lib/cli for. */
export interface CommandContext {
  /** The gates file a command uses without --gates (found in the current folder, else the shipped one). */
  defaultGatesFile(): string;
}

/** What a command's `run` is given: its flags read, its positionals, and how to refuse the line. */
export interface CommandInput<F extends FlagTable> {
  flags: FlagValues<F>;
  positionals: string[];
  refuse: Refuse;
  context: CommandContext;
}

export interface CommandSpec<F extends FlagTable> {
  /** `wsgate NAME`. */
  name: string;
  /** The help's paragraph on what the command does. */
  summary: string;
  flags: F;
  /** The positionals: the usage line's part before the flags ("[DIR]") and a help entry for each. */
  positionals?: { usage: string; help: readonly (readonly [string, string])[]; max?: number };
  /** The whole usage text, when a command has more than one form (the flags part of each chosen by hand). */
  usage?: string;
  /** What the help ends with: the exit codes, and anything a reader needs after the flags. */
  epilogue: string;
  run(input: CommandInput<F>): number | Promise<number>;
}

export interface Command<F extends FlagTable> {
  readonly name: string;
  readonly flags: F;
  readonly usage: string;
  readonly help: string;
  /** The usage error of this command (exit 2, its usage line as the hint). */
  readonly refuse: Refuse;
  main(argv: string[], context: CommandContext): Promise<number>;
}

export function defineCommand<F extends FlagTable>(spec: CommandSpec<F>): Command<F> {
  const args = spec.positionals?.usage ? `${spec.positionals.usage} ` : '';
  const usage = spec.usage ?? `usage: wsgate ${spec.name} ${args}${usageFlags(spec.flags)}`;
  const help = helpText(usage, spec.summary, spec.positionals?.help ?? [], spec.flags, spec.epilogue);
  const refuse = usageError(usage);
  const max = spec.positionals ? spec.positionals.max : 0;
  return {
    name: spec.name,
    flags: spec.flags,
    usage,
    help,
    refuse,
    async main(argv, context) {
      const { raw, positionals } = splitArgv(spec.flags, argv, refuse);
      if (raw.help) {
        process.stdout.write(help + '\n');
        return EXIT.passed;
      }
      const flags = readFlags(spec.flags, raw, refuse);
      if (max !== undefined && positionals.length > max) {
        throw refuse(
          max === 0
            ? `${spec.name} takes no arguments, got "${positionals.join(' ')}"`
            : `too many arguments: ${positionals.slice(max).join(' ')}`,
        );
      }
      return spec.run({ flags, positionals, refuse, context });
    },
  };
}

/** Runs a command: a harness error is printed as `FILE:LINE:COL: message` with a hint and becomes its exit code, anything else an internal error (exit 3). */
export async function exitCodeOf(
  work: () => number | Promise<number>,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof HarnessFailure) {
      printErrors(e.errors, stderr);
      return e.exitCode;
    }
    stderr.write(`wsgate: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.harness;
  }
}
