// The CLI's V8 heap, sized for a long stream of small frames. Each frame allocates ~1 KB that dies at
// once and leaves a small object that lives while it waits in the inbox. Left to its defaults, V8 grows
// the young generation to its maximum (tens of MB) under that allocation rate, and lets the old space
// fill with promoted, already dead frames up to several times the live heap before a full GC: the
// CLI's peak memory was ~170 MB on 1,000,000 frames while its live heap stayed under 20 MB.
// Both are set here, in this process only (wscat and other children are not affected), and at run
// time: a node flag on the command line would need a second node start (bin/wsgate.js re-executing
// itself), and NODE_OPTIONS would reach every wscat. docs/performance.md has the measurements.
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

/** The new space (both semi-spaces) stops growing once it is this large; it starts at 1 MB, and may grow to 32 MB. */
export const YOUNG_CAP_BYTES = 8 * 1024 * 1024;
/**
 * Between full GCs the old space may grow by this percent of what the last one kept alive. V8 picks
 * its own factor, up to 4× the live heap; a low fixed one costs a few more (cheap: the live heap is
 * small) full GCs and keeps garbage from piling up.
 */
export const OLD_GROWING_PERCENT = 25;

function newSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Applies both limits to this process. The young generation's ceiling cannot be changed once V8 has
 * started, but its growth factor can: after each GC the new space's size is read, and growth is off
 * (factor 1) while it is at YOUNG_CAP_BYTES, on again (V8's factor 2) below it. The watch stays for the
 * whole run: V8 shrinks the new space while little is allocated (between gates), and a stream that
 * comes later must be able to grow it back to the cap. Returns a function that stops watching.
 */
export function shapeHeap(): () => void {
  v8.setFlagsFromString(`--heap-growing-percent=${OLD_GROWING_PERCENT}`);
  let stopped = false;
  const observer = new PerformanceObserver(() => {
    const atCap = newSpaceBytes() >= YOUNG_CAP_BYTES;
    if (atCap === stopped) return;
    stopped = atCap;
    v8.setFlagsFromString(`--semi-space-growth-factor=${atCap ? 1 : 2}`);
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
