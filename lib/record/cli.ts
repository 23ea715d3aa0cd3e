// `wsgate record`: a manual wscat session (or the evidence of an earlier run) turned into a gate.
// The project folder and the embedded server are set up exactly as `wsgate run` sets them up.
import path from 'node:path';
import { parseTarget } from '../cli/args.ts';
import { defineCommand, type CommandInput } from '../cli/command.ts';
import { HELP, list, on, parsed, text, usageFlags, type FlagValues, type Parse } from '../cli/flags.ts';
import { parseDuration } from '../gates/duration.ts';
import { EXIT, HarnessFailure, didYouMean } from '../errors.ts';
import { startEmbeddedTarget, type EmbeddedServer } from '../runner/embedded.ts';
import { onInterrupt } from '../cli/interrupt.ts';
import { prepareProject, removeOwned } from '../runner/project.ts';
import { wscatBinPath } from '../wscat/connection.ts';
import { readEvidence } from './from-evidence.ts';
import { inferGate, type Inferred } from './infer.ts';
import { recordLive } from './live.ts';
import type { Recording } from './recording.ts';
import { summaryLines } from './summary.ts';
import { freeId, gatesText, readTarget, writeGatesFile, type Target } from './write.ts';
import { resolveProtocol } from '../gates/load.ts';
import { loadProtocol, isShippedProtocol, type Protocol } from '../protocol/index.ts';
import { termText } from '../reporters/term-safe.ts';
import { connectHeaders, connectUrl } from './url.ts';
import { detectProtocol } from './detect.ts';

/** A reply's deadline: a duration (500ms, 5s) or a number of milliseconds. */
const duration: Parse<number> = (raw, refuse, flag) => {
  try {
    const ms = parseDuration(/^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw);
    if (ms > 0) return ms;
  } catch {
    /* below */
  }
  throw refuse(`${flag} expects a duration such as 500ms, 5s or a number of milliseconds, got "${raw}"`);
};

/** Flags of both forms: a live session and --from. */
const SHARED_FLAGS = {
  out: text(
    'out',
    'FILE',
    'gates file to write (default ./gates.yaml); an existing one gets the gate\nappended, its text untouched',
  ),
  gates: list(
    'gate',
    'ID',
    'id of the new gate (default: recorded; -2, -3… if taken). With --from: take\nonly this gate of the run (repeatable)',
    (g, refuse, flag) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(g))
        throw refuse(`${flag} ${g}: an id is letters, digits, ".", "_" and "-", starting with a letter or digit`);
      return g;
    },
  ),
  typeField: text('type-field', 'NAME', "the field naming a message's kind (default: the gates file's, else type)"),
  looseText: on('loose-text', 'do not pin the text of streamed replies (a model words them anew each time)'),
  protocol: text(
    'protocol',
    'FILE|wsgate:NAME',
    'the protocol the server speaks (e.g. wsgate:trpc): message kinds, error\nkinds and request/reply ids come from it, and a new gates file names it',
  ),
};

/** Flags of a live session only. */
const SESSION_FLAGS = {
  until: list('until', 'KIND', 'a message kind that ends a reply (e.g. message_complete; repeatable)'),
  idleMs: parsed('idle', 'MS', 'a reply has ended after this long without a frame (default 500ms)', 500, duration),
  waitMs: parsed('wait', 'MS', 'longest wait for one reply (default 10s)', 10_000, duration),
  keep: on('keep', 'keep the temp project folder and server data'),
  headers: list(
    'header',
    "'NAME: VALUE'",
    'an HTTP header of the handshake (repeatable); kept in the connect step,\nsecret-looking ones (Authorization, Cookie, *-Token, *-Key) as ${env.NAME}',
    (h, refuse, flag) => {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(h);
      if (!m) throw refuse(`${flag} ${h}: a header is NAME: VALUE`);
      return [m[1]!, m[2]!] as [string, string];
    },
  ),
  git: on(
    'git',
    'make PATH a git repository (git init) if it is not one, so commits are recorded\n(without it no folder is made a repository)',
  ),
};

