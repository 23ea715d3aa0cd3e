// How long wsgate's own processes (the harness, a connection's wscat) were ready to run but waited for
// a CPU: on a busy machine that time is in every latency wsgate measures, and it is not the server's.
// Linux keeps it per thread in /proc/PID/task/TID/schedstat (second field: ns spent waiting on a run
// queue). Without /proc, the harness's own event-loop delay is the measure (wscat's is then unknown).
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

function runQueueNs(pid: number): number | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let total = 0;
  for (const tid of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // the thread ended meanwhile: its waiting is gone with it
    }
  }
  return total;
}

export interface StallReading {
  /** ms the watched processes waited for a CPU during the interval (a lower bound of wsgate's own delay). */
  waitedMs: number;
  /** How it was measured. */
  source: 'schedstat' | 'event-loop';
}

/** Starts measuring now; `stop()` says how long the processes waited for a CPU since. */
export function stallMeter(pids: readonly (number | undefined)[]): { stop(): StallReading } {
  const watched = [...new Set(pids.filter((p): p is number => p !== undefined))];
  const start = watched.map(runQueueNs);
  if (start.every((x) => x !== undefined) && start.length) {
    return {
      stop() {
        let ns = 0;
        watched.forEach((pid, i) => {
          const end = runQueueNs(pid);
          // A process that exited meanwhile (wscat after a close) counts what was read before.
          if (end !== undefined) ns += Math.max(0, end - start[i]!);
        });
        return { waitedMs: Math.round(ns / 1e6), source: 'schedstat' };
      },
    };
  }
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    stop() {
      h.disable();
      // The longest single delay of this process's event loop: what it surely lost, not a sum.
      return { waitedMs: Math.round(h.max / 1e6), source: 'event-loop' };
    },
  };
}
