// Where a run's steps put what they saw (frames, events, stderr, observations): the interface the
// runner hands to steps and the evidence writer implements, so neither side imports the other.
import type { ConnectionEvent, Frame } from './frames.ts';

export interface EvidenceSink {
  frameIn(conn: string, frame: Frame, step: string): void;
  frameOut(conn: string, text: string, at: number, step: string): void;
  event(conn: string, event: ConnectionEvent, at: number, step: string): void;
  stderr(source: string, text: string): void;
  observe(step: string, name: string, data: unknown): void;
  /** A path outside the project where a step may keep files (server logs). */
  dir: string | null;
}
