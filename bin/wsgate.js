#!/usr/bin/env node
// Entry point: registers the TypeScript loader, then hands argv to lib/cli.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli.ts');
const code = await main(process.argv.slice(2));
process.exit(code);
