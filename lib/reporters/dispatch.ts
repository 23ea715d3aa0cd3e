// One way to call a reporter hook on every reporter, typed by the hook's name, and one way to hold a
// gate's calls until it ends (--parallel): a hook added to Reporter reaches both without a new line here.
import type { Reporter } from './types.ts';

export type Hook = keyof Reporter;
type Args<H extends Hook> = Parameters<NonNullable<Reporter[H]>>;

/** Calls `hook` on each reporter that has it, in order; async hooks (run start and end) are awaited. */
export async function report<H extends Hook>(reporters: readonly Reporter[], hook: H, ...args: Args<H>): Promise<void> {
  for (const r of reporters) {
    const fn = r[hook] as ((...a: Args<H>) => unknown) | undefined;
    if (fn) await fn.apply(r, args);
  }
}

/** The same for the hooks called during a run, which never wait. */
export function reportNow<H extends Hook>(reporters: readonly Reporter[], hook: H, ...args: Args<H>): void {
  for (const r of reporters) (r[hook] as ((...a: Args<H>) => unknown) | undefined)?.apply(r, args);
}

const HOOKS: readonly Hook[] = [
  'onRunStart',
  'onGateStart',
  'onStepStart',
  'onStepProgress',
  'onStepEnd',
  'onGateEnd',
  'onFrame',
  'onRunEnd',
] satisfies Hook[];

/** A reporter that records every call, and `flush` replays them to the targets in order. */
export function bufferReporters(targets: readonly Reporter[]): { reporters: Reporter[]; flush(): void } {
  const calls: [Hook, unknown[]][] = [];
  const proxy = Object.fromEntries(
    HOOKS.map((h) => [h, (...args: unknown[]) => void calls.push([h, args])]),
  ) as Reporter;
  return {
    reporters: [proxy],
    flush() {
      for (const [h, args] of calls) reportNow(targets, h, ...(args as Args<typeof h>));
    },
  };
}
