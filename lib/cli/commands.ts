// `wsgate <command>`: argv in, exit code out. Harness errors are printed as `FILE:LINE:COL: message`
// lines with a hint, never as stack traces. Each command lives in its own module, loaded when asked for.
import { existsSync } from 'node:fs';
import { EXIT, HarnessFailure, didYouMean, printErrors } from '../errors.ts';
import { RUN_HELP } from './args.ts';
import { chooseGatesFile } from './gates-file.ts';
import { initMain } from './init.ts';
import { runCommand } from './run/command.ts';

const COMMANDS = ['run', 'serve', 'model', 'record', 'signoff', 'status', 'merge', 'init', 'help'] as const;
const MAIN_USAGE = `usage: wsgate [run] [URL] [PATH] [options]   run gates (see wsgate run --help)
       wsgate serve [options]                 start the reference server (see wsgate serve --help)
       wsgate model [--port P] [--gates FILE] [--ttft MS]   serve a model API stand-in (see wsgate model --help)
       wsgate record [URL] [PATH] [--out FILE]   turn a manual session into a gate (see wsgate record --help)
       wsgate signoff [RUN_DIR] --gate ID --by NAME [--note TEXT]   record a person's sign-off
       wsgate status [--gates FILE] [--runs DIR]                     each gate's latest state
       wsgate merge DIR... [--out DIR] [--reporter NAME[:FILE]]     one report from shards' results
       wsgate init [DIR] [--force]                                   write a starter gates.yaml`;

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === 'serve') {
      const { serveMain } = await import('../../reference-server/cli.ts');
      return await serveMain(rest);
    }
    if (first === 'model') return await (await import('../model-api/cli.ts')).modelMain(rest);
    if (first === 'help' || first === '--help' || first === '-h') {
      process.stdout.write(`${MAIN_USAGE}\n\n${RUN_HELP}\n`);
      return EXIT.passed;
    }
    if (first === 'run') return await runCommand(rest);
    if (first === 'init') return initMain(rest);
    if (first === 'record') return await (await import('../record/cli.ts')).recordMain(rest);
    if (first === 'merge') return await (await import('./merge.ts')).mergeMain(rest);
    if (first === 'signoff') return (await import('../signoff/cli.ts')).signoffMain(rest);
    if (first === 'status') return (await import('../signoff/cli.ts')).statusMain(rest, chooseGatesFile(undefined).file);
    if (first !== undefined && /^[a-z][a-z-]*$/.test(first) && !existsSync(first)) {
      const guess = didYouMean(first, COMMANDS);
      throw new HarnessFailure([{ code: 'USAGE', title: `unknown command "${first}"`, hint: guess ? `did you mean "wsgate ${guess}"? (a folder named ${first} must exist to be a PATH)` : MAIN_USAGE }], EXIT.usage);
    }
    return await runCommand(argv);
  } catch (e) {
    if (e instanceof HarnessFailure) {
      printErrors(e.errors);
      return e.exitCode;
    }
    process.stderr.write(`wsgate: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.harness;
  }
}
