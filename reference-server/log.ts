// One JSON line per event. The logs are evidence a harness reads, and a place an attacker would like to
// write through, so: private files (0600, no symlinks), a size cap with one rotated generation, and no
// command output or whole frames: every string is cut to a short, escaped excerpt.
import fs from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir, openPrivateAppend } from './private-files.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  close(): void;
  readonly combinedPath: string;
  readonly errorPath: string;
}

export const DEFAULT_LOG_MAX_BYTES = 5 * 1024 * 1024;
export const LOG_TEXT_MAX_CHARS = 200;

// JSON escapes C0 controls; DEL, C1 controls (a lone 0x9b is CSI to some terminals) and the Unicode line
// separators it leaves as they are, so a `tail -f` of the log could still be steered by them.
const UNSAFE_CHARS = /[\u007f-\u009f\u2028\u2029]/g;

export function clipText(text: string, max = LOG_TEXT_MAX_CHARS): string {
  const cut = text.length > max ? `${text.slice(0, max)}…[${text.length - max} more chars]` : text;
  return cut.replace(UNSAFE_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function clipValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return clipText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 3) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => clipValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value).slice(0, 30)) out[clipText(k, 50)] = clipValue(v, depth + 1);
  return out;
}

/** A size-capped append-only file: past maxBytes it becomes NAME.1 (replacing the older one) and starts anew. */
class CappedFile {
  private fd: number | undefined;
  private size: number;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
  ) {
    this.fd = openPrivateAppend(file);
    this.size = fs.fstatSync(this.fd).size;
  }

  append(line: string): void {
    const bytes = Buffer.byteLength(line);
    try {
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      if (this.fd === undefined) return;
      fs.writeSync(this.fd, line);
      this.size += bytes;
    } catch {
      // Logging must never take the server down (the folder was removed under it, the disk is full).
    }
  }

  private rotate(): void {
    this.close();
    fs.renameSync(this.file, `${this.file}.1`);
    this.fd = openPrivateAppend(this.file);
    this.size = 0;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Synchronous writes keep the files complete at every instant, so a harness that reads the log right
 * after a reply sees the matching line; the volume of a test server makes the cost irrelevant.
 */
export function openLogger(logDir: string, maxBytes = DEFAULT_LOG_MAX_BYTES): Logger {
  ensurePrivateDir(logDir, 'log folder');
  // Both files exist from the start: "log files exist" is itself something gates check.
  const combined = new CappedFile(path.join(logDir, 'combined.log'), maxBytes);
  let errors: CappedFile;
  try {
    errors = new CappedFile(path.join(logDir, 'error.log'), maxBytes);
  } catch (error) {
    combined.close();
    throw error;
  }
  let closed = false;

  return {
    combinedPath: combined.file,
    errorPath: errors.file,
    log(level, event, fields = {}) {
      if (closed) return;
      const entry = clipValue({ time: new Date().toISOString(), level, event, ...fields }, 0);
      const line = JSON.stringify(entry) + '\n';
      combined.append(line);
      if (level === 'error') errors.append(line);
    },
    close() {
      closed = true;
      combined.close();
      errors.close();
    },
  };
}