export const RECORD_FLAGS = {
  ...SHARED_FLAGS,
  from: text(
    'from',
    'RUN_DIR|TRANSCRIPT',
    "record from a run's evidence folder (or its\ntranscript.jsonl) instead of a live session",
  ),
  ...SESSION_FLAGS,
  help: HELP,
};

export const RECORD_USAGE = `usage: wsgate record [URL] [PATH] ${usageFlags({ ...SHARED_FLAGS, ...SESSION_FLAGS })}
       wsgate record --from ${RECORD_FLAGS.from.value} ${usageFlags(SHARED_FLAGS)}`;

type RecordArgs = FlagValues<typeof RECORD_FLAGS> & { url?: string; project?: string };

/** The usage error of `wsgate record` (its usage line as the hint). */
const usage = (message: string) => RECORD.refuse(message);

/** The flags and the target, after the checks that span several of them. */
function recordArgs(v: FlagValues<typeof RECORD_FLAGS>, positionals: string[]): RecordArgs {
  if (v.from !== undefined && positionals.length) throw usage('--from records from a run: give no URL or PATH with it');
  if (v.from === undefined && v.gates.length > 1)
    throw usage('--gate names the one gate a session records (several only with --from)');
  return { ...parseTarget(positionals, usage), ...v };
}

/** The type field the written gates will be read with: an existing file's, which --type-field must agree with. */
function typeFieldFor(args: RecordArgs, target: Target, fallback?: string): string {
  const fileField = target.doc ? (target.typeField ?? 'type') : undefined;
  if (fileField && args.typeField && args.typeField !== fileField)
    throw usage(
      `--type-field ${args.typeField}: ${path.basename(target.file)} reads message kinds from "${fileField}"`,
    );
  return fileField ?? args.typeField ?? fallback ?? 'type';
}

interface ProtocolChoice {
  /** As a new gates file names it: wsgate:NAME, or a path relative to the file. */
  ref: string;
  protocol: Protocol;
}

/** --protocol, or the target file's `protocol:`; the two must agree. Loaded, so its kinds are known. */
function protocolFor(args: RecordArgs, target: Target): ProtocolChoice | undefined {
  const given = args.protocol;
  if (given === undefined && target.protocol === undefined) return undefined;
  const file =
    given !== undefined
      ? given.startsWith('wsgate:')
        ? resolveProtocol(given, target.file)
        : path.resolve(given)
      : resolveProtocol(target.protocol!, target.file);
  if (given !== undefined && target.protocol !== undefined && resolveProtocol(target.protocol, target.file) !== file) {
    throw usage(`--protocol ${given}: ${path.basename(target.file)} already names protocol ${target.protocol}`);
  }
  const r = loadProtocol(file, { checkDocument: !isShippedProtocol(file) });
  if (!r.ok) throw usage(`--protocol ${given ?? target.protocol}: ${r.errors[0]!.title}`);
  const ref =
    given === undefined
      ? target.protocol!
      : given.startsWith('wsgate:')
        ? given
        : path.relative(path.dirname(target.file), file).split(path.sep).join('/');
  return { ref, protocol: r.protocol };
}

/** Inference options a protocol adds: its kinds, and which of them are error answers. */
function protocolOptions(p: ProtocolChoice | undefined): { kinds?: Protocol['kinds']; errorKinds?: string[] } {
  if (!p) return {};
  return { kinds: p.protocol.kinds, errorKinds: p.protocol.incomingTypes.filter((k) => /error/i.test(k)) };
}

function write(
  target: Target,
  gates: Inferred[],
  comment: string,
  typeField: string,
  p: ProtocolChoice | undefined,
): void {
  const created = !target.doc;
  const keepAlive = [...new Set(gates.flatMap((g) => g.keepAlive ?? []))];
  if (keepAlive.length && !created)
    gates[gates.length - 1]!.notes.push(
      `the server sent ${keepAlive.join(', ')} as keep-alive: add defaults: {nonJson: {allow: [${keepAlive.map((k) => JSON.stringify(k)).join(', ')}]}} to ${path.basename(target.file)} if steps must let it pass`,
    );
  writeGatesFile(
    target,
    gatesText(target, gates, comment, {
      typeField,
      ...(p ? { protocol: p.ref } : {}),
      ...(keepAlive.length ? { keepAlive } : {}),
    }),
  );
  process.stdout.write(summaryLines(gates, target.file, created).join('\n') + '\n');
}

