// Protocol descriptions: an AsyncAPI 3 file says which messages travel each way and what their JSON
// must look like; wsgate checks every frame against it and measures how much of it a run exercised.
// See docs/protocol.md.
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

export { loadProtocol, Protocol, instancePathToField, type Violation, type LoadProtocolResult } from './protocol.ts';
export {
  Coverage,
  formatCoverage,
  mergeCoverage,
  type CoverageReport,
  type CoverageRow,
  type CoverageDirection,
} from './coverage.ts';
export type { CoverageSource } from './extensions.ts';

/** The agent-backend protocol shipped with wsgate (absolute path). */
export const DEFAULT_PROTOCOL_FILE: string = path.join(PACKAGE_ROOT, 'protocol', 'agent-backend.asyncapi.yaml');

/** A protocol file shipped with wsgate (`wsgate:NAME`): the tests check it against the AsyncAPI schema, so runs need not. */
export function isShippedProtocol(file: string): boolean {
  return path.dirname(path.resolve(file)) === path.join(PACKAGE_ROOT, 'protocol');
}
export { PACKAGE_ROOT };
