// The run step's YAML form, label and load-time checks (its run code: steps/run.ts).
import { z } from 'zod';
import { Duration, Matcher, VarName } from '../../lib/gates/common-schema.ts';
import { defineStepSchema, type LoadProblem } from '../../lib/gates/step-schema.ts';
import { changedEscapes, shellProblems } from '../../lib/util/shell-quote.ts';

export const runSchema = defineStepSchema({
  schema: z.strictObject({
    run: z.union([
      z.string().describe('A shell command line (sh -c)'),
      z.array(z.string()).min(1).describe('A program and its arguments, no shell'),
    ]),
    cwd: z.string().optional().describe('Default: the project folder'),
    env: z.record(z.string(), z.string()).optional(),
    exitCode: Matcher.optional().describe('Default 0'),
    stdout: Matcher.optional(),
    stderr: Matcher.optional(),
    timeout: Duration.optional(),
    capture: z
      .record(VarName, z.enum(['stdout', 'stderr', 'exitCode']))
      .optional()
      .describe('Variable name to stdout, stderr or exitCode'),
    name: z.string().optional(),
  }),
  label: (p) => `run ${typeof p.run === 'string' ? p.run : p.run.join(' ')}`.slice(0, 80),
  loadProblems: (p) => (typeof p.run === 'string' ? shellProblems(p.run).map((x) => ({ path: ['run'], ...x })) : []),
  loadWarnings: (p, known) =>
    Array.isArray(p.run) ? optionWarnings(p.run, known) : changedEscapes(p.run).map((x) => ({ path: ['run'], ...x })),
});

/**
 * A captured value that starts an argument of the list form becomes an option when it starts with `-`:
 * a server answering `hash: "--output=/some/file"` made `[git, show, --stat, "${hash}"]` write a file.
 * Values the gates file or --var gives (and wsgate's own) are not the server's; `--` before the argument
 * ends the options of most programs.
 */
export function optionWarnings(argv: readonly string[], known: ReadonlySet<string>): LoadProblem[] {
  const out: LoadProblem[] = [];
  const end = argv.indexOf('--');
  argv.forEach((arg, i) => {
    if (i === 0 || (end > 0 && end < i)) return;
    const name = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(arg)?.[1];
    if (name === undefined || known.has(name)) return;
    const fixed = [...argv.slice(0, i), '--', ...argv.slice(i)]
      .map((a) => (/^[\w./-]+$/.test(a) ? a : JSON.stringify(a)))
      .join(', ');
    out.push({
      path: ['run', i],
      title: `\${${name}} starts argument ${i} of ${argv[0]} with no "--" before it: a captured value starting with "-" (such as --output=FILE) becomes an option of ${argv[0]}`,
      hint: `put "--" before it when ${argv[0]} accepts one (run: [${fixed}]), or check the value first (match: {${name}: {regex: "^[^-]"}})`,
    });
  });
  return out;
}
