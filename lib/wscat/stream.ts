// Turns wscat's piped stdout back into the frames the server sent.
// wscat writes each text frame followed by "\n", so line boundaries are not frame boundaries
// (pretty-printed JSON spans lines) and readline prompts ("> ") are glued in front of frames.
// Prompts are told apart from frames that really start with "> " by counting them: wscat writes
// exactly one prompt per stdin line it handles once connected, and the driver knows how many it wrote.

export type StreamItem =
  | { kind: 'frame'; text: string; json: unknown; isJson: boolean }
  | { kind: 'pong'; data: string }
  | { kind: 'ping'; data: string };

/** What can follow a real prompt while the count is uncertain: a JSON frame, another prompt, a pong line. */
const PROMPT_FOLLOWER = new Set([123 /* { */, 91 /* [ */, 62 /* > */, 82 /* R */]);
const CONTROL = /^Received (ping|pong) \(data: "(.*)"\)$/s;
const NL = 10;

export class WscatStreamParser {
  private buf = '';
  private pos = 0; // next unread index in buf
  private frameStart = -1; // start of the frame being scanned, -1 at a boundary
  // The already-scanned start of a frame still in progress, moved out of buf at each chunk. Keeping
  // it in buf made every chunk re-copy (flatten) the whole frame so far: a 10 MB frame took seconds
  // of CPU, quadratic in its size, and a 100 MB one (ws's limit) minutes.
  private head: string[] = [];
  private headChars = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private promptCredits = 0;
  // Until the first probe pong, some credited lines may have been dropped by wscat (written before
  // the socket opened), so a "> " is taken as a prompt only where a frame or a pong follows it.
  private creditsExact = false;
  bytesSeen = 0;

  constructor(private readonly emit: (item: StreamItem) => void) {}

  /** The driver wrote this many more lines that wscat will answer with a prompt. */
  addPromptCredits(n: number): void {
    this.promptCredits += n;
  }

  /** Lines the driver wrote before the socket opened were dropped without a prompt; from now on the count is exact. */
  removePromptCredits(n: number): void {
    this.promptCredits = Math.max(0, this.promptCredits - n);
    this.creditsExact = true;
  }

  /** Characters pushed and not yet emitted (a frame still arriving): memory a flood could grow. */
  get bufferedChars(): number {
    return this.buf.length - (this.frameStart >= 0 ? this.frameStart : this.pos) + this.headChars;
  }

  get pendingPrompts(): number {
    return this.promptCredits;
  }

  push(chunk: string): void {
    this.bytesSeen += chunk.length;
    // Drop what has been emitted; of the frame in progress, keep only its unscanned rest in buf.
    if (this.frameStart >= 0) {
      if (this.pos > this.frameStart) {
        this.head.push(this.buf.slice(this.frameStart, this.pos));
        this.headChars += this.pos - this.frameStart;
      }
      this.buf = this.buf.slice(this.pos) + chunk;
      this.frameStart = 0;
    } else {
      this.buf = this.pos > 0 ? this.buf.slice(this.pos) + chunk : this.buf + chunk;
    }
    this.pos = 0;
    this.scan();
  }

  /** wscat exited: whatever is left is a frame that had no trailing newline. */
  end(): void {
    let rest = this.frameStart >= 0 ? this.frameText() : this.buf.slice(this.pos);
    // Prompts owed at exit (wscat prompts after the last line it read) are not frames.
    while (this.frameStart < 0 && this.promptCredits > 0 && (rest === '>' || rest.startsWith('> '))) {
      rest = rest.slice(2);
      this.promptCredits--;
    }
    this.buf = '';
    this.pos = 0;
    this.frameStart = -1;
    for (const line of rest.split('\n')) if (line.length > 0) this.emitLine(line);
  }

