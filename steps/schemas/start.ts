// The start step's YAML form, label and load-time checks (its run code: steps/start.ts).
import { z } from 'zod';
import { Duration } from '../../lib/gates/common-schema.ts';
import { defineStepSchema } from '../../lib/gates/step-schema.ts';
import { changedEscapes, shellProblems } from '../../lib/util/shell-quote.ts';

const Ready = z.union([
  z.strictObject({ http: z.string().describe('URL polled until it answers'), status: z.number().int().optional() }),
  z.strictObject({ port: z.number().int().min(1).max(65535), host: z.string().optional() }),
  z.strictObject({ log: z.string().describe('Regex awaited in stdout/stderr') }),
]);

export const startSchema = defineStepSchema({
  schema: z.strictObject({
    start: z.string().describe('Shell command line that starts the backend'),
    cwd: z.string().optional().describe('Default: the project folder (PATH); a relative path is resolved against it'),
    env: z.record(z.string(), z.string()).optional(),
    ready: Ready,
    within: Duration.optional().describe('Deadline for readiness (default 30s)'),
    stop: z.enum(['gate', 'run']).optional().describe('When to stop it (default: end of the run)'),
    name: z.string().optional(),
  }),
  label: (p) => `start ${p.start}`.slice(0, 80),
  loadProblems: (p) => shellProblems(p.start).map((x) => ({ path: ['start'], ...x })),
  loadWarnings: (p) => changedEscapes(p.start).map((x) => ({ path: ['start'], ...x })),
});
