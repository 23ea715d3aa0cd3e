// A recording → one gate: `connect`, each `send` with the messages that followed it as ordered
// expectations, streamed runs as `collect`, ids that come back as captures and ${var}s, and the
// session's side effects as `verify` steps. Values are written through values.ts, so nothing
// volatile is hard-coded.
import { isDeepStrictEqual } from 'node:util';
import type { Expectation, Matcher } from '../gates/common-schema.ts';
import { getPath } from '../matching/match.ts';
import type { Kinds } from '../matching/kinds.ts';
import { hasChanges, type ProjectChanges, type Recording } from './recording.ts';
import {
  escapeRefs,
  idLikeKey,
  leafMatcher,
  machineDetail,
  leaves,
  looksGenerated,
  looksVolatile,
  MAX_LITERAL,
  MIN_INSIDE,
  textMatcher,
  withVariables,
  count,
  type ValueContext,
  type VarBinding,
} from './values.ts';

export interface InferOptions {
  typeField: string;
  /** Streamed text is not pinned: a model-backed server words every reply differently. */
  looseText: boolean;
  /** Variable names already taken (built-ins, the target file's `vars:`). */
  reserved: Set<string>;
  /** The protocol's kind rules and reply ids (`--protocol`): kinds and request/reply pairs are known. */
  kinds?: Kinds;
  /** Kinds that are an error answer (the protocol's `error`, `CALLERROR`): a send forbids them only when such a kind exists. */
  errorKinds?: string[];
}

export type StepObject = Record<string, unknown>;

export interface Capture {
  name: string;
  /** Where it first appeared: `kind.path`. */
  source: string;
  uses: number;
}

export interface Inferred {
  id: string;
  title: string;
  steps: StepObject[];
  stats: Map<string, number>;
  captures: Capture[];
  /** Streamed runs turned into `collect`: kind.field, pieces, how the text is matched. */
  streams: { stream: string; pieces: number; text: 'pinned' | 'pattern' | 'loose' }[];
  verifies: string[];
  notes: string[];
  /** Comments above steps (by index): why a value was loosened. */
  comments?: [number, string[]][];
  /** Non-JSON frames recognised as keep-alive, not written as expected replies. */
  keepAlive?: string[];
}

interface InFrame {
  text: string;
  at: number;
  json: unknown;
  isJson: boolean;
}

type Unit =
  | { kind: 'connect'; conn: string }
  | { kind: 'exchange'; conn: string; out?: { text: string; at: number }; ins: InFrame[]; step: number }
  | { kind: 'changes'; changes: ProjectChanges; step: number }
  | { kind: 'close'; conn: string; by: 'client' | 'server'; code?: number; reason?: string };

