// How long wsgate's own processes (the harness, a connection's wscat) were ready to run but waited for
// a CPU: on a busy machine that time is in every latency wsgate measures, and it is not the server's.
// Linux keeps it per thread; /proc/PID/schedstat is the main thread's (second field: ns spent waiting
// on a run queue). Without /proc, the harness's own event-loop delay is the measure (wscat's is then
// unknown).
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PROCESS_TABLE } from './process.ts';

/**
 * Run-queue waiting of the process's main thread: the thread that reads the socket and judges the frame.
 * Other threads (the garbage collector, the thread pool) waiting meanwhile do not delay a reply.
 */
function runQueueNs(pid: number): number | undefined {
  if (PROCESS_TABLE === 'ps') return undefined;
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return undefined;
  }
}

export interface StallReading {
  /** ms the watched processes waited for a CPU during the interval (a lower bound of wsgate's own delay). */
  waitedMs: number;
  /** How it was measured. */
  source: 'schedstat' | 'event-loop';
}

/** Starts measuring now; `stop()` (or `read()`, any number of times) says how long the processes waited for a CPU since. */
export function stallMeter(pids: readonly (number | undefined)[]): { stop(): StallReading; read(): StallReading } {
  const watched = [...new Set(pids.filter((p): p is number => p !== undefined))];
  const start = watched.map(runQueueNs);
  if (start.every((x) => x !== undefined) && start.length) {
    const read = (): StallReading => {
      let ns = 0;
      watched.forEach((pid, i) => {
        const end = runQueueNs(pid);
        // A process that exited meanwhile (wscat after a close) counts what was read before.
        if (end !== undefined) ns += Math.max(0, end - start[i]!);
      });
      return { waitedMs: Math.round(ns / 1e6), source: 'schedstat' };
    };
    return { read, stop: read };
  }
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // The longest single delay of this process's event loop: what it surely lost, not a sum.
  const read = (): StallReading => ({ waitedMs: Math.round(h.max / 1e6), source: 'event-loop' });
  return {
    read,
    stop() {
      const r = read();
      h.disable();
      return r;
    },
  };
}

/** A deadline never moves past this many times its own length, however busy the machine. */
export const DEADLINE_STRETCH_MAX = 3;

/**
 * A deadline that counts only the time wsgate could run: at the planned deadline, what its processes
 * spent waiting for a CPU since `startedAt` is added (at most up to DEADLINE_STRETCH_MAX times the
 * length). A server that never answers still fails; a starved machine does not fail it early.
 */
export function stretchedDeadline(planned: number, startedAt: number, meter: { read(): StallReading }): number {
  const length = planned - startedAt;
  return Math.min(planned + meter.read().waitedMs, startedAt + length * DEADLINE_STRETCH_MAX);
}

/**
 * A meter's readings counted from `base` (an earlier reading's waitedMs): the waiting since that moment.
 * An event-loop reading is a longest delay, not a sum, so it is kept whole (the stretch cap bounds it).
 */
export function sinceReading(meter: { read(): StallReading }, base: number): { read(): StallReading } {
  return {
    read() {
      const r = meter.read();
      return r.source === 'schedstat' ? { ...r, waitedMs: Math.max(0, r.waitedMs - base) } : r;
    },
  };
}
