// Evidence of one run, written as it happens (the transcript streams to disk, it is never held
// in memory): every frame, every process's output, every verify observation, then result.json
// and a manifest of sha256 hashes whose own hash is the run's evidence digest. The folder is 0700 and
// every file 0600, created new (O_EXCL: never written through a link or over a file already there):
// evidence holds frames, command output and file contents of the user's project.
import { createHash } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  type WriteStream,
} from 'node:fs';
import { ensureDirSync, outputFileSync } from 'fs-extra/esm';
import path from 'node:path';
import type { EvidenceSink } from '../types/evidence-sink.ts';
import type { ConnectionEvent, Frame } from '../types/frames.ts';
import { sign, SIGNATURE_FILE } from './signing.ts';

/** A frame's text is kept whole up to this size in the transcript; past it, its start and its size. */
export const TRANSCRIPT_FRAME_MAX = 16 * 1024 * 1024;
/** Past this many characters of frame text in one run, frames are recorded by size only. */
export const TRANSCRIPT_MAX = 512 * 1024 * 1024;

export const MANIFEST = 'manifest.json';

export interface Manifest {
  schemaVersion: 1;
  runId: string;
  files: { path: string; sha256: string; bytes: number }[];
}

export type Redactor = (text: string) => string;

function redactValues(v: unknown, redact: Redactor): unknown {
  if (typeof v === 'string') return redact(v);
  if (Array.isArray(v)) return v.map((x) => redactValues(x, redact));
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValues(x, redact)]));
  return v;
}

/**
 * Created here or not at all: an existing file or link at the path is an error, not a target
 * (O_CREAT|O_EXCL, which also refuses a dangling link). fs-extra's outputFile passes these on to the
 * open and makes a missing subfolder; its outputJson is not used: the text must be redacted whole
 * after JSON.stringify (a secret in a key or a number), which outputJson does not let happen.
 */
const NEW_FILE = { flag: 'wx', mode: 0o600 } as const;

function newStream(file: string): WriteStream {
  const s = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  // Only a file planted in the run's own fresh folder could cause this: say so, do not crash.
  s.on('error', (e) => process.stderr.write(`wsgate: evidence file ${file} not written: ${e.message}\n`));
  return s;
}

/** Settles when the stream's queued writes have drained, or it can no longer write. */
function drained(s: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done).off('error', done).off('close', done);
      resolve();
    };
    s.on('drain', done).on('error', done).on('close', done);
  });
}

export class EvidenceWriter implements EvidenceSink {
  private transcript: WriteStream;
  private observations: WriteStream;
  private logs = new Map<string, WriteStream>();

  constructor(
    readonly dir: string,
    private readonly redact: Redactor = (t) => t,
    /** The key read from WSGATE_SIGNING_KEY_FILE: the manifest is signed with it (manifest.sig). */
    private readonly signingKey?: string,
    /**
     * Told when the transcript's writes queue past the stream's high-water mark, with a promise that
     * settles when they drain: the run's connections stop reading until then (the run's memory budget),
     * so a slow disk slows the run instead of filling memory.
     */
    private readonly backpressure: (drained: Promise<void>) => void = () => {},
  ) {
    ensureDirSync(path.join(dir, 'logs'), { mode: 0o700 });
    this.transcript = newStream(path.join(dir, 'transcript.jsonl'));
    this.observations = newStream(path.join(dir, 'observations.jsonl'));
  }

  // A frame's line is put together by hand, with the same keys in the same order as JSON.stringify of
  // {at, conn, dir, step, seq?, text, truncated?}: building and stringifying an object per frame was the
  // CLI's largest cost on a fast stream after parsing. The ISO time needs no escaping; conn and step are
  // escaped once while they stay the same.
  frameIn(conn: string, frame: Frame, step: string): void {
    this.line(
      `{"at":"${this.iso(frame.at)}",${this.names(conn, step, 'in')},"seq":${frame.seq},${this.kept(frame.text)}}\n`,
    );
  }

  frameOut(conn: string, text: string, at: number, step: string): void {
    this.line(`{"at":"${this.iso(at)}",${this.names(conn, step, 'out')},${this.kept(text)}}\n`);
  }

  private namesKey = '';
  private namesJson = '';

  private names(conn: string, step: string, dir: 'in' | 'out'): string {
    const key = `${conn}\u0000${step}\u0000${dir}`;
    if (key !== this.namesKey) {
      this.namesKey = key;
      this.namesJson = `"conn":${JSON.stringify(conn)},"dir":"${dir}","step":${JSON.stringify(step)}`;
    }
    return this.namesJson;
  }

  /** The socket opened (subprotocol, upgrade headers) or closed (code, reason): lines of their own. */
  event(conn: string, ev: ConnectionEvent, at: number, step: string): void {
    this.line(JSON.stringify(redactValues({ at: this.iso(at), conn, dir: 'event', step, ...ev }, this.redact)) + '\n');
  }

  private textChars = 0;

