import { defineStep } from '../lib/runner/step-api.ts';
import { exchange } from '../lib/matching/exchange.ts';
import { expectSchema } from './schemas/expect.ts';

export const expect = defineStep({
  ...expectSchema,
  uses: (p) => [p.on ?? 'main'],
  run: (p, ctx) => exchange(ctx, p),
});
