// A check only a person can make. Asked on a TTY; otherwise recorded as pending for sign-off.
import { defineStep } from '../lib/runner/step-api.ts';
import { manualSchema } from './schemas/manual.ts';

export const manual = defineStep({
  ...manualSchema,
  async run(p, ctx) {
    const question = ctx.vars.resolve(p.manual);
    if (!ctx.settings.interactive || !ctx.settings.ask) {
      return ctx.result([], { status: 'pending', note: 'awaiting a person: confirm with `wsgate signoff`' });
    }
    const answer = (await ctx.settings.ask(`${question} [y/n/skip] `)).trim().toLowerCase();
    if (answer === 'y' || answer === 'yes')
      return ctx.result(
        [ctx.check({ name: question, expected: 'confirmed by a person', actual: 'confirmed', passed: true })],
        { note: 'confirmed at the terminal' },
      );
    if (answer === 'n' || answer === 'no')
      return ctx.result([
        ctx.check({
          name: question,
          expected: 'confirmed by a person',
          actual: 'rejected',
          passed: false,
          failure: { kind: 'manual', question },
        }),
      ]);
    return ctx.result([], { status: 'pending', note: 'skipped at the terminal' });
  },
});
