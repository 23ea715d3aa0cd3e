// Waiting for a started backend to be ready: an HTTP status, an open TCP port or a log line,
// each with a deadline and a backoff between attempts (never a fixed sleep).
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { httpRequest } from './http-client.ts';

export type ReadyProbe = { http: string; status?: number } | { port: number; host?: string } | { log: string };

async function tryOnce(p: ReadyProbe): Promise<boolean> {
  if ('http' in p) {
    const r = await httpRequest('GET', p.http, {}, undefined, 1000);
    return r.ok && (p.status === undefined ? r.answer.status < 500 : r.answer.status === p.status);
  }
  if ('port' in p) {
    return new Promise((resolve) => {
      const s = net.connect({ port: p.port, host: p.host ?? '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
    });
  }
  return false;
}

/** Resolves with how it ended: ready, the process exited, or the deadline passed. */
export async function waitReady(
  child: ChildProcess,
  probe: ReadyProbe,
  output: () => string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<'ready' | 'exited' | 'timeout'> {
  if (!signal) return waitReadyUntil(child, probe, output, timeoutMs);
  // An interrupted run stops waiting at once (the runner then stops the process).
  let onAbort!: () => void;
  const aborted = new Promise<'timeout'>((resolve) => {
    onAbort = () => resolve('timeout');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([waitReadyUntil(child, probe, output, timeoutMs), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function waitReadyUntil(
  child: ChildProcess,
  probe: ReadyProbe,
  output: () => string,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = performance.now() + timeoutMs;
  // 'close' (not 'exit'): it comes after the output pipes are drained, so a program that prints an
  // error and exits at once is reported with that error.
  let exited = child.exitCode !== null && child.stdout?.readableEnded !== false;
  const onExit = () => (exited = true);
  child.once('close', onExit);
  try {
    if ('log' in probe) {
      const re = new RegExp(probe.log, 'm');
      return await new Promise((resolve) => {
        const check = () => {
          if (re.test(output())) finish('ready');
        };
        const timer = setTimeout(() => finish('timeout'), timeoutMs);
        const finish = (r: 'ready' | 'exited' | 'timeout') => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.stderr?.off('data', check);
          child.off('close', onEnd);
          resolve(r);
        };
        const onEnd = () => finish(re.test(output()) ? 'ready' : 'exited');
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        child.once('close', onEnd);
        check();
      });
    }
    let delay = 20;
    while (performance.now() < deadline) {
      if (exited) return 'exited';
      if (await tryOnce(probe)) return 'ready';
      const left = deadline - performance.now();
      if (left <= 0) break;
      await new Promise((r) => setTimeout(r, Math.min(delay, left))); // backoff between probes, bounded by the deadline
      delay = Math.min(delay * 2, 250);
    }
    return exited ? 'exited' : 'timeout';
  } finally {
    child.off('close', onExit);
  }
}
