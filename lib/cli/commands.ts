// `wsgate <command>`: argv in, exit code out. Harness errors are printed as `FILE:LINE:COL: message`
// lines with a hint, never as stack traces. Each command lives in its own module, loaded when asked for;
// the table below is what `wsgate help` lists.
import { existsSync } from 'node:fs';
import { EXIT, HarnessFailure, didYouMean } from '../errors.ts';
import { RUN_HELP } from './args.ts';
import { exitCodeOf, type CommandContext } from './command.ts';
import { chooseGatesFile } from './gates-file.ts';
import { runCommand } from './run/command.ts';

interface Subcommand {
  /** The command line in the overview, after `wsgate `. */
  synopsis: string;
  /** One line on what it does, in the overview. */
  does: string;
  main(argv: string[], context: CommandContext): Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  run: {
    synopsis: '[run] [URL] [PATH] [options]',
    does: 'run gates (see wsgate run --help)',
    main: (argv) => runCommand(argv),
  },
  // The reference server reads its own command line: it shares no code with the harness.
  serve: {
    synopsis: 'serve [options]',
    does: 'start the reference server (see wsgate serve --help)',
    main: async (argv) => (await import('../../reference-server/cli.ts')).serveMain(argv),
  },
  model: {
    synopsis: 'model [--port P] [--gates FILE] [--ttft MS]',
    does: 'serve a model API stand-in (see wsgate model --help)',
    main: async (argv, c) => (await import('../model-api/cli.ts')).MODEL.main(argv, c),
  },
  record: {
    synopsis: 'record [URL] [PATH] [--out FILE]',
    does: 'turn a manual session into a gate (see wsgate record --help)',
    main: async (argv, c) => (await import('../record/cli.ts')).RECORD.main(argv, c),
  },
  signoff: {
    synopsis: 'signoff [RUN_DIR] --gate ID --by NAME [--note TEXT]',
    does: "record a person's sign-off",
    main: async (argv, c) => (await import('../signoff/cli.ts')).SIGNOFF.main(argv, c),
  },
  status: {
    synopsis: 'status [--gates FILE] [--runs DIR]',
    does: "each gate's latest state",
    main: async (argv, c) => (await import('../signoff/cli.ts')).STATUS.main(argv, c),
  },
  merge: {
    synopsis: 'merge DIR... [--out DIR] [--reporter NAME[:FILE]]',
    does: "one report from shards' results",
    main: async (argv, c) => (await import('./merge.ts')).MERGE.main(argv, c),
  },
  init: {
    synopsis: 'init [DIR] [--force]',
    does: 'write a starter gates.yaml',
    main: async (argv, c) => (await import('./init.ts')).INIT.main(argv, c),
  },
};

const COMMAND_NAMES = [...Object.keys(SUBCOMMANDS), 'help'];

/** `usage: wsgate run [URL] [PATH] [options]   run gates …`, one line per command, descriptions aligned. */
const MAIN_USAGE = (() => {
  const heads = Object.values(SUBCOMMANDS).map((c) => `wsgate ${c.synopsis}`);
  const width = Math.max(...heads.map((h) => h.length)) + 3;
  return Object.values(SUBCOMMANDS)
    .map((c, i) => `${i === 0 ? 'usage: ' : '       '}${(heads[i] ?? '').padEnd(width)}${c.does}`)
    .join('\n');
})();

/** The gates file a command uses without --gates; looked for only when a command asks. */
const CONTEXT: CommandContext = { defaultGatesFile: () => chooseGatesFile(undefined).file };

export function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  return exitCodeOf(() => {
    if (first === 'help' || first === '--help' || first === '-h') {
      process.stdout.write(`${MAIN_USAGE}\n\n${RUN_HELP}\n`);
      return EXIT.passed;
    }
    const command = first !== undefined && Object.hasOwn(SUBCOMMANDS, first) ? SUBCOMMANDS[first] : undefined;
    if (command) return command.main(rest, CONTEXT);
    if (first !== undefined && /^[a-z][a-z-]*$/.test(first) && !existsSync(first)) {
      const guess = didYouMean(first, COMMAND_NAMES);
      throw new HarnessFailure(
        [
          {
            code: 'USAGE',
            title: `unknown command "${first}"`,
            hint: guess
              ? `did you mean "wsgate ${guess}"? (a folder named ${first} must exist to be a PATH)`
              : MAIN_USAGE,
          },
        ],
        EXIT.usage,
      );
    }
    // No command: `wsgate [URL] [PATH] [options]` is `wsgate run`.
    return runCommand(argv);
  });
}
