// Whether the requests a gate made before a step reached the server. A check that a file is *absent*
// proves something only if the request that could have created it was delivered: after a refused
// connection or a send on a closed socket, "absent" is no evidence the server refused anything.
import type { StepResult } from '../evidence/results.ts';

/** Step kinds that deliver something to the server. */
const REQUESTS = new Set(['connect', 'send', 'http']);

/**
 * A failed check that says the request did not go out (not that its answer was wrong), or that the
 * connection closed before an answer, when whether the server read it cannot be known. Either way the
 * premise of "absent" is not established; a file that is there still fails, so only a pass is withheld.
 */
function undelivered(s: StepResult): boolean {
  return s.checks.some(
    (c) =>
      !c.passed &&
      (c.expected === 'an open connection' ||
        c.expected === 'an HTTP response' ||
        (s.kind === 'connect' && c.expected === 'open') ||
        (s.kind === 'send' && /closed the connection/.test(`${c.cause ?? ''} ${String(c.actual)}`))),
  );
}

/** The first earlier request step that never reached the server, with why; undefined when all did. */
export function requestNotDelivered(earlier: StepResult[]): { step: number; label: string; why: string } | undefined {
  for (const [i, s] of earlier.entries()) {
    if (!REQUESTS.has(s.kind)) continue;
    if (s.status === 'skipped' || s.status === 'unchecked')
      return { step: i + 1, label: s.label, why: s.note ?? 'it did not run' };
    if (undelivered(s))
      return { step: i + 1, label: s.label, why: String(s.checks.find((c) => !c.passed)?.actual ?? 'not delivered') };
  }
  return undefined;
}
