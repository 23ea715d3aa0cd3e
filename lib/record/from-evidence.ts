// `wsgate record --from RUN_DIR`: the evidence of an earlier run read as recordings, one per gate
// of that run. transcript.jsonl gives the frames (each line names its connection and the step it
// travelled in); observations.jsonl what the run's verify steps saw on disk and in git;
// variables.json the run's project folder and run id; gates.resolved.yaml which checks those verify
// steps made (e.g. whether a file had to be written during the gate) and the type field.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { EXIT, HarnessFailure } from '../errors.ts';
import { isInside } from '../util/paths.ts';
import { statusClaimPaths } from '../matching/claims.ts';
import { MAX_LITERAL } from './values.ts';
import type { FileChange, GitChange, ProjectChanges, RecEvent, Recording } from './recording.ts';

interface TranscriptLine {
  at: string;
  conn: string;
  /** `event`: the socket opened or closed (`event`, `byClient`, close `code`). */
  dir: 'in' | 'out' | 'event';
  step: string;
  text: string;
  /** The frame's real length when the transcript kept only its start. */
  truncated?: number;
  event?: string;
  byClient?: boolean;
  code?: number;
  reason?: string;
}

interface Observation {
  step: string;
  name: string;
  data: Record<string, unknown>;
}

export interface EvidenceSource {
  dir: string;
  runId?: string;
  project?: string;
  typeField?: string;
  recordings: Recording[];
  /** Gates of the run that sent no frame (HTTP or run steps only): nothing to record. */
  skipped: string[];
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readLines<T>(file: string, what: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((l, i) => {
      if (!l.trim()) return;
      try {
        out.push(JSON.parse(l) as T);
      } catch {
        throw new HarnessFailure(
          [{ code: 'USAGE', title: `${file}:${i + 1}: not a JSON line of a ${what}` }],
          EXIT.usage,
        );
      }
    });
  return out;
}

/** "write-file#4" → ["write-file", 4]. */
function stepOf(id: string): [string, number] {
  const i = id.lastIndexOf('#');
  return i < 0 ? [id || 'recorded', 0] : [id.slice(0, i), Number(id.slice(i + 1)) || 0];
}

/** A connection label as a gate connection name (`clients#3` → `clients-3`). */
const connName = (label: string) => label.replace(/[^A-Za-z0-9_-]+/g, '-') || 'main';

type GateSource = { id: string; steps?: Record<string, unknown>[] };

/** The verify parameters of step `n` (1-based) of a gate in the run's gates file, if readable. */
function verifyParams(gates: GateSource[], gate: string, n: number): Record<string, unknown> | undefined {
  const step = gates.find((g) => g.id === gate)?.steps?.[n - 1];
  const v = step?.verify;
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
}

function changesOf(
  obs: Observation,
  gates: GateSource[],
  project: string | undefined,
  notes: string[],
): ProjectChanges | undefined {
  const [gate, n] = stepOf(obs.step);
  const d = obs.data;
  const params = verifyParams(gates, gate, n);
  const rel = (p: string) =>
    project && isInside(p, project) ? path.relative(project, p).split(path.sep).join('/') || '.' : undefined;
  if (typeof d.path === 'string' && typeof d.exists === 'boolean') {
    const file = rel(d.path);
    if (file === undefined) {
      notes.push(`step ${obs.step} checked ${d.path}, outside the project folder: not recorded`);
      return undefined;
    }
    const f: FileChange = { path: file, exists: d.exists, changed: params?.changed === true };
    if (d.exists) {
      const content = typeof d.content === 'string' ? d.content : undefined;
      // observations.jsonl keeps at most 4 KB of content; a longer file is known by its hash.
      if (
        content !== undefined &&
        typeof d.size === 'number' &&
        d.size <= MAX_LITERAL &&
        Buffer.byteLength(content) === d.size
      )
        f.text = content;
      else if (typeof d.sha256 === 'string') f.sha256 = d.sha256;
    }
    return { files: [f] };
  }
  if (typeof d.dir === 'string' && Array.isArray(d.real)) {
    const dir = rel(d.dir);
    if (dir === undefined) return undefined;
    return { files: [], listings: [{ dir, entries: (d.real as unknown[]).map(String) }] };
  }
  if ('gitStatus' in d || 'lastMessage' in d || 'head' in d) {
    const g = (params?.git ?? {}) as Record<string, unknown>;
    const git: GitChange = {};
    if (typeof d.gitStatus === 'string') {
      const paths = statusClaimPaths(d.gitStatus);
      if ('clean' in g) git.clean = paths.length === 0;
      if ('status' in g) git.status = paths;
    }
    if (typeof d.lastMessage === 'string') git.lastMessage = d.lastMessage;
    if ('head' in d && typeof g.headMoved === 'boolean') git.headMoved = g.headMoved;
    return Object.keys(git).length ? { files: [], git } : undefined;
  }
  notes.push(`step ${obs.step} (${obs.name}) is not a connection or a verify step: not recorded`);
  return undefined;
}

export function readEvidence(input: string): EvidenceSource {
  const abs = path.resolve(input);
  if (!existsSync(abs))
    throw new HarnessFailure(
      [
        {
          code: 'USAGE',
          title: `--from ${input}: no such run folder or transcript`,
          hint: 'give a run folder (e.g. .wsgate/runs/<time>-<run id>) or its transcript.jsonl',
        },
      ],
      EXIT.usage,
    );
  const isDir = statSync(abs).isDirectory();
  const dir = isDir ? abs : path.dirname(abs);
  const transcript = isDir ? path.join(abs, 'transcript.jsonl') : abs;
  if (!existsSync(transcript))
    throw new HarnessFailure(
      [
        {
          code: 'USAGE',
          title: `--from ${input}: no transcript.jsonl in that folder`,
          hint: 'a run folder holds transcript.jsonl, observations.jsonl and result.json',
        },
      ],
      EXIT.usage,
    );
  const lines = readLines<TranscriptLine>(transcript, 'transcript');
  for (const [i, l] of lines.entries()) {
    const frame = (l.dir === 'in' || l.dir === 'out') && typeof l.text === 'string';
    if (typeof l.conn !== 'string' || !(frame || l.dir === 'event'))
      throw new HarnessFailure(
        [
          {
            code: 'USAGE',
            title: `${transcript}:${i + 1}: a transcript line needs conn, and dir in/out with text, or dir event`,
          },
        ],
        EXIT.usage,
      );
  }
  const observations = readLines<Observation>(path.join(dir, 'observations.jsonl'), 'observations file');
  const vars = readJson<Record<string, string>>(path.join(dir, 'variables.json')) ?? {};
  const env = readJson<{ project?: string }>(path.join(dir, 'environment.json')) ?? {};
  const result = readJson<{ runId?: string; gates?: { id: string; title: string; status: string }[] }>(
    path.join(dir, 'result.json'),
  );
  let gates: GateSource[] = [];
  let typeField: string | undefined;
  try {
    const doc = YAML.parse(readFileSync(path.join(dir, 'gates.resolved.yaml'), 'utf8')) as {
      gates?: GateSource[];
      defaults?: { typeField?: string };
    };
    gates = Array.isArray(doc?.gates) ? doc.gates : [];
    typeField = doc?.defaults?.typeField;
  } catch {
    /* a bare transcript: no verify details */
  }
  const project = vars.PROJECT ?? env.project;
  const runId = vars.RUN_ID ?? result?.runId;

  const byGate = new Map<string, { lines: TranscriptLine[]; obs: Observation[] }>();
  const entry = (g: string) => byGate.get(g) ?? byGate.set(g, { lines: [], obs: [] }).get(g)!;
  for (const l of lines) entry(stepOf(l.step ?? '')[0]).lines.push(l);
  const skipped = new Set<string>();
  for (const o of observations) {
    const g = stepOf(o.step)[0];
    if (byGate.has(g)) entry(g).obs.push(o);
    else skipped.add(g);
  }

  const recordings: Recording[] = [];
  for (const [gate, { lines: gl, obs }] of byGate) {
    const notes: string[] = [];
    const events: RecEvent[] = [];
    const seen = new Set<string>();
    let o = 0;
    // What a verify step saw goes after the frames of the steps before it.
    const flushObs = (beforeStep: number) => {
      for (; o < obs.length && stepOf(obs[o]!.step)[1] < beforeStep; o++) {
        const c = changesOf(obs[o]!, gates, project, notes);
        if (c) events.push({ kind: 'changes', changes: c });
      }
    };
    for (const l of gl) {
      flushObs(stepOf(l.step ?? '')[1]);
      const conn = connName(l.conn);
      if (!seen.has(conn)) {
        seen.add(conn);
        events.push({ kind: 'connect', conn });
      }
      if (l.dir === 'event') {
        // A close the harness asked for is a close step or the gate's end, which the transcript does
        // not tell apart; a close by the server is something the gate must expect.
        if (l.event === 'close' && l.byClient === false)
          events.push({
            kind: 'close',
            conn,
            by: 'server',
            ...(typeof l.code === 'number' ? { code: l.code } : {}),
            ...(typeof l.reason === 'string' ? { reason: l.reason } : {}),
          });
      } else if (l.truncated !== undefined) {
        notes.push(
          `a frame ${l.dir === 'in' ? 'received' : 'sent'} in step ${l.step} was cut in the transcript (${l.truncated} characters): ${l.dir === 'in' ? 'not expected' : 'not sent'} by the recorded gate`,
        );
      } else events.push({ kind: l.dir, conn, text: l.text, at: Date.parse(l.at) || 0 });
    }
    flushObs(Infinity);
    const info = result?.gates?.find((g) => g.id === gate);
    if (info && info.status !== 'passed')
      notes.push(`gate ${gate} ${info.status} in that run: the recorded gate expects what the server did then`);
    if (gl.some((l) => typeof l.text === 'string' && l.text.includes('***')))
      notes.push(`gate ${gate}: the transcript holds redacted secrets (***), recorded as they are`);
    recordings.push({
      id: gate,
      title: `Recorded from gate ${gate}${info?.title ? `: ${info.title}` : ''}`,
      ...(project ? { project } : {}),
      ...(runId ? { runId } : {}),
      events,
      notes,
    });
  }
  if (!project)
    recordings.forEach((r) =>
      r.notes.push('the run folder names no project folder (variables.json): paths are recorded as they are'),
    );
  return {
    dir,
    ...(runId ? { runId } : {}),
    ...(project ? { project } : {}),
    ...(typeField ? { typeField } : {}),
    recordings,
    skipped: [...skipped],
  };
}
