// The model step's YAML form and label (its run code: steps/model.ts).
import { z } from 'zod';
import { Matcher } from '../../lib/gates/common-schema.ts';
import { defineStepSchema } from '../../lib/gates/step-schema.ts';

export const modelSchema = defineStepSchema({
  schema: z.strictObject({
    model: z
      .strictObject({
        toolResult: z
          .strictObject({
            tool: z.string().describe('The tool whose result the backend returned to the model'),
            content: Matcher.optional().describe('Matcher for the result text the model received'),
            error: z.boolean().optional().describe('The result was (true) or was not (false) marked as an error'),
          })
          .optional(),
        declares: z.array(z.string()).optional().describe('Tools the backend must have declared to the model'),
        requests: Matcher.optional().describe(
          'Matcher for the number of requests the backend sent the model (e.g. {gte: 2})',
        ),
      })
      .describe(
        "Checks on what the backend sent the model stand-in during this gate; every stand-in check (a rule's requireToolResult, an undeclared tool) is part of it",
      ),
    name: z.string().optional(),
  }),
  label: (p) =>
    p.model.toolResult
      ? `model: ${p.model.toolResult.tool} result reached the model`
      : 'model: what the backend sent the model',
});