function fromEvidence(args: RecordArgs, target: Target): number {
  const source = readEvidence(args.from!);
  let recs = source.recordings;
  if (args.gates.length) {
    const ids = recs.map((r) => r.id);
    for (const g of args.gates) {
      if (!ids.includes(g)) {
        const guess = didYouMean(g, ids);
        throw usage(
          `--gate ${g}: the run sent no frame in a gate of that id${guess ? ` (did you mean "${guess}"?)` : ids.length ? ` (it has: ${ids.join(', ')})` : ''}`,
        );
      }
    }
    recs = recs.filter((r) => args.gates.includes(r.id));
  }
  if (!recs.length) throw usage(`--from ${args.from}: the run holds no WebSocket frames to record`);
  const typeField = typeFieldFor(args, target, source.typeField);
  const p = protocolFor(args, target);
  const gates = recs.map((r) =>
    inferGate(
      { ...r, id: freeId(r.id, target.ids) },
      { typeField, looseText: args.looseText, reserved: target.reservedVars, ...protocolOptions(p) },
    ),
  );
  const skipped = args.gates.length ? [] : source.skipped;
  if (skipped.length)
    gates[gates.length - 1]!.notes.push(`gates with no WebSocket frames were not recorded: ${skipped.join(', ')}`);
  write(
    target,
    gates,
    `recorded by wsgate record from the evidence of run ${source.runId ?? '?'} in ${source.dir}`,
    typeField,
    p,
  );
  return EXIT.passed;
}

/** A sent frame's kind: by the protocol, else the type field, else a usual kind field (method, event, …). */
function sentKind(text: string, typeField: string, p: ProtocolChoice | undefined): string {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return 'raw line';
  }
  const byProtocol = p?.protocol.kindOf(j);
  if (byProtocol) return byProtocol;
  if (j === null || typeof j !== 'object' || Array.isArray(j)) return 'message';
  const o = j as Record<string, unknown>;
  const k = [typeField, 'type', 'method', 'event', 'op', 'action'].map((f) => o[f]).find((v) => typeof v === 'string');
  return typeof k === 'string' ? k : 'message';
}

function sessionTitle(rec: Recording, typeField: string, p: ProtocolChoice | undefined): string {
  const kinds: string[] = [];
  for (const e of rec.events) {
    if (e.kind !== 'out') continue;
    const k = sentKind(e.text, typeField, p);
    const last = kinds[kinds.length - 1];
    const m = last && /^(.*?)(?: ×(\d+))?$/.exec(last);
    if (m && m[1] === k) kinds[kinds.length - 1] = `${k} ×${Number(m[2] ?? 1) + 1}`;
    else kinds.push(k);
  }
  return kinds.length ? `Recorded session: ${kinds.join(', ')}` : 'Recorded session: connect';
}

