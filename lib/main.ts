// The process entry: argv in, exit code out.
import { main } from './cli.ts';

process.exit(await main(process.argv.slice(2)));
