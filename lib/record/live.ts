// A live session through a real wscat, captured as a Recording: lines typed (or piped) are sent,
// replies are shown as they arrive, and the project folder is snapshotted before each send and at
// the end, so every side effect is attributed to the exchange that caused it. On a TTY it feels
// like `wscat -c URL`; with stdin piped, each line waits until the previous exchange settled.
import { createInterface, clearLine, cursorTo, type Interface } from 'node:readline';
import { WscatConnection, type Frame } from '../wscat/connection.ts';
import { hasChanges, type RecEvent } from './recording.ts';
import { ProjectWatch } from './changes.ts';
import { Settler, type SettleRule } from './settle.ts';
import { termText } from '../reporters/term-safe.ts';

export interface LiveOptions {
  url: string;
  /** HTTP headers of the handshake (`--header`). */
  headers?: Record<string, string>;
  project: string;
  typeField: string;
  rule: SettleRule;
  openTimeoutMs: number;
  /** A person at a terminal (prompt, no pacing) or a script (echo, paced by the settle rule). */
  interactive: boolean;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Absolute paths inside the project that are not the session's doing (the gates file). */
  exclude: string[];
  signal: AbortSignal;
}

export type LiveResult =
  | { ok: true; events: RecEvent[]; notes: string[] }
  | { ok: false; reason: 'connect'; message: string }
  | { ok: false; reason: 'interrupted' };

const CONN = 'main';

/**
 * Lines as they come, buffered from the moment the interface exists: piped input can be read (and
 * even end) while the connection is still opening, and readline's own async iterator would miss
 * lines emitted before the loop starts.
 */
function lines(rl: Interface): () => Promise<string | null> {
  const queue: string[] = [];
  let closed = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  rl.on('line', (l) => {
    queue.push(l);
    poke();
  });
  rl.on('close', () => {
    closed = true;
    poke();
  });
  return async () => {
    while (!queue.length && !closed) await new Promise<void>((r) => (wake = r));
    return queue.shift() ?? null;
  };
}

export async function recordLive(o: LiveOptions): Promise<LiveResult> {
  const events: RecEvent[] = [];
  const notes: string[] = [];
  const settler = new Settler(o.rule, o.typeField);
  const watch = await ProjectWatch.start(o.project, o.exclude);
  const rl = createInterface({
    input: o.input,
    ...(o.interactive ? { output: o.output, terminal: true, prompt: '> ' } : { terminal: false }),
  });
  const show = (line: string) => {
    if (!o.interactive) return void o.output.write(line + '\n');
    clearLine(o.output, 0);
    cursorTo(o.output, 0);
    o.output.write(line + '\n');
    rl.prompt(true);
  };
  const nextLine = lines(rl);
  const stop = () => {
    settler.stop();
    rl.close();
  };
  o.signal.addEventListener('abort', stop);
  // A terminal in raw mode turns Ctrl-C into this event: make it the signal the command handles.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));

  events.push({ kind: 'connect', conn: CONN });
  const opened = await WscatConnection.open(
    CONN,
    { url: o.url, openTimeoutMs: o.openTimeoutMs, ...(o.headers ? { headers: o.headers } : {}) },
    {
      onFrameIn: (f: Frame) => {
        events.push({ kind: 'in', conn: CONN, text: f.text, at: f.at });
        settler.frame(f);
        // A server's frame reaches the person's terminal: controls, OSC and bidi shown escaped, as `run` does.
        show(`< ${termText(f.text)}`);
      },
    },
  );
  if (!opened.ok) {
    o.signal.removeEventListener('abort', stop);
    rl.close();
    return { ok: false, reason: 'connect', message: `${opened.error.code}: ${opened.error.message}` };
  }
  const conn = opened.conn;
  let closeArgs: [number, string] = [1000, ''];
  let sends = 0;
  try {
    // A welcome message belongs before the first send (a line typed early waits): until the server is quiet.
    settler.begin();
    await settler.settled(o.rule.idleMs);
    show(
      `connected to ${termText(o.url)} · type JSON lines · ${o.interactive ? 'Ctrl-D' : 'end of input'} or /close to finish and write the gate`,
    );
    if (o.interactive) rl.prompt();
    for (let raw = await nextLine(); raw !== null && !o.signal.aborted; raw = await nextLine()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) {
        if (o.interactive) rl.prompt();
        continue;
      }
      const close = /^\/close(?:\s+(\d{4})(?:\s+(.*))?)?$/.exec(line);
      if (close) {
        closeArgs = [close[1] ? Number(close[1]) : 1000, close[2] ?? ''];
        break;
      }
      if (line.startsWith('/')) {
        show('only /close is a command here (a line starting with "/" cannot be sent through wscat)');
        continue;
      }
      if (!o.interactive) o.output.write(`> ${line}\n`);
      const changes = await watch.next();
      if (hasChanges(changes)) events.push({ kind: 'changes', changes });
      settler.begin();
      events.push({ kind: 'out', conn: CONN, text: line, at: Date.now() });
      if (!conn.send(line)) {
        events.pop();
        show('the server has closed the connection: nothing more can be sent');
        break;
      }
      sends++;
      if (!o.interactive) {
        const how = await settler.settled();
        if (how === 'deadline')
          notes.push(
            `send ${sends} was still receiving after ${o.rule.waitMs} ms: later frames were recorded under the next send (raise --wait or name its last message with --until)`,
          );
      } else rl.prompt();
    }
    if (o.signal.aborted) return { ok: false, reason: 'interrupted' };
    // At a terminal the last send may still be answering: what arrives until the server is quiet
    // belongs to it (a script's last exchange has settled already).
    if (sends && o.interactive) {
      settler.begin();
      await settler.settled(o.rule.idleMs);
    }
    const changes = await watch.next();
    if (hasChanges(changes)) events.push({ kind: 'changes', changes });
    if (watch.truncated) notes.push('the project folder has more than 20,000 files: changes beyond them were not seen');
    const info = await conn.close(...closeArgs);
    events.push(
      info.byClient
        ? { kind: 'close', conn: CONN, by: 'client' }
        : {
            kind: 'close',
            conn: CONN,
            by: 'server',
            ...(info.code !== undefined ? { code: info.code } : {}),
            ...(info.reason ? { reason: info.reason } : {}),
          },
    );
    return { ok: true, events, notes };
  } finally {
    o.signal.removeEventListener('abort', stop);
    rl.close();
    await conn.dispose();
  }
}