function parseFrame(text: string, at: number): InFrame {
  try {
    return { text, at, json: JSON.parse(text), isJson: true };
  } catch {
    return { text, at, json: undefined, isJson: false };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Events → units: an exchange is a send and every frame its connection received until its next send. */
function unitsOf(rec: Recording): Unit[] {
  const units: Unit[] = [];
  const current = new Map<string, Extract<Unit, { kind: 'exchange' }>>();
  for (const e of rec.events) {
    if (e.kind === 'connect') {
      current.delete(e.conn);
      units.push(e);
    } else if (e.kind === 'out') {
      const u = { kind: 'exchange' as const, conn: e.conn, out: { text: e.text, at: e.at }, ins: [], step: 0 };
      current.set(e.conn, u);
      units.push(u);
    } else if (e.kind === 'in') {
      let u = current.get(e.conn);
      if (!u) {
        u = { kind: 'exchange', conn: e.conn, ins: [], step: 0 };
        current.set(e.conn, u);
        units.push(u);
      }
      u.ins.push(parseFrame(e.text, e.at));
    } else if (e.kind === 'changes') {
      if (hasChanges(e.changes)) units.push({ kind: 'changes', changes: e.changes, step: 0 });
    } else {
      current.delete(e.conn);
      units.push(e);
    }
  }
  return units;
}

function verifyCount(c: ProjectChanges): number {
  return c.files.length + (c.git ? 1 : 0) + (c.listings?.length ?? 0);
}

/** The kind by the protocol's rules when one was given, else by the type field. */
let protocolKinds: Kinds | undefined;
const kindOf = (f: InFrame, typeField: string): string | undefined => {
  if (!f.isJson) return undefined;
  if (protocolKinds) return protocolKinds.kindOf(f.json);
  const k = getPath(f.json, typeField);
  return typeof k === 'string' ? k : undefined;
};

/** Keep-alive words a server sends as plain text (tRPC's PING, many servers' pong). */
const KEEP_ALIVE = /^(ping|pong|heartbeat|hb|keep-?alive)$/i;

/** Non-JSON server frames that are keep-alive: a known word, or a short text that came again and again. */
function keepAliveFrames(rec: Recording): Set<string> {
  const seen = new Map<string, number>();
  for (const e of rec.events) {
    if (e.kind !== 'in' || e.text.length > 16 || /\s/.test(e.text)) continue;
    if (parseFrame(e.text, 0).isJson) continue;
    seen.set(e.text, (seen.get(e.text) ?? 0) + 1);
  }
  return new Set([...seen].filter(([t, n]) => KEEP_ALIVE.test(t) || n >= 3).map(([t]) => t));
}

function identifier(raw: string): string {
  const s = raw
    .replace(/[^A-Za-z0-9_]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))
    .replace(/^[^A-Za-z_]+/, '');
  return s || 'value';
}

/**
 * Ids the server made that the session used again later (sent back, or named by a message of a later
 * step): each is captured where it first appeared. Same-step reuse does not count: a capture is
 * usable from the next step on.
 */
function findCaptures(
  units: Unit[],
  rec: Recording,
  o: InferOptions,
): { bindings: VarBinding[]; at: Map<InFrame, Record<string, string>>; captures: Capture[] } {
  const first = new Map<string, { step: number; frame: InFrame; path: string; kind: string }>();
  const used = new Map<string, number>();
  const client = new Set<string>();
  const use = (v: string) => used.set(v, (used.get(v) ?? 0) + 1);
  const useIn = (s: string, step: number) => {
    const whole = first.get(s);
    if (whole) return void (whole.step < step && use(s));
    if (s.length < MIN_INSIDE || s.length > MAX_LITERAL) return;
    for (const [v, f] of first) if (f.step < step && v.length >= MIN_INSIDE && s.includes(v)) use(v);
  };
  for (const u of units) {
    if (u.kind !== 'exchange') continue;
    if (u.out) {
      const sent = parseFrame(u.out.text, u.out.at);
      const strings = isObject(sent.json)
        ? leaves(sent.json).flatMap(([, , v]) =>
            typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [],
          )
        : [u.out.text];
      for (const s of strings) {
        useIn(s, u.step);
        if (!first.has(s)) client.add(s);
      }
    }
    for (const f of u.ins) {
      if (!isObject(f.json)) continue;
      for (const [p, key, v] of leaves(f.json)) {
        if (typeof v !== 'string' || kindPaths(o).includes(p)) continue;
        useIn(v, u.step);
        const candidate =
          v.length >= 4 &&
          !client.has(v) &&
          v !== rec.project &&
          !rec.projectAliases?.includes(v) &&
          v !== rec.runId &&
          (idLikeKey(key) || looksGenerated(v));
        if (candidate && !first.has(v))
          first.set(v, { step: u.step, frame: f, path: p, kind: kindOf(f, o.typeField) ?? 'message' });
      }
    }
  }
  const taken = new Set(o.reserved);
  const bindings: VarBinding[] = [];
  const at = new Map<InFrame, Record<string, string>>();
  const captures: Capture[] = [];
  for (const [value, f] of first) {
    const uses = used.get(value);
    if (!uses) continue;
    const parts = f.path.split('.');
    const last = parts[parts.length - 1]!;
    let base = identifier(last === 'id' ? (parts.length > 1 ? `${parts[parts.length - 2]}Id` : `${f.kind}Id`) : last);
    if (base === 'id') base = 'capturedId';
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    taken.add(name);
    bindings.push({ name, value, from: f.step + 1 });
    at.set(f.frame, { ...(at.get(f.frame) ?? {}), [name]: f.path });
    captures.push({ name, source: `${f.kind}.${f.path}`, uses });
  }
  return { bindings, at, captures };
}

/** Which field of a run of same-kind messages carries the pieces, if it is a stream at all. */
function streamField(run: InFrame[], typeField: string): string | undefined {
  const objs = run.map((f) => f.json as Record<string, unknown>);
  const keys = Object.keys(objs[0]!).filter((k) => k !== typeField && objs.every((o) => typeof o[k] === 'string'));
  const stable = (o: Record<string, unknown>, field: string) =>
    Object.fromEntries(
      Object.entries(o).filter(
        ([k, v]) =>
          k !== field && (typeof v === 'boolean' || v === null || (typeof v === 'string' && !looksVolatile(v))),
      ),
    );
  const fields = keys.filter((k) => objs.every((o) => isDeepStrictEqual(stable(o, k), stable(objs[0]!, k))));
  if (!fields.length) return undefined;
  const differing = fields.filter((k) => new Set(objs.map((o) => o[k])).size > 1);
  const pool = differing.length ? differing : fields;
  return ['delta', 'text', 'content', 'chunk', 'token', 'data'].find((k) => pool.includes(k)) ?? pool[0];
}

/** The fields that name a frame's kind: not matched again (the expectation's `type:` says it). */
function kindPaths(o: InferOptions): string[] {
  return o.kinds ? o.kinds.rules.flatMap((r) => ('field' in r ? [r.field] : [])) : [o.typeField];
}

export function inferGate(rec: Recording, o: InferOptions): Inferred {
  protocolKinds = o.kinds;
  try {
    return infer(rec, o);
  } finally {
    protocolKinds = undefined;
  }
}

function infer(rec: Recording, o: InferOptions): Inferred {
  const keepAlive = keepAliveFrames(rec);
  // Keep-alive frames are not replies: the written file lets them pass instead (FileHead.keepAlive).
  const units = unitsOf(rec).filter((u) => {
    if (u.kind !== 'exchange') return true;
    u.ins = u.ins.filter((f) => f.isJson || !keepAlive.has(f.text));
    return u.out !== undefined || u.ins.length > 0;
  });
  let step = 0;
  for (const u of units) {
    if (u.kind === 'exchange') u.step = step;
    if (u.kind === 'changes') u.step = step;
    step += u.kind === 'changes' ? verifyCount(u.changes) : 1;
  }
  const { bindings, at: captureAt, captures } = findCaptures(units, rec, o);
  const stats = new Map<string, number>();
  const ctx: ValueContext = {
    ...(rec.project ? { project: rec.project } : {}),
    ...(rec.projectAliases ? { projectAliases: rec.projectAliases } : {}),
    ...(rec.runId ? { runId: rec.runId } : {}),
    vars: bindings,
    step: 0,
    clientValues: new Set(),
    clientNumbers: new Set(),
    stats,
  };
  // A number field varies when exchanges gave it different values (a counter across requests). Within
  // one exchange the values are a stream's own sequence (a countdown 3, 2, 1, 0): kept, in order.
  const sequences = new Map<string, Set<string>>();
  for (const u of units) {
    if (u.kind !== 'exchange') continue;
    const seq = new Map<string, unknown[]>();
    for (const f of u.ins) {
      if (!isObject(f.json)) continue;
      for (const [p, , v] of leaves(f.json))
        if (typeof v === 'number') {
          const key = `${kindOf(f, o.typeField)}|${p}`;
          seq.set(key, [...(seq.get(key) ?? []), v]);
        }
    }
    for (const [key, values] of seq) sequences.set(key, (sequences.get(key) ?? new Set()).add(JSON.stringify(values)));
  }
  const varying = { get: (key: string) => sequences.get(key) };
  // Without a protocol, `forbid: [error]` can fail only when the server's frames have kinds at all.
  const typed = rec.events.some((e) => e.kind === 'in' && kindOf(parseFrame(e.text, 0), o.typeField) !== undefined);
  const errorKinds = o.errorKinds ?? (typed ? ['error'] : []);
  const comments: [number, string[]][] = [];
  let pending: string[] = [];
  const streams: Inferred['streams'] = [];
  const verifies: string[] = [];

  const messageExpectation = (f: InFrame): Expectation => {
    if (!f.isJson) return { raw: textMatcher(f.text, ctx) };
    if (!isObject(f.json)) return { match: { $: leafMatcher(f.json, '', false, ctx) } };
    const kind = kindOf(f, o.typeField);
    const match: Record<string, Matcher> = {};
    for (const [p, key, v] of leaves(f.json)) {
      if (kindPaths(o).includes(p)) continue;
      const why = typeof v === 'string' && !ctx.clientValues.has(v) ? machineDetail(v, ctx) : undefined;
      if (why) {
        pending.push(`${p} of the ${kind ?? 'message'} is ${why}: not pinned, only its type is checked.`);
        count(ctx, 'machine detail');
        match[p] = { type: 'string' };
        continue;
      }
      match[p] = leafMatcher(v, key, (varying.get(`${kind}|${p}`)?.size ?? 0) > 1, ctx);
    }
    const capture = captureAt.get(f);
    return {
      ...(kind !== undefined ? { type: kind } : {}),
      ...(Object.keys(match).length ? { match } : {}),
      ...(capture ? { capture } : {}),
    };
  };

  const expectations = (ins: InFrame[]): Expectation[] => {
    // Runs of consecutive same-kind objects, decided right to left: a collect needs a following
    // message that is not itself collected (it ends the collect), or the wait would run to its deadline.
    const runs: { start: number; end: number; field?: string }[] = [];
    for (let i = 0; i < ins.length; ) {
      const k = kindOf(ins[i]!, o.typeField);
      let j = i + 1;
      while (k !== undefined && j < ins.length && isObject(ins[j]!.json) && kindOf(ins[j]!, o.typeField) === k) j++;
      runs.push({ start: i, end: j });
      i = j;
    }
    let nextCollected = true;
    for (let r = runs.length - 1; r >= 0; r--) {
      const run = runs[r]!;
      const frames = ins.slice(run.start, run.end);
      const hasNext = run.end < ins.length;
      if (
        frames.length >= 2 &&
        hasNext &&
        !nextCollected &&
        isObject(frames[0]!.json) &&
        !frames.some((f) => captureAt.has(f))
      ) {
        const field = streamField(frames, o.typeField);
        if (field) run.field = field;
      }
      nextCollected = run.field !== undefined;
    }
    const out: Expectation[] = [];
    for (const run of runs) {
      const frames = ins.slice(run.start, run.end);
      if (!run.field) {
        out.push(...frames.map(messageExpectation));
        continue;
      }
      const kind = kindOf(frames[0]!, o.typeField)!;
      const joined = frames.map((f) => (f.json as Record<string, unknown>)[run.field!] as string).join('');
      const loose = o.looseText || joined.length > MAX_LITERAL;
      const text: Matcher = loose ? { length: { gt: 0 } } : textMatcher(joined, ctx);
      if (joined.length === 0)
        out.push({ collect: kind, ...(run.field !== 'delta' ? { field: run.field } : {}), min: 1 });
      else out.push({ collect: kind, ...(run.field !== 'delta' ? { field: run.field } : {}), min: 1, text });
      streams.push({
        stream: `${kind}.${run.field}`,
        pieces: frames.length,
        text: loose ? 'loose' : typeof text === 'string' ? 'pinned' : 'pattern',
      });
      count(ctx, 'collect');
    }
    return out;
  };

  const sendValue = (text: string): unknown => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const keep = (s: string) => {
      if (!bindings.some((b) => b.value === s)) ctx.clientValues.add(s);
      // `${` the client typed is its own text: escaped, so the replay does not read it as a variable.
      return withVariables(escapeRefs(s), ctx);
    };
    const walk = (v: unknown): unknown => {
      if (typeof v === 'number') ctx.clientNumbers!.add(v);
      return typeof v === 'string'
        ? keep(v)
        : Array.isArray(v)
          ? v.map(walk)
          : isObject(v)
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
            : v;
    };
    return json !== null && typeof json === 'object' ? walk(json) : keep(text);
  };

  const steps: StepObject[] = [];
  const push = (s: StepObject) => {
    if (pending.length) comments.push([steps.length, pending]);
    pending = [];
    steps.push(s);
  };
  const on = (conn: string) => (conn === 'main' ? {} : { on: conn });
  /** After a stream (several answers to one call: started, data…, stopped), nothing more may come for its id. */
  const afterStream = (sent: string | undefined, ins: InFrame[], conn: string): StepObject | undefined => {
    const kinds = o.kinds;
    if (!kinds?.reply || sent === undefined) return undefined;
    const json = parseFrame(sent, 0).json;
    const id = json === undefined ? undefined : kinds.requestId(json);
    if (id === undefined || id === null || typeof id === 'object') return undefined;
    const field = kinds.reply.field;
    const answers = ins.filter(
      (f) => f.isJson && kinds.isReplyKind(kindOf(f, o.typeField)) && getPath(f.json, field) === id,
    );
    if (answers.length < 2) return undefined;
    const last = kindOf(answers[answers.length - 1]!, o.typeField);
    return {
      name: `nothing more for ${field} ${JSON.stringify(id)} after its ${last}`,
      expect: [{ none: { where: { [field]: id } }, for: '300ms' }],
      ...on(conn),
    };
  };
  for (const u of units) {
    if (u.kind === 'connect') {
      const main = u.conn === 'main' && (rec.connectUrl || rec.connectHeaders);
      push(
        main
          ? {
              connect: {
                name: u.conn,
                ...(rec.connectUrl ? { url: rec.connectUrl } : {}),
                ...(rec.connectHeaders ? { headers: rec.connectHeaders } : {}),
              },
            }
          : { connect: u.conn },
      );
    } else if (u.kind === 'close') {
      // The server's close code is part of what it did (1006: it dropped the socket without one).
      const how =
        u.code !== undefined ? { code: u.code, ...(u.reason ? { reason: textMatcher(u.reason, ctx) } : {}) } : {};
      push({ close: u.by === 'server' ? { on: u.conn, by: 'server', ...how } : u.conn });
    } else if (u.kind === 'exchange') {
      ctx.step = u.step;
      const step: StepObject = {};
      if (u.out) step.send = sendValue(u.out.text);
      let streamEnd: StepObject | undefined;
      if (u.ins.length) {
        step.expect = expectations(u.ins);
        Object.assign(step, on(u.conn));
        // Only kinds a frame can have: `forbid: [error]` on a protocol without `error` could never fail.
        if (errorKinds.length && !u.ins.some((f) => errorKinds.includes(kindOf(f, o.typeField) ?? '')))
          step.forbid = [...errorKinds];
        streamEnd = afterStream(u.out?.text, u.ins, u.conn);
        // A reply that took long when recorded gets twice that, above the default deadline.
        const took = u.out ? u.ins[u.ins.length - 1]!.at - u.out.at : 0;
        if (took > 2500) step.within = `${Math.ceil((took * 2) / 1000)}s`;
      } else Object.assign(step, on(u.conn));
      push(step);
      if (streamEnd) push(streamEnd);
    } else {
      ctx.step = u.step;
      for (const f of u.changes.files) {
        const file = withVariables(f.path, ctx);
        const check: Record<string, unknown> = { file };
        if (!f.exists) check.exists = false;
        else if (f.text !== undefined) check.content = textMatcher(f.text, ctx);
        else if (f.sha256) check.sha256 = f.sha256;
        if (f.exists && f.changed) check.changed = true;
        push({
          name: `${f.path} ${f.exists ? 'as the session left it' : 'is gone, as the session left it'}`,
          verify: check,
        });
        verifies.push(
          `${f.path}: ${!f.exists ? 'absent' : f.text !== undefined ? 'content' : 'sha256'}${f.changed ? ', changed' : ''}`,
        );
        ctx.step++;
      }
      for (const l of u.changes.listings ?? []) {
        push({ verify: { dir: l.dir, listing: l.entries.map((e) => withVariables(e, ctx)) } });
        verifies.push(`listing of ${l.dir} (${l.entries.length} entries)`);
        ctx.step++;
      }
      if (u.changes.git) {
        const g = u.changes.git;
        const git: Record<string, unknown> = {};
        if (g.headMoved !== undefined) git.headMoved = g.headMoved;
        if (g.lastMessage !== undefined) git.lastMessage = textMatcher(g.lastMessage, ctx);
        if (g.status) git.status = g.status.map((p) => withVariables(p, ctx));
        if (g.clean !== undefined) git.clean = g.clean;
        push({ verify: { git } });
        verifies.push(`git ${Object.keys(git).join(', ')}`);
        ctx.step++;
      }
    }
  }
  return {
    id: rec.id,
    title: rec.title,
    steps,
    stats,
    captures,
    streams,
    verifies,
    notes: rec.notes,
    ...(comments.length ? { comments } : {}),
    ...(keepAlive.size ? { keepAlive: [...keepAlive] } : {}),
  };
}
