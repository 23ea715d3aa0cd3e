import type { FaultName } from './faults.ts';
import type { Logger } from './log.ts';
import type { SessionStore } from './sessions.ts';

/** What every part of a running server shares; built once by startReferenceServer. */
export interface ServerContext {
  root: string;
  store: SessionStore;
  logger: Logger;
  faults: ReadonlySet<FaultName>;
  refuseAfter: number | undefined;
  slowMs: number;
  execTimeoutMs: number;
  startedAt: number;
  logDir: string;
  openConnections(): number;
  /** A timer that close() cancels; resolves early (false) when the server closes. */
  wait(ms: number): Promise<boolean>;
  /** Registers a kill function for a running command; returns the unregister function. */
  trackChild(kill: () => void): () => void;
}