async function live(args: RecordArgs, target: Target): Promise<number> {
  if (!wscatBinPath())
    throw new HarnessFailure(
      [
        {
          code: 'WSCAT_MISSING',
          title: 'wscat is not installed',
          hint: 'run `npm ci` in the wsgate folder (wscat is a local dependency)',
        },
      ],
      EXIT.harness,
    );
  const typeField = typeFieldFor(args, target);
  let p = protocolFor(args, target);
  // No folder becomes a repository unless asked: the server's data folder is the server's.
  const project = await prepareProject(args.project, { git: args.git });
  const controller = new AbortController();
  const offInterrupt = onInterrupt(controller);
  let server: EmbeddedServer | undefined;
  try {
    if (!args.url) server = await startEmbeddedTarget(project.path, args.keep);
    const url = args.url ?? server!.url;
    const interactive = Boolean(process.stdin.isTTY);
    process.stdout.write(
      `wsgate record · ${termText(url)}${server ? ' (embedded reference server)' : ''}\nproject ${termText(project.path)}${server ? ' (send it as projectPath)' : ''} · the gate goes to ${termText(path.relative(process.cwd(), target.file) || target.file)}\n`,
    );
    const headers = Object.fromEntries(args.headers);
    const r = await recordLive({
      url,
      ...(args.headers.length ? { headers } : {}),
      project: project.path,
      typeField,
      rule: { idleMs: args.idleMs, waitMs: args.waitMs, until: args.until },
      openTimeoutMs: Math.max(args.waitMs, 5000),
      interactive,
      input: process.stdin,
      output: process.stdout,
      exclude: [target.file],
      signal: controller.signal,
    });
    if ((!r.ok && r.reason === 'interrupted') || controller.signal.aborted) {
      process.stderr.write('wsgate: interrupted: no gate written\n');
      return EXIT.interrupted;
    }
    if (!r.ok) {
      process.stderr.write(`wsgate: the connection to ${url} failed: ${r.message}\n`);
      return EXIT.failed;
    }
    const typed = args.project !== undefined ? path.resolve(args.project) : project.path;
    const where = args.url ? connectUrl(args.url) : undefined;
    const kept = args.headers.length ? connectHeaders(headers) : undefined;
    // No protocol named: a shipped one is taken when the session's first frames fit it alone.
    const detected = p || target.doc || args.typeField ? undefined : detectProtocol(r.events);
    if (detected) {
      p = protocolFor({ ...args, protocol: detected }, target);
      r.notes.push(`the frames are ${detected}'s: the gate is written for it (--protocol names another)`);
    }
    const rec: Recording = {
      id: freeId(args.gates[0] ?? 'recorded', target.ids),
      title: '',
      project: project.path,
      ...(typed !== project.path ? { projectAliases: [typed] } : {}),
      events: r.events,
      notes: [...r.notes, ...(where?.notes ?? []), ...(kept?.notes ?? [])],
      ...(where?.url ? { connectUrl: where.url } : {}),
      ...(kept ? { connectHeaders: kept.headers } : {}),
    };
    rec.title = sessionTitle(rec, typeField, p);
    const gate = inferGate(rec, {
      typeField,
      looseText: args.looseText,
      reserved: target.reservedVars,
      ...protocolOptions(p),
    });
    write(
      target,
      [gate],
      `recorded by wsgate record on ${new Date().toISOString().slice(0, 10)} from ${server ? 'the embedded reference server' : (where?.base ?? url)}`,
      typeField,
      p,
    );
    return EXIT.passed;
  } finally {
    offInterrupt();
    await server?.stop(args.keep);
    if (!args.keep) removeOwned(project);
    else if (project.owned) process.stderr.write(`wsgate: kept project folder ${project.path}\n`);
  }
}

/** A gate from a live session, or gates from the evidence of a run (--from). */
function record({ flags, positionals }: CommandInput<typeof RECORD_FLAGS>): Promise<number> | number {
  const args = recordArgs(flags, positionals);
  const target = readTarget(args.out ?? 'gates.yaml');
  return args.from !== undefined ? fromEvidence(args, target) : live(args, target);
}

export const RECORD = defineCommand({
  name: 'record',
  usage: RECORD_USAGE,
  summary: `Turns a manual session into a gate. Type JSON lines as with \`wscat -c URL\`; replies show as they
arrive; Ctrl-D or /close ends the session, and the gate is written (Ctrl-C: nothing is written).`,
  positionals: {
    usage: '[URL] [PATH]',
    help: [
      ['URL', 'ws:// or wss:// URL of the server; none: start the embedded reference server'],
      [
        'PATH',
        'project folder (as for wsgate run): its changes become verify steps, and its\npath is written as ${PROJECT}; none: a fresh temp folder',
      ],
    ],
  },
  flags: RECORD_FLAGS,
  epilogue: `With stdin not a terminal the lines come from stdin, and each is sent only once the reply to the
previous one has ended (--until, --idle, --wait), so replies are attributed to the right send.

exit codes: 0 gate written · 1 the connection failed · 2 usage error · 3 the harness could not work
            · 130 interrupted (nothing written)`,
  run: record,
});

export const RECORD_HELP = RECORD.help;
