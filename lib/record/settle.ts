// When is a scripted exchange over? A gate attributes each reply to the send before it, so in a
// scripted session (stdin not a TTY) the next line may only be sent once the previous exchange has
// settled, or its late replies would be recorded under the wrong send. The rule:
//   - a message whose kind is one of `until` (e.g. message_complete) ends the exchange at once;
//   - otherwise it ends once the server has been quiet for `idleMs` after its last frame;
//   - with no frame at all within `firstMs`, the send had no reply;
//   - and nothing waits past `waitMs` from the send (a stream still running then is cut, and said so).
import type { Frame } from '../wscat/connection.ts';
import { getPath } from '../matching/match.ts';

export interface SettleRule {
  idleMs: number;
  waitMs: number;
  until: string[];
}

export type Settled = 'until' | 'idle' | 'no-reply' | 'deadline';

export class Settler {
  private frames = 0;
  private last = 0;
  private started = 0;
  private ended = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly rule: SettleRule,
    private readonly typeField: string,
  ) {}

  /** A new exchange starts now (call right before its send). */
  begin(): void {
    this.frames = 0;
    this.ended = false;
    this.started = performance.now();
    this.last = this.started;
  }

  /** The session is being stopped: whatever waits returns now. */
  stop(): void {
    this.ended = true;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  frame(f: Frame): void {
    this.frames++;
    this.last = performance.now();
    const kind = f.isJson ? getPath(f.json, this.typeField) : undefined;
    if (typeof kind === 'string' && this.rule.until.includes(kind)) this.ended = true;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves when the exchange begun last has settled; `firstMs` bounds the wait for its first frame. */
  async settled(firstMs = this.rule.waitMs): Promise<Settled> {
    for (;;) {
      if (this.ended) return 'until';
      const now = performance.now();
      const hard = this.started + this.rule.waitMs;
      const quietEnd = this.frames ? this.last + this.rule.idleMs : this.started + firstMs;
      if (now >= quietEnd) return this.frames ? 'idle' : 'no-reply';
      if (now >= hard) return this.frames ? 'deadline' : 'no-reply';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(quietEnd, hard) - now);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
