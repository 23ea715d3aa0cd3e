// Shared plumbing for the file-writing reporters: where a FILE goes, writing it without ever
// throwing, redacting secrets, showing values, and reading the evidence transcript.
import { createReadStream, existsSync, appendFileSync } from 'node:fs';
import { ensureDirSync } from 'fs-extra/esm';
import { writeFileNoFollow } from '../evidence/safe-write.ts';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunResult } from '../evidence/results.ts';
import type { Reporter, RunInfo } from './types.ts';

/** `-` means stdout; anything else is a path resolved against the current folder. */
export function target(file: string | undefined, fallback: string): string {
  if (file === '-') return '-';
  return path.resolve(file?.length ? file : fallback);
}

function complain(reporter: string, what: string, e: unknown): void {
  try {
    process.stderr.write(`wsgate: ${reporter} reporter: ${what}: ${(e as Error)?.message ?? String(e)}\n`);
  } catch {
    // stderr itself is gone: nothing left to tell.
  }
}

/** Writes the whole text to FILE (creating its folder) or to stdout; reports problems on stderr, never throws. */
export async function writeOut(reporter: string, to: string, text: string): Promise<boolean> {
  try {
    if (to === '-') {
      await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
      return true;
    }
    ensureDirSync(path.dirname(to));
    // Never through a link: a planted `wsgate-report.html` link would make its target the report.
    writeFileNoFollow(to, text);
    return true;
  } catch (e) {
    complain(reporter, `cannot write ${to}`, e);
    return false;
  }
}

export function appendOut(reporter: string, to: string, text: string): boolean {
  try {
    appendFileSync(to, text);
    return true;
  } catch (e) {
    complain(reporter, `cannot append to ${to}`, e);
    return false;
  }
}

/** Runs a reporter's end-of-run work; a bug or odd data becomes one stderr line, never a crashed run. */
export async function guard(reporter: string, work: () => void | Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    complain(reporter, 'failed', (e as Error)?.stack ? new Error((e as Error).stack) : e);
  }
}

/**
 * A reporter that writes one text at the end of the run: to FILE (`fallback` when none is given) or
 * stdout for `-`, never throwing. `render` makes the text; `then` runs after it was written (a copy
 * elsewhere).
 */
export function fileReporter(
  name: string,
  file: string | undefined,
  fallback: string,
  render: (result: RunResult, info: RunInfo) => string | Promise<string>,
  then?: (text: string, to: string) => void,
): Reporter {
  const to = target(file, fallback);
  return {
    async onRunEnd(result: RunResult, info: RunInfo) {
      await guard(name, async () => {
        const text = await render(result, info);
        await writeOut(name, to, text);
        then?.(text, to);
      });
    },
  };
}

/** Applies the run's secret redaction to every string in a value (the result is a copy). */
export function redactDeep<T>(value: T, redact: ((t: string) => string) | undefined): T {
  if (!redact) return value;
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redact(v);
    if (v === null || typeof v !== 'object' || depth > 200) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}

/** The result with secrets redacted and missing arrays/objects filled in, so formatters can trust its shape. */
export function normalize(result: RunResult, info: RunInfo | undefined): RunResult {
  const r = redactDeep(result, info?.redact) ?? ({} as RunResult);
  const arr = <T>(x: T[] | undefined | null): T[] => (Array.isArray(x) ? x : []);
  const gates = arr(r.gates).map((g) => ({
    ...g,
    id: String(g?.id ?? '?'),
    title: String(g?.title ?? ''),
    status: g?.status ?? 'skipped',
    ms: num(g?.ms),
    steps: arr(g?.steps).map((s) => ({
      ...s,
      label: String(s?.label ?? '?'),
      kind: String(s?.kind ?? '?'),
      status: s?.status ?? 'skipped',
      ms: num(s?.ms),
      checks: arr(s?.checks),
      ...(s?.timings ? { timings: arr(s.timings) } : {}),
      ...(s?.lastMessages ? { lastMessages: arr(s.lastMessages) } : {}),
    })),
  }));
  return {
    ...r,
    schemaVersion: 1,
    runId: String(r.runId ?? ''),
    startedAt: String(r.startedAt ?? ''),
    ms: num(r.ms),
    url: String(r.url ?? ''),
    project: String(r.project ?? ''),
    gatesFile: String(r.gatesFile ?? ''),
    status: r.status ?? 'failed',
    gates,
    totals: r.totals ?? {
      gates: gates.length,
      passed: 0,
      failed: 0,
      pending: 0,
      skipped: 0,
      checks: 0,
      checksFailed: 0,
    },
    warnings: arr(r.warnings).map(String),
  };
}

export function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0;
}

/** A value as a person reads it: strings as they are, the rest as JSON, cut at `max` characters. */
export function show(v: unknown, max = 4000, pretty = false): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (v === undefined) s = '(absent)';
  else {
    try {
      s = JSON.stringify(v, null, pretty ? 2 : undefined) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return cut(s, max);
}

export function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length - max} more characters)` : s;
}

export interface TranscriptLine {
  at: string;
  conn: string;
  /** `event`: the socket opened or closed (the text says how), not a frame. */
  dir: 'in' | 'out' | 'event';
  step: string;
  seq?: number;
  text: string;
}

/** "opened (subprotocol graphql-transport-ws)", "closed by the server: 1008 Too many connections". */
function eventText(o: Record<string, unknown>): string {
  if (o.event === 'open') return `socket opened${o.protocol ? ` (subprotocol ${String(o.protocol)})` : ''}`;
  const who = o.byClient ? 'by the harness' : 'by the server';
  const code = o.code !== undefined ? `: ${String(o.code)}${o.reason ? ` ${String(o.reason)}` : ''}` : '';
  return `socket closed ${who}${code}${o.error ? ` (${String(o.error)})` : ''}`;
}

export interface Transcript {
  lines: TranscriptLine[];
  /** Lines not kept because of the frame limit. */
  dropped: number;
  /** Lines that were not valid transcript JSON. */
  unreadable: number;
  missing: boolean;
}

/** Reads the evidence folder's transcript.jsonl (streamed; keeps at most maxFrames frames). */
export async function readTranscript(
  evidenceDir: string | null | undefined,
  maxFrames = 20_000,
  maxLineChars = 4_000_000,
): Promise<Transcript> {
  const t: Transcript = { lines: [], dropped: 0, unreadable: 0, missing: true };
  if (!evidenceDir) return t;
  const file = path.join(evidenceDir, 'transcript.jsonl');
  if (!existsSync(file)) return t;
  t.missing = false;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const raw of rl) {
      if (!raw.trim()) continue;
      if (t.lines.length >= maxFrames) {
        t.dropped++;
        continue;
      }
      if (raw.length > maxLineChars) {
        t.unreadable++;
        continue;
      }
      try {
        const o = JSON.parse(raw) as Partial<TranscriptLine>;
        if (!o || typeof o !== 'object') throw new Error('not an object');
        const dir = o.dir === 'out' || o.dir === 'event' ? o.dir : 'in';
        const text =
          dir === 'event'
            ? eventText(o as Record<string, unknown>)
            : typeof o.text === 'string'
              ? o.text
              : JSON.stringify(o.text ?? '');
        t.lines.push({
          at: String(o.at ?? ''),
          conn: String(o.conn ?? '?'),
          dir,
          step: String(o.step ?? ''),
          ...(typeof o.seq === 'number' ? { seq: o.seq } : {}),
          text,
        });
      } catch {
        t.unreadable++;
      }
    }
  } finally {
    rl.close();
    stream.destroy();
  }
  return t;
}