  private scan(): void {
    const buf = this.buf;
    while (this.pos < buf.length) {
      if (this.frameStart < 0) {
        // At a frame boundary.
        if (this.promptCredits > 0 && buf.charCodeAt(this.pos) === 62 /* > */) {
          if (this.pos + (this.creditsExact ? 1 : 2) >= buf.length) return; // wait to see the space (and, uncertain, what follows)
          if (
            buf.charCodeAt(this.pos + 1) === 32 &&
            (this.creditsExact || PROMPT_FOLLOWER.has(buf.charCodeAt(this.pos + 2)))
          ) {
            this.pos += 2;
            this.promptCredits--;
            continue;
          }
        }
        const c = buf.charCodeAt(this.pos);
        this.frameStart = this.pos;
        if (c === 123 /* { */ || c === 91 /* [ */) {
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          if (!this.scanJson()) return;
        } else {
          const nl = buf.indexOf('\n', this.pos);
          if (nl < 0) {
            this.pos = buf.length; // scanned: the next chunk is searched from its own start
            return;
          }
          this.emitLine(this.frameText(nl));
          this.frameStart = -1;
          this.pos = nl + 1;
        }
      } else if (this.depth > 0 || this.inString) {
        if (!this.scanJson()) return;
      } else {
        // Raw line continuation after a failed JSON guess.
        const nl = buf.indexOf('\n', this.pos);
        if (nl < 0) {
          this.pos = buf.length;
          return;
        }
        this.emitLine(this.frameText(nl));
        this.frameStart = -1;
        this.pos = nl + 1;
      }
    }
  }

  /** Scans JSON structure from pos; returns false when more input is needed. */
  private scanJson(): boolean {
    const buf = this.buf;
    let i = this.pos;
    let { depth, inString, escaped } = this;
    for (; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (inString) {
        if (c === NL) {
          // JSON strings cannot hold a raw newline, so this text was not JSON (e.g. `{"unterminated`).
          // Without this check the open string swallowed every later frame until wscat exited.
          for (const line of this.frameText(i).split('\n')) this.emitLine(line);
          this.toBoundary(i + 1);
          return true;
        }
        if (escaped) escaped = false;
        else if (c === 92 /* \ */) escaped = true;
        else if (c === 34 /* " */) inString = false;
        continue;
      }
      if (c === 34) inString = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth <= 0) {
          // Structure closed: the frame ends at this line's newline.
          const nl = buf.indexOf('\n', i + 1);
          if (nl < 0) {
            this.saveJson(i + 1, 0, false, false);
            // Keep depth 0 so the raw-continuation branch finishes the line.
            return false;
          }
          this.emitFrame(this.frameText(nl));
          this.toBoundary(nl + 1);
          return true;
        }
      } else if (c === NL && !inString) {
        // A frame never starts mid-line, and pretty-printed JSON indents its inner lines, so a next
        // line that opens a new structure at column 0 means the text so far was not JSON at all.
        const next = buf.charCodeAt(i + 1);
        if (i + 1 >= buf.length) {
          this.saveJson(i, depth, inString, escaped);
          return false;
        }
        if (next === 123 || next === 91 || next === 62) {
          for (const line of this.frameText(i).split('\n')) this.emitLine(line);
          this.toBoundary(i + 1);
          return true;
        }
      }
    }
    this.saveJson(i, depth, inString, escaped);
    return false;
  }

  /** The frame in progress from its start up to `end` of buf (all of it when undefined); clears the head. */
  private frameText(end?: number): string {
    const tail = this.buf.slice(this.frameStart, end);
    if (this.head.length === 0) return tail;
    const text = this.head.join('') + tail;
    this.head = [];
    this.headChars = 0;
    return text;
  }

  /** The frame in progress ended: the next byte to read, at `pos`, starts a new frame. */
  private toBoundary(pos: number): void {
    this.frameStart = -1;
    this.pos = pos;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  private saveJson(pos: number, depth: number, inString: boolean, escaped: boolean): void {
    this.pos = pos;
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
  }

  private emitFrame(text: string): void {
    try {
      this.emit({ kind: 'frame', text, json: JSON.parse(text), isJson: true });
    } catch {
      for (const line of text.split('\n')) this.emitLine(line);
    }
  }

  private emitLine(text: string): void {
    const m = CONTROL.exec(text);
    if (m) {
      this.emit({ kind: m[1] as 'ping' | 'pong', data: m[2]! });
      return;
    }
    if (text.length > 0 && (text.charCodeAt(0) === 123 || text.charCodeAt(0) === 91)) {
      try {
        this.emit({ kind: 'frame', text, json: JSON.parse(text), isJson: true });
        return;
      } catch {
        /* not JSON after all */
      }
    }
    this.emit({ kind: 'frame', text, json: undefined, isJson: false });
  }
}
