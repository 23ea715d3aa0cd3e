// `forbid:` and `none:` selectors that no server frame of the protocol can match: such a check
// passes whatever the server does (`forbid: [error]` under a protocol whose errors are CALLERROR, or
// that has no error message at all), so the gates file is refused at the selector's line.
import type { HarnessError } from '../errors.ts';
import type { LoadedGates } from '../gates/model.ts';
import type { Protocol } from './protocol.ts';

type Selector = string | { type?: string; where?: unknown };

const kindOf = (s: Selector): string | undefined => (typeof s === 'string' ? s : s.type);

export function unmatchableSelectors(gates: LoadedGates, protocol: Protocol): HarnessError[] {
  // A file that names its own type field reads kinds from it, not from the protocol's rules.
  if (gates.defaults.typeField !== undefined) return [];
  const errors: HarnessError[] = [];
  const known = protocol.incomingTypes.join(', ');
  const refuse = (kind: string, key: string, loc: HarnessError['loc']) =>
    errors.push({ code: 'SCHEMA', title: `${key} ${kind}: no server message of ${protocol.file.split(/[\\/]/).pop()} is of kind ${kind}, so this check can never fail`, loc, hint: `server message kinds: ${known}` });
  const seen = new Set<unknown>();
  for (const gate of gates.gates) {
    for (const step of gate.steps) {
      // A group's steps are shared by the gates that use it: each is reported once.
      if (seen.has(step.params)) continue;
      seen.add(step.params);
      const p = step.params as { forbid?: Selector[]; expect?: unknown[] };
      (p.forbid ?? []).forEach((s, i) => {
        const k = kindOf(s);
        if (k !== undefined && !k.includes('${') && !protocol.describesIncoming(k)) refuse(k, 'forbid:', step.locOf(['forbid', i]));
      });
      (p.expect ?? []).forEach((e, i) => {
        if (e === null || typeof e !== 'object' || !('none' in e)) return;
        const k = kindOf((e as { none: Selector }).none);
        if (k !== undefined && !k.includes('${') && !protocol.describesIncoming(k)) refuse(k, 'none:', step.locOf(['expect', i, 'none']));
      });
    }
  }
  return errors.sort((a, b) => (a.loc?.line ?? 0) - (b.loc?.line ?? 0) || (a.loc?.col ?? 0) - (b.loc?.col ?? 0));
}
