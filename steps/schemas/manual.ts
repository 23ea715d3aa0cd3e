// The manual step's YAML form and label (its run code: steps/manual.ts).
import { z } from 'zod';
import { defineStepSchema } from '../../lib/gates/step-schema.ts';

export const manualSchema = defineStepSchema({
  schema: z.strictObject({ manual: z.string().describe('What the person must confirm'), name: z.string().optional() }),
  label: (p) => `manual: ${p.manual}`,
});
