// `forbid:` and `none:` selectors that no server frame of the protocol can match: such a check
// passes whatever the server does (`forbid: [error]` under a protocol whose errors are CALLERROR, or
// that has no error message at all), so the gates file is refused at the selector's line. The check
// runs as the gates file loads (every command that reads one refuses it): it needs the protocol's
// kinds only, read without compiling its schemas.
import type { HarnessError } from '../errors.ts';
import type { LoadedGates } from '../gates/model.ts';
import { namedKind } from '../matching/kinds.ts';
import { parseProtocolFile } from './document.ts';

/** What the check needs of a protocol: its server message kinds (a loaded Protocol has them too). */
export interface IncomingKinds {
  file: string;
  incomingTypes: string[];
  describesIncoming(kind: string): boolean;
}

/**
 * The server message kinds of a protocol file, read without compiling its schemas; undefined when the
 * file does not parse (the run reports that when it loads the protocol).
 */
export function incomingKindsOf(file: string): IncomingKinds | undefined {
  const r = parseProtocolFile(file, { checkDocument: false });
  if (!r.ok) return undefined;
  const p = r.parsed;
  const kinds = new Set(p.incoming.map((m) => m.kind));
  const hasKinds = new Set(p.kinds.rules.flatMap((rule) => namedKind(rule) ?? []));
  // As Protocol.describesIncoming: a described kind, or any kind not given by a `{has}`/value rule when a message admits any kind.
  return {
    file: p.file,
    incomingTypes: p.incoming.map((m) => m.kind),
    describesIncoming: (k) => kinds.has(k) || (p.anyKind.incoming !== undefined && !hasKinds.has(k)),
  };
}

type Selector = string | { type?: string; where?: unknown };

const kindOf = (s: Selector): string | undefined => (typeof s === 'string' ? s : s.type);

export function unmatchableSelectors(gates: LoadedGates, protocol: IncomingKinds): HarnessError[] {
  // A file that names its own type field reads kinds from it, not from the protocol's rules.
  if (gates.defaults.typeField !== undefined) return [];
  const errors: HarnessError[] = [];
  const known = protocol.incomingTypes.join(', ');
  const refuse = (kind: string, key: string, loc: HarnessError['loc']) =>
    errors.push({
      code: 'SCHEMA',
      title: `${key} ${kind}: no server message of ${protocol.file.split(/[\\/]/).pop()} is of kind ${kind}, so this check can never fail`,
      loc,
      hint: `server message kinds: ${known}`,
    });
  const seen = new Set<unknown>();
  for (const gate of gates.gates) {
    for (const step of gate.steps) {
      // A group's steps are shared by the gates that use it: each is reported once.
      if (seen.has(step.params)) continue;
      seen.add(step.params);
      const p = step.params as { forbid?: Selector[]; expect?: unknown[] };
      (p.forbid ?? []).forEach((s, i) => {
        const k = kindOf(s);
        if (k !== undefined && !k.includes('${') && !protocol.describesIncoming(k))
          refuse(k, 'forbid:', step.locOf(['forbid', i]));
      });
      (p.expect ?? []).forEach((e, i) => {
        if (e === null || typeof e !== 'object' || !('none' in e)) return;
        const k = kindOf((e as { none: Selector }).none);
        if (k !== undefined && !k.includes('${') && !protocol.describesIncoming(k))
          refuse(k, 'none:', step.locOf(['expect', i, 'none']));
      });
    }
  }
  return errors.sort((a, b) => (a.loc?.line ?? 0) - (b.loc?.line ?? 0) || (a.loc?.col ?? 0) - (b.loc?.col ?? 0));
}
