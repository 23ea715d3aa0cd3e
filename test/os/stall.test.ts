// stall: run-queue waiting read from /proc/PID/schedstat, and deadlines stretched by it. The meter is
// read on this real process while real busy child processes compete with it for the two CPUs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { availableParallelism } from 'node:os';
import { sinceReading, stallMeter, stretchedDeadline, type StallReading } from '../../lib/os/stall.ts';

const reading = (waitedMs: number, source: StallReading['source'] = 'schedstat') => ({
  read: () => ({ waitedMs, source }),
});

describe('stall', () => {
  test('a deadline moves later by the time waited for a CPU, never past 3× its length', () => {
    assert.equal(stretchedDeadline(1000, 0, reading(0)), 1000);
    assert.equal(stretchedDeadline(1000, 0, reading(400)), 1400);
    assert.equal(stretchedDeadline(1000, 0, reading(10_000)), 3000);
  });

  test('sinceReading counts schedstat waiting from a base; an event-loop maximum is kept whole', () => {
    assert.equal(sinceReading(reading(700), 500).read().waitedMs, 200);
    assert.equal(sinceReading(reading(300), 500).read().waitedMs, 0);
    assert.equal(sinceReading(reading(700, 'event-loop'), 500).read().waitedMs, 700);
  });

  test('the meter sees this process wait for a CPU while busy processes hold every core', async () => {
    const hogs = Array.from({ length: availableParallelism() * 2 }, () =>
      spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }),
    );
    try {
      await Promise.all(hogs.map((h) => once(h, 'spawn')));
      const meter = stallMeter([process.pid]);
      // Busy in this process too, so it asks for a CPU the whole time and must queue for one.
      const until = performance.now() + 600;
      while (performance.now() < until) {
        // busy
      }
      const r = meter.stop();
      assert.equal(r.source, 'schedstat');
      assert.ok(r.waitedMs > 0, `waited ${r.waitedMs} ms`);
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
      await Promise.all(hogs.map((h) => (h.exitCode === null && h.signalCode === null ? once(h, 'exit') : undefined)));
    }
  });
});
