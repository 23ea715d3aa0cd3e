import { z } from 'zod';
import { ExpectList, waitKeys } from '../lib/gates/common-schema.ts';
import { defineStep } from '../lib/runner/step-api.ts';
import { exchange } from '../lib/matching/exchange.ts';
import { expectationLabel } from '../lib/matching/expectations.ts';

export const expect = defineStep({
  schema: z.strictObject({ expect: ExpectList, ...waitKeys }),
  uses: (p) => [p.on ?? 'main'],
  label: (p) => `expect ${p.expect.map(expectationLabel).join(', ')}`,
  run: (p, ctx) => exchange(ctx, p),
});
