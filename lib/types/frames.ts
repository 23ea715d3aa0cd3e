// What a connection yields, as plain data: a frame received, and the connection-level events of the
// transcript. Written by the wscat layer and read by matching, evidence and recording, so it lives
// below all of them and imports nothing.

export interface Frame {
  seq: number;
  /** Epoch milliseconds when the harness read it. */
  at: number;
  text: string;
  json: unknown;
  isJson: boolean;
}

/** What the handshake settled, as wscat's socket saw it. */
export interface OpenInfo {
  /** The subprotocol the server chose ('' for none). */
  protocol: string;
  extensions: string;
  /** Response headers of the upgrade. */
  headers: Record<string, string>;
}

/** A connection-level event for the transcript (frames are recorded separately). */
export type ConnectionEvent =
  | ({ event: 'open' } & OpenInfo)
  | { event: 'close'; code?: number; reason?: string; byClient: boolean; error?: string };
