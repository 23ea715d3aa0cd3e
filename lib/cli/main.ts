// The process entry: argv in, exit code out.
import { main } from './commands.ts';

process.exit(await main(process.argv.slice(2)));
