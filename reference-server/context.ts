import type { FaultName } from './faults.ts';
import type { Logger } from './log.ts';
import type { ProjectPolicy } from './project-path.ts';
import type { SessionStore } from './sessions.ts';

/** What every part of a running server shares; built once by startReferenceServer. */
export interface ServerContext {
  root: string;
  /** Where sessions may be started (the root and below, unless opted out). */
  projects: ProjectPolicy;
  /** Chat and slash-command text longer than this (UTF-8 bytes) gets an error reply, not the planner. */
  maxChatBytes: number;
  /** The leak fault's hoard: one buffer per received message, dropped only when the server closes. */
  leaked: Buffer[];
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
