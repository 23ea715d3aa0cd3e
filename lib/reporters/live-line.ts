// One line that says what a long step is doing while it waits (a model's turn, a soak), redrawn in
// place on a terminal and erased before the step's own result line. Nothing of it reaches a file, a
// pipe or a CI log: only a TTY outside CI gets it, so logs stay the same line for line.

/** A step that ends within this time never shows the line (most steps: no flicker). */
const SHOW_AFTER_MS = 1000;
/** How often the shown line is redrawn: fast enough for a seconds counter, cheap on the event loop. */
const REDRAW_EVERY_MS = 250;
const ERASE = '\r\u001b[2K';

export interface LiveLine {
  /** A step began: its label (already terminal-safe). */
  start(label: string): void;
  /** A frame arrived during the step. */
  frame(): void;
  /** The step's own account of its progress (a soak: elapsed of total, rounds, memory). */
  progress(text: string): void;
  /** Erase the line (before any other output) and stop redrawing. */
  stop(): void;
  /** Erase the line if shown, leaving it to come back at the next redraw. */
  erase(): void;
}

export function liveLineEnabled(out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const isTty = (out as { isTTY?: boolean }).isTTY === true;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return isTty && !ci;
}

function seconds(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
}

export function liveLine(
  out: NodeJS.WritableStream,
  enabled: boolean,
  dim: (s: string) => string = (s) => s,
): LiveLine {
  let timer: NodeJS.Timeout | undefined;
  let startedAt = 0;
  let label = '';
  let frames = 0;
  let progressText: string | undefined;
  let shown = false;

  // A terminal that reports no size (0 columns, as a bare pty does) is taken as 80 wide.
  const columns = () => Math.max(20, ((out as { columns?: number }).columns || 80) - 1);
  const render = () => {
    const ms = performance.now() - startedAt;
    if (ms < SHOW_AFTER_MS) return;
    const detail = progressText ?? `${seconds(ms)} · ${frames} frame${frames === 1 ? '' : 's'} so far`;
    const text = `  … ${label} · ${detail}`;
    out.write(ERASE + dim(text.length > columns() ? `${text.slice(0, columns() - 1)}…` : text));
    shown = true;
  };
  const erase = () => {
    if (shown) out.write(ERASE);
    shown = false;
  };
  return {
    start(l) {
      this.stop();
      if (!enabled) return;
      label = l;
      frames = 0;
      progressText = undefined;
      startedAt = performance.now();
      timer = setInterval(render, REDRAW_EVERY_MS);
      timer.unref();
    },
    frame() {
      frames++;
    },
    progress(text) {
      progressText = text;
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      erase();
    },
    erase,
  };
}
