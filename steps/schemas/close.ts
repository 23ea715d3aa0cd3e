// The close step's YAML form and label (its run code: steps/close.ts).
import { z } from 'zod';
import { Duration, Matcher } from '../../lib/gates/common-schema.ts';
import { defineStepSchema } from '../../lib/gates/step-schema.ts';

const CloseParams = z.strictObject({
  on: z.string().optional(),
  code: z
    .number()
    .int()
    .min(1000)
    .max(4999)
    .optional()
    .describe('by client: the code sent; by server: the code the server must close with'),
  reason: Matcher.optional().describe(
    'by client: the reason sent (a string); by server: a matcher for the reason the server gives',
  ),
  by: z.enum(['client', 'server']).optional().describe('server: expect the server to close it'),
});

export const closeSchema = defineStepSchema({
  schema: z.strictObject({
    close: z.union([z.string().describe('Connection name'), CloseParams]),
    within: Duration.optional(),
    name: z.string().optional(),
  }),
  label: (p) => {
    const c = typeof p.close === 'string' ? { on: p.close } : p.close;
    const code = 'code' in c && c.code !== undefined ? ` with ${c.code}` : '';
    return c.by === 'server' ? `expect the server to close ${c.on ?? 'main'}${code}` : `close ${c.on ?? 'main'}${code}`;
  },
});