  /** A flooding server must not fill the disk: frame text is capped per frame and per run. Returns `"text":…[,"truncated":n]`. */
  private kept(text: string): string {
    this.textChars += text.length;
    const max = this.textChars > TRANSCRIPT_MAX ? 200 : TRANSCRIPT_FRAME_MAX;
    if (text.length <= max) return `"text":${JSON.stringify(this.redact(text))}`;
    return `"text":${JSON.stringify(this.redact(text.slice(0, max)))},"truncated":${text.length}`;
  }

  // Transcript lines are joined into one write per ~64 KB (or per event-loop turn, whichever comes
  // first) instead of one stream write (one Buffer, one queued request) each: measured on a
  // 300,000-frame stream, the CLI's transcript CPU fell from ~1.4 s to ~0.8 s (bench/). Same order,
  // same bytes; finish() flushes what is left.
  private pending: string[] = [];
  private pendingChars = 0;
  private flushQueued = false;

  private line(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= 64 * 1024) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.pending.length === 0) return;
    // Past the stream's high-water mark, every connection stops reading until the disk catches up.
    if (!this.transcript.write(this.pending.join(''))) this.backpressure(drained(this.transcript));
    this.pending = [];
    this.pendingChars = 0;
  }

  // Frames of a fast stream share their millisecond: one ISO string per millisecond, not per frame.
  private lastAt = NaN;
  private lastIso = '';

  private iso(at: number): string {
    if (at !== this.lastAt) {
      this.lastAt = at;
      this.lastIso = new Date(at).toISOString();
    }
    return this.lastIso;
  }

  stderr(source: string, text: string): void {
    // Redacted first: the source names a started command line, which may carry a secret, and the
    // file name would show it in logs/ and in manifest.json.
    const name =
      this.redact(source)
        .replace(/[^A-Za-z0-9_.#-]+/g, '_')
        .slice(0, 80) + '.log';
    let s = this.logs.get(name);
    if (!s) {
      s = newStream(path.join(this.dir, 'logs', name));
      this.logs.set(name, s);
    }
    s.write(this.redact(text));
  }

  observe(step: string, name: string, data: unknown): void {
    // Redact the values before JSON escapes them: a secret holding a quote would no longer match after.
    this.observations.write(
      JSON.stringify(redactValues({ at: new Date().toISOString(), step, name, data }, this.redact)) + '\n',
    );
  }

  writeFile(name: string, content: string): void {
    outputFileSync(path.join(this.dir, name), this.redact(content), NEW_FILE);
  }

  /** A JSON file of the run (variables, environment, result), two-space indented, redacted as text. */
  writeJson(name: string, value: unknown): void {
    this.writeFile(name, JSON.stringify(value, null, 2) + '\n');
  }

  private async closeStreams(): Promise<void> {
    this.flush();
    const all = [this.transcript, this.observations, ...this.logs.values()];
    await Promise.all(all.map((s) => new Promise<void>((r) => s.end(r))));
  }

  /** Close every stream, then hash every file into the manifest; returns the evidence digest. */
  async finish(runId: string): Promise<string> {
    await this.closeStreams();
    const manifest = buildManifest(this.dir, runId);
    const text = JSON.stringify(manifest, null, 2) + '\n';
    outputFileSync(path.join(this.dir, MANIFEST), text, NEW_FILE);
    if (this.signingKey)
      outputFileSync(path.join(this.dir, SIGNATURE_FILE), JSON.stringify(sign(this.signingKey, text)) + '\n', NEW_FILE);
    return evidenceDigest(this.dir);
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else if (rel !== MANIFEST && rel !== SIGNATURE_FILE) out.push(rel);
  }
  return out.sort();
}

/**
 * Hashed in 1 MB reads, never the whole file at once: reading the transcript of a 1,000,000-frame
 * stream whole to hash it (~150 MB) was the CLI's peak RSS, at the very end of an otherwise flat run.
 */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export function buildManifest(dir: string, runId: string): Manifest {
  return {
    schemaVersion: 1,
    runId,
    files: listFiles(dir).map((p) => ({
      path: p,
      sha256: sha256File(path.join(dir, p)),
      bytes: statSync(path.join(dir, p)).size,
    })),
  };
}

export function evidenceDigest(dir: string): string {
  return 'sha256:' + sha256File(path.join(dir, MANIFEST));
}

/** Files whose hash no longer matches the manifest (or that appeared or vanished). */
export function verifyEvidence(dir: string): { ok: boolean; problems: string[] } {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return { ok: false, problems: ['manifest.json is missing or not JSON'] };
  }
  const problems: string[] = [];
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const f of manifest.files) {
    try {
      if (sha256File(path.join(dir, f.path)) !== f.sha256) problems.push(`${f.path} changed`);
    } catch {
      problems.push(`${f.path} is missing`);
    }
  }
  for (const p of listFiles(dir)) if (!listed.has(p)) problems.push(`${p} is not in the manifest`);
  return { ok: problems.length === 0, problems };
}

/** Whether one file still has the hash the manifest gives it (a cheap check of result.json). */
export function fileMatchesManifest(dir: string, rel: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
    const entry = manifest.files.find((f) => f.path === rel);
    return entry !== undefined && sha256File(path.join(dir, rel)) === entry.sha256;
  } catch {
    return false;
  }
}
