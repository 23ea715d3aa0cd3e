// The process entry: argv in, exit code out.
import { main } from './commands.ts';
import { shapeHeap } from '../os/heap-shape.ts';

// Before any frame arrives: a long stream must not grow the CLI's heap far past what it keeps alive.
shapeHeap();
process.exit(await main(process.argv.slice(2)));
