// Writes gates.schema.json (the JSON Schema of gates.yaml, for editors through the
// `# yaml-language-server: $schema=` line) from the zod schema the loader validates with, so the
// two cannot drift: test/gates-schema.test.ts fails when the committed file is not what this writes.
//
//   node --import tsx scripts/build-gates-schema.ts          write gates.schema.json
//   node --import tsx scripts/build-gates-schema.ts --check  exit 1 if it is stale, write nothing
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gatesJsonSchema } from '../lib/gates/schema.ts';

export const GATES_SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'gates.schema.json');

/** The exact text of gates.schema.json. */
export function renderGatesSchema(): string {
  const schema = gatesJsonSchema() as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  const out = {
    $schema,
    title: 'wsgate gates file (version 1)',
    description: 'Generated from lib/gates/schema.ts by scripts/build-gates-schema.ts; do not edit by hand.',
    ...rest,
  };
  return JSON.stringify(out, null, 2) + '\n';
}

function main(argv: string[]): number {
  const text = renderGatesSchema();
  let current: string | undefined;
  try {
    current = readFileSync(GATES_SCHEMA_FILE, 'utf8');
  } catch {
    current = undefined;
  }
  if (argv.includes('--check')) {
    if (current === text) return 0;
    process.stderr.write(`${path.relative(process.cwd(), GATES_SCHEMA_FILE)} is stale: run npm run build:schema\n`);
    return 1;
  }
  if (current !== text) writeFileSync(GATES_SCHEMA_FILE, text);
  process.stdout.write(
    `${current === text ? 'unchanged' : 'wrote'} ${path.relative(process.cwd(), GATES_SCHEMA_FILE)}\n`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href)
  process.exitCode = main(process.argv.slice(2));
