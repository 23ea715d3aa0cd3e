// Ctrl-C and SIGTERM for a command that owns child processes: the first signal asks the command to
// stop (it then reaps its own children and reports what it did), a second one kills every tracked
// child at once and exits 130, for a person who will not wait.
import { EXIT } from '../errors.ts';
import { killAllNow } from '../os/process.ts';

/** Installs the handlers; returns their removal. `first` says what is happening, once. */
export function onInterrupt(controller: AbortController, first?: (signal: NodeJS.Signals) => void): () => void {
  let signals = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      killAllNow();
      process.exit(EXIT.interrupted);
    }
    first?.(signal);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('exit', killAllNow);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
