import { WebSocket } from 'ws';
import type { FaultName } from './faults.ts';

export type ServerMessage = { type: string } & Record<string, unknown>;

/** The only place frames are written, so timestamp and the framing faults apply to every message. */
export class Outbox {
  constructor(
    private readonly socket: WebSocket,
    private readonly faults: ReadonlySet<FaultName>,
    /** Every error reply is also an error-level log line, whichever handler sent it. */
    private readonly onError: (error: string, code: string) => void = () => {},
  ) {}

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(message: ServerMessage): void {
    const stamped = { ...message, timestamp: new Date().toISOString() };
    const text = this.faults.has('pretty-json') ? JSON.stringify(stamped, null, 2) : JSON.stringify(stamped);
    this.sendRaw(text);
  }

  sendRaw(text: string): void {
    if (this.open) this.socket.send(text);
  }

  /** Frames a misbehaving (or merely talkative) backend puts in front of each reply. */
  preamble(): void {
    if (this.faults.has('garbage')) this.sendRaw('garbage: not json');
    if (this.faults.has('chatty'))
      this.send({ type: 'server_notice', text: 'Reference server is processing your request' });
  }

  error(error: string, code: string): void {
    this.onError(error, code);
    this.send({ type: 'error', error, code });
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }
}
