// The expect step's YAML form and label (its run code: steps/expect.ts).
import { z } from 'zod';
import { ExpectList, waitKeys } from '../../lib/gates/common-schema.ts';
import { defineStepSchema } from '../../lib/gates/step-schema.ts';
import { expectationLabel } from '../../lib/matching/labels.ts';

export const expectSchema = defineStepSchema({
  schema: z.strictObject({ expect: ExpectList, ...waitKeys }),
  label: (p) => `expect ${p.expect.map(expectationLabel).join(', ')}`,
});
