// The soak step's YAML form, label and load-time checks (its run code: steps/soak.ts).
import { z } from 'zod';
import { Duration, DurationOrVar } from '../../lib/gates/common-schema.ts';
import { defineStepSchema, type LoadProblem } from '../../lib/gates/step-schema.ts';
import { sendProblems, sendSchema } from './send.ts';
import { expectSchema } from './expect.ts';

const Exchange = z.union([sendSchema.schema, expectSchema.schema]);

export const Memory = z.strictObject({
  of: z.string().optional().describe('The name of a start step: the RSS of its whole process tree, read from /proc'),
  http: z.string().optional().describe('Or a URL answering JSON with the memory in bytes'),
  field: z.string().optional().describe('With http: the field holding the bytes (e.g. memory.rss)'),
  maxGrowth: z
    .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?%$/, 'a percentage such as 20%')])
    .describe('Largest growth from the baseline, in percent'),
  warmup: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Rounds every connection completes before the baseline (default 1)'),
  every: Duration.optional().describe('Sampling period (default 1s)'),
});

const SoakParams = z.strictObject({
  connections: z
    .number()
    .int()
    .min(1)
    .max(200)
    .optional()
    .describe('Connections repeating the steps at once (default 1)'),
  for: DurationOrVar.optional().describe('How long to repeat (a duration or a ${VAR} holding one)'),
  rounds: z.number().int().min(1).optional().describe('Or how many times each connection repeats the steps'),
  steps: z.array(Exchange).min(1).describe('send/expect steps each connection repeats, on its own connection'),
});

export const soakSchema = defineStepSchema({
  schema: z.strictObject({
    soak: SoakParams,
    memory: Memory.optional(),
    name: z.string().optional(),
  }),
  label: (p) =>
    `soak ${p.soak.connections ?? 1} connection${(p.soak.connections ?? 1) === 1 ? '' : 's'} ${p.soak.for !== undefined ? `for ${p.soak.for}` : `× ${p.soak.rounds} rounds`}`,
  // Exactly one of for/rounds: checked by the loader's semantic step (a soak must end).
  loadProblems: (p) => {
    const out: LoadProblem[] = [];
    p.soak.steps.forEach((inner, k) => {
      const at = (x: LoadProblem): LoadProblem => ({
        ...x,
        path: ['soak', 'steps', k, ...x.path],
        title: `soak step ${k + 1}: ${x.title}`,
      });
      if ('send' in inner) out.push(...sendProblems(inner).map(at));
      // Each inner step sees only its own connection: one value is always distinct.
      if (inner.distinct !== undefined)
        out.push(
          at({
            path: ['distinct'],
            atKey: true,
            title:
              'distinct compares a capture across a connection group, but a soak step runs on one connection alone, so it can never fail',
            hint: 'remove `distinct` here; to check that connections get different values, use `connect: {count: N}` and a send with `distinct:` outside the soak',
          }),
        );
    });
    const m = p.memory;
    if (m?.of !== undefined) {
      // With `of`, the process tree's RSS is read and http/field are never used.
      for (const k of ['http', 'field'] as const) {
        if (m[k] !== undefined)
          out.push({
            path: ['memory', k],
            atKey: true,
            title: `memory has both of (a start step's process tree) and ${k}; with of, ${k} is never read`,
            hint: `keep \`of\` to sample the started process, or \`http\` (with \`field\`) to ask the server; not both`,
          });
      }
    }
    return out;
  },
});
