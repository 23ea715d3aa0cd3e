// Every frame of a run checked against the protocol file: received frames as server→client messages,
// sent JSON objects as client→server ones (raw lines and `offProtocol` sends exempt). Violations become
// checks of the step during which the frame travelled; coverage counts what the run exercised.
import path from 'node:path';
import type { Coverage, Protocol, Violation } from './index.ts';
import type { CheckResult } from '../evidence/results.ts';
import type { Loc } from '../loc.ts';
import type { SendMeta } from '../wscat/connection.ts';

interface Pending {
  conn: string;
  direction: 'received' | 'sent';
  violation: Violation;
  text: string;
}

export class ProtocolWatch {
  constructor(
    readonly protocol: Protocol,
    readonly coverage: Coverage,
    /** --lenient: violations are recorded as warnings, not failures. */
    private readonly lenient: boolean,
  ) {}

  forGate(): GateProtocolWatch {
    return new GateProtocolWatch(this);
  }

  /** Kinds missing from the protocol are reported but do not fail: servers may add messages of their own. */
  isWarning(v: Violation, direction: Pending['direction']): boolean {
    return this.lenient || (direction === 'received' && v.rule === 'unknown-type');
  }
}

export class GateProtocolWatch {
  private pending: Pending[] = [];
  constructor(private readonly run: ProtocolWatch) {}

  received(conn: string, json: unknown, text: string): void {
    this.run.coverage.recordIncoming(json);
    for (const violation of this.run.protocol.validateIncoming(json))
      this.pending.push({ conn, direction: 'received', violation, text });
  }

  sent(conn: string, text: string, meta: SendMeta): void {
    if (meta.raw || meta.offProtocol) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    this.run.coverage.recordOutgoing(json);
    for (const violation of this.run.protocol.validateOutgoing(json))
      this.pending.push({ conn, direction: 'sent', violation, text });
  }

  /** The violations seen since the last drain, as checks at `loc`. */
  drain(loc: Loc): CheckResult[] {
    const out = this.pending.map((p): CheckResult => {
      const warning = this.run.isWarning(p.violation, p.direction);
      return {
        name: `${p.conn}: ${p.direction} message follows the protocol`,
        expected: `valid per ${path.basename(this.run.protocol.file)}`,
        actual: `${p.violation.message} in ${p.text.length > 300 ? p.text.slice(0, 300) + '…' : p.text}`,
        passed: warning,
        loc,
        ...(warning
          ? { warning: true }
          : {
              failure: {
                kind: 'protocol',
                direction: p.direction,
                ...(p.violation.type !== undefined ? { message: p.violation.type } : {}),
                path: p.violation.path,
                rule: p.violation.rule,
              },
            }),
      };
    });
    this.pending = [];
    return out;
  }
}
