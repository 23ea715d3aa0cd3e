// The floor: what the default gates cost with no harness at all. One process starts the reference
// server in-process on a fresh git project, opens one raw `ws` client per gate connection, sends the
// same messages as gates.yaml, waits for the same replies (checking the same fields), and does the
// same disk and git checks with fs and the git CLI. Prints one JSON line: {ms, serverMs, gates, connections}.
//
//   node --import tsx bench/floor.ts [--gate ID]...      (no --gate: every gate it knows)
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startReferenceServer } from '../reference-server/index.ts';

type Msg = Record<string, unknown> & { type?: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isIsoDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`floor check failed: ${what}`);
}

let connections = 0;

/** A raw ws client with an inbox, awaiting ordered expectations like the harness does. */
class Client {
  private inbox: Msg[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(String(data)) as Msg);
      this.waiter?.();
    });
    ws.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(url: string): Promise<Client> {
    connections++;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new Client(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  send(msg: Msg | string): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  private async next(deadline: number): Promise<Msg> {
    for (;;) {
      const m = this.inbox.shift();
      if (m) return m;
      if (this.closed) throw new Error('closed');
      const left = deadline - performance.now();
      if (left <= 0) throw new Error('timeout');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          r();
        };
      });
    }
  }

  /** Each expectation selects the first later message of its type passing `where`; `forbid` kinds fail. */
  async expect(
    exps: { type: string; where?: (m: Msg) => boolean }[],
    forbid: string[] = [],
    withinMs = 5000,
  ): Promise<Msg[]> {
    const deadline = performance.now() + withinMs;
    const got: Msg[] = [];
    for (const e of exps) {
      for (;;) {
        const m = await this.next(deadline);
        assert(!forbid.includes(String(m.type)), `no ${m.type} before ${e.type}`);
        if (m.type === e.type && (!e.where || e.where(m))) {
          got.push(m);
          break;
        }
      }
    }
    return got;
  }

  /** Like the `optional: true` welcome: take it if it is the next message within the time, else go on. */
  async maybe(type: string, withinMs: number): Promise<Msg | undefined> {
    try {
      const [m] = await this.expect([{ type }], [], withinMs);
      return m;
    } catch {
      return undefined;
    }
  }

  /** Gather `field` of every `kind` message until an `until` message arrives. */
  async collect(
    kind: string,
    until: string,
    forbid: string[] = [],
    withinMs = 5000,
  ): Promise<{ pieces: string[]; end: Msg }> {
    const deadline = performance.now() + withinMs;
    const pieces: string[] = [];
    for (;;) {
      const m = await this.next(deadline);
      assert(!forbid.includes(String(m.type)), `no ${m.type} before ${until}`);
      if (m.type === until) return { pieces, end: m };
      if (m.type === kind) pieces.push(String(m.delta));
    }
  }

  close(): Promise<void> {
    return new Promise((r) => {
      if (this.closed) return r();
      this.ws.once('close', () => r());
      this.ws.close(1000);
    });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the bench reads a few known fields of its own server's replies
function httpJson(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
function fileState(file: string): string | null {
  try {
    return `${statSync(file).mtimeMs}:${sha(file)}`;
  } catch {
    return null;
  }
}

interface Ctx {
  url: string;
  httpUrl: string;
  project: string;
  runId: string;
}

const tool = (name: string) => (m: Msg) => m.tool === name;
const chat = (text: string): Msg => ({ type: 'message', message: text, content: text });

async function withSession(ctx: Ctx, body: (c: Client) => Promise<void>): Promise<void> {
  const c = await Client.open(ctx.url);
  c.send({ type: 'init_session', projectPath: ctx.project });
  await c.expect([{ type: 'session_initialized' }], ['error']);
  await body(c);
  await c.close();
}

/** The gates' set-up step: have the server write a file, expect a successful write_file result. */
async function writeThrough(c: Client, file: string, content: string): Promise<void> {
  c.send(chat(`Create a ${file} file with '${content}'`));
  const [res] = await c.expect(
    [{ type: 'tool_result', where: tool('write_file') }, { type: 'message_complete' }],
    ['error'],
  );
  assert(res!.error === undefined, `${file} written without error`);
}

function listing(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== '.git')
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
    .sort();
}

const GATES: Record<string, (ctx: Ctx) => Promise<void>> = {
  async connection(ctx) {
    const c = await Client.open(ctx.url);
    const w = await c.maybe('connected', 1000);
    if (w) assert(isIsoDate(w.timestamp), 'welcome timestamp');
    await c.close();
  },
  async 'session-init'(ctx) {
    const c = await Client.open(ctx.url);
    c.send({ type: 'init_session', projectPath: ctx.project });
    const [s] = await c.expect([{ type: 'session_initialized' }], ['error']);
    assert(UUID.test(String(s!.sessionId)), 'uuid');
    assert(s!.projectPath === ctx.project && typeof s!.messageCount === 'number', 'session fields');
    assert(isIsoDate(s!.createdAt) && isIsoDate(s!.lastActiveAt), 'session dates');
    await c.close();
  },
  async 'chat-stream'(ctx) {
    await withSession(ctx, async (c) => {
      c.send(chat('Hello! Please introduce yourself.'));
      const [first] = await c.expect([{ type: 'content_delta' }], ['error']);
      assert(typeof first!.delta === 'string', 'first delta');
      // The rest of the deltas until message_complete, joined (as `collect:` does).
      const { pieces, end } = await c.collect('content_delta', 'message_complete', ['error']);
      assert(pieces.length >= 1 && pieces.join('').length > 0, 'delta text');
      assert(
        end.messageId !== undefined && typeof end.tokensUsed === 'number' && end.tokensUsed >= 0,
        'message_complete fields',
      );
    });
  },
  async 'write-file'(ctx) {
    await withSession(ctx, async (c) => {
      const file = path.join(ctx.project, 'test.txt');
      const before = fileState(file);
      c.send(chat("Create a test.txt file with 'Test content'"));
      const [ex, res] = await c.expect(
        [
          { type: 'tool_execution', where: tool('write_file') },
          { type: 'tool_result', where: tool('write_file') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      assert(String((ex!.input as Msg).path).includes('test.txt') && res!.error === undefined, 'write_file events');
      assert(readFileSync(file, 'utf8') === 'Test content' && fileState(file) !== before, 'test.txt on disk, changed');
    });
  },
  async 'read-file'(ctx) {
    await withSession(ctx, async (c) => {
      const content = `read check ${ctx.runId}`;
      const file = path.join(ctx.project, 'wsgate-read.txt');
      const before = fileState(file);
      await writeThrough(c, 'wsgate-read.txt', content);
      assert(readFileSync(file, 'utf8') === content && fileState(file) !== before, 'wsgate-read.txt on disk');
      c.send(chat('Read wsgate-read.txt'));
      const [, res] = await c.expect(
        [
          { type: 'tool_execution', where: tool('read_file') },
          { type: 'tool_result', where: tool('read_file') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      assert(res!.error === undefined && String(res!.result).includes(content), 'read_file result');
      assert(readFileSync(file, 'utf8') === res!.result, 'read result is the disk content');
    });
  },
  async 'list-files'(ctx) {
    await withSession(ctx, async (c) => {
      await writeThrough(c, 'wsgate-list.txt', 'listed');
      c.send(chat('List files'));
      const [, res] = await c.expect(
        [
          { type: 'tool_execution', where: tool('list_files') },
          { type: 'tool_result', where: tool('list_files') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      const claimed = String(res!.result).split('\n').filter(Boolean).sort();
      assert(JSON.stringify(claimed) === JSON.stringify(listing(ctx.project)), 'listing matches the disk');
    });
  },
  async 'execute-command'(ctx) {
    await withSession(ctx, async (c) => {
      const file = path.join(ctx.project, 'wsgate-exec.txt');
      const before = fileState(file);
      c.send(chat(`Run \`echo wsgate-${ctx.runId} > wsgate-exec.txt\``));
      const [ex, res] = await c.expect(
        [
          { type: 'tool_execution', where: tool('execute_command') },
          { type: 'tool_result', where: tool('execute_command') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      assert(
        String((ex!.input as Msg).command).includes(`wsgate-${ctx.runId}`) && res!.error === undefined,
        'execute_command events',
      );
      assert(
        new RegExp(`^wsgate-${ctx.runId}\\s*$`).test(readFileSync(file, 'utf8')) && fileState(file) !== before,
        'exec side effect',
      );
    });
  },
  async 'git-status'(ctx) {
    await withSession(ctx, async (c) => {
      await writeThrough(c, 'wsgate-status.txt', `status ${ctx.runId}`);
      assert(git(ctx.project, 'status', '--porcelain').trim() !== '', 'git not clean');
      c.send(chat('Git status'));
      const [, res] = await c.expect(
        [
          { type: 'tool_execution', where: tool('git_status') },
          { type: 'tool_result', where: tool('git_status') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      const real = git(ctx.project, 'status', '--porcelain=v1', '-uall')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(3))
        .sort();
      const claim = String(res!.result)
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(3))
        .sort();
      assert(JSON.stringify(real) === JSON.stringify(claim), 'git status claim');
    });
  },
  async 'git-commit'(ctx) {
    await withSession(ctx, async (c) => {
      const head = () => {
        try {
          return git(ctx.project, 'rev-parse', 'HEAD').trim();
        } catch {
          return '';
        }
      };
      const before = head();
      await writeThrough(c, 'wsgate-commit.txt', `commit ${ctx.runId}`);
      const message = `wsgate commit ${ctx.runId}`;
      c.send(chat(`Commit all changes with message '${message}'`));
      const [ex, res] = await c.expect(
        [
          { type: 'tool_execution', where: tool('git_commit') },
          { type: 'tool_result', where: tool('git_commit') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      assert((ex!.input as Msg).message === message && res!.error === undefined, 'git_commit events');
      assert(
        head() !== before && git(ctx.project, 'log', '-1', '--format=%s').trim() === message,
        'commit on top of git log',
      );
    });
  },
  async 'more-tools'(ctx) {
    await withSession(ctx, async (c) => {
      await writeThrough(c, 'wsgate-history.txt', `base ${ctx.runId}`);
      const message = `wsgate history ${ctx.runId}`;
      c.send(chat(`Commit all changes with message '${message}'`));
      const [commit] = await c.expect(
        [{ type: 'tool_result', where: tool('git_commit') }, { type: 'message_complete' }],
        ['error'],
      );
      assert(commit!.error === undefined, 'git_commit');
      c.send(chat(`Search for 'base ${ctx.runId}'`));
      const [, found] = await c.expect(
        [
          { type: 'tool_execution', where: tool('search_files') },
          { type: 'tool_result', where: tool('search_files') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      assert(found!.error === undefined && String(found!.result).includes('wsgate-history.txt'), 'search_files');
      await writeThrough(c, 'wsgate-history.txt', `changed ${ctx.runId}`);
      c.send(chat('Git diff'));
      const [, diff] = await c.expect(
        [
          { type: 'tool_execution', where: tool('git_diff') },
          { type: 'tool_result', where: tool('git_diff') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      assert(diff!.error === undefined && String(diff!.result).includes(`+changed ${ctx.runId}`), 'git_diff');
      assert(git(ctx.project, 'diff').includes(`+changed ${ctx.runId}`), 'real git diff');
      c.send(chat('Show the last 3 commits'));
      const [, gitLog] = await c.expect(
        [
          { type: 'tool_execution', where: tool('git_log') },
          { type: 'tool_result', where: tool('git_log') },
          { type: 'message_complete' },
        ],
        ['error'],
      );
      assert(gitLog!.error === undefined && String(gitLog!.result).includes(message), 'git_log');
      assert(git(ctx.project, 'log', '-1', '--format=%s').trim() === message, 'last commit message');
    });
  },
  async 'slash-help'(ctx) {
    await withSession(ctx, async (c) => {
      c.send({ type: 'slash_command', command: '/help' });
      const [r] = await c.expect([{ type: 'slash_command_response' }], ['error']);
      assert(typeof r!.response === 'string' && r!.response.length > 0, 'help text');
    });
  },
  async 'slash-commands'(ctx) {
    await withSession(ctx, async (c) => {
      c.send({ type: 'slash_command', command: '/status' });
      const [st] = await c.expect([{ type: 'slash_command_response' }], ['error']);
      assert(typeof st!.response === 'string' && st!.response.length > 0, '/status');
      c.send(chat('/sessions'));
      const [ss] = await c.expect([{ type: 'slash_command_response' }], ['error']);
      assert(typeof ss!.response === 'string', '/sessions');
      c.send({ type: 'slash_command', command: '/clear' });
      await c.expect([{ type: 'slash_command_response' }], ['error']);
      c.send({ type: 'slash_command', command: '/no-such-command' });
      await c.expect([{ type: 'error' }]);
    });
  },
  async ping(ctx) {
    const c = await Client.open(ctx.url);
    c.send({ type: 'ping' });
    await c.expect([{ type: 'pong' }], ['error'], 2000);
    await c.close();
  },
  async health(ctx) {
    const r = await httpJson('GET', `${ctx.httpUrl}/health`);
    assert(r.status === 200 && r.json.status === 'healthy', 'healthy');
  },
  async logs(ctx) {
    const r = await httpJson('GET', `${ctx.httpUrl}/health`);
    assert(typeof r.json.logDir === 'string', 'logDir');
    assert(
      existsSync(path.join(r.json.logDir, 'combined.log')) && existsSync(path.join(r.json.logDir, 'error.log')),
      'log files',
    );
  },
  async sessions(ctx) {
    const c = await Client.open(ctx.url);
    c.send({ type: 'init_session', projectPath: ctx.project });
    const [s] = await c.expect([{ type: 'session_initialized' }], ['error']);
    const id = s!.sessionId;
    c.send({ type: 'list_sessions' });
    const [l] = await c.expect([{ type: 'sessions_list' }], ['error']);
    assert((l!.count as number) >= 1 && Array.isArray(l!.sessions), 'sessions_list');
    c.send({ type: 'get_session', sessionId: id });
    const [d] = await c.expect([{ type: 'session_data' }], ['error']);
    assert((d!.session as Msg).projectPath === ctx.project, 'session_data');
    const resumed = await Client.open(ctx.url);
    resumed.send({ type: 'init_session', sessionId: id });
    const [r] = await resumed.expect([{ type: 'session_initialized' }], ['error']);
    assert(r!.sessionId === id && r!.projectPath === ctx.project, 'resumed');
    c.send({ type: 'delete_session', sessionId: id });
    const [del] = await c.expect([{ type: 'session_deleted' }], ['error']);
    assert(del!.sessionId === id, 'deleted');
    c.send({ type: 'get_session', sessionId: id });
    await c.expect([{ type: 'error' }]);
    await Promise.all([c.close(), resumed.close()]);
  },
  async 'rest-sessions'(ctx) {
    const base = `${ctx.httpUrl}/api/v1/sessions`;
    const created = await httpJson('POST', base, { projectPath: ctx.project });
    assert(created.status === 201 && created.json.session.projectPath === ctx.project, 'POST');
    const id = created.json.session.id as string;
    const list = await httpJson('GET', base);
    assert(list.status === 200 && list.json.count >= 1, 'GET list');
    const one = await httpJson('GET', `${base}/${id}`);
    assert(one.status === 200 && one.json.session.id === id, 'GET one');
    assert((await httpJson('DELETE', `${base}/${id}`)).status === 200, 'DELETE');
    assert((await httpJson('GET', `${base}/${id}`)).status === 404, 'gone');
  },
  async 'error-recovery'(ctx) {
    const c = await Client.open(ctx.url);
    c.send('{this is not json');
    const [e1] = await c.expect([{ type: 'error' }]);
    assert(e1!.code === 'INVALID_JSON', 'INVALID_JSON');
    c.send({ type: 'no_such_message_type' });
    const [e2] = await c.expect([{ type: 'error' }]);
    assert(e2!.code === 'UNKNOWN_TYPE', 'UNKNOWN_TYPE');
    c.send({ type: 'ping' });
    await c.expect([{ type: 'pong' }]);
    const another = await Client.open(ctx.url);
    another.send({ type: 'ping' });
    await another.expect([{ type: 'pong' }]);
    await Promise.all([c.close(), another.close()]);
  },
  async 'tool-errors'(ctx) {
    const c = await Client.open(ctx.url);
    c.send({ type: 'init_session', projectPath: ctx.project });
    await c.expect([{ type: 'session_initialized' }], ['error']);
    c.send(chat(`Read wsgate-no-such-file-${ctx.runId}.txt`));
    const [r1] = await c.expect([{ type: 'tool_result', where: tool('read_file') }, { type: 'message_complete' }]);
    assert(typeof r1!.error === 'string', 'read error');
    c.send(chat("Create a /etc/hosts file with 'wsgate'"));
    const [r2] = await c.expect([{ type: 'tool_result', where: tool('write_file') }, { type: 'message_complete' }]);
    assert(/[Pp]ermission denied|outside|not allowed|[Ff]orbidden/.test(String(r2!.error)), 'write refused');
    const another = await Client.open(ctx.url);
    another.send({ type: 'ping' });
    await another.expect([{ type: 'pong' }]);
    await Promise.all([c.close(), another.close()]);
  },
  async concurrency(ctx) {
    const clients = await Promise.all(Array.from({ length: 10 }, () => Client.open(ctx.url)));
    const ids = await Promise.all(
      clients.map(async (c) => {
        c.send({ type: 'init_session', projectPath: ctx.project });
        const [s] = await c.expect([{ type: 'session_initialized' }], ['error']);
        assert(s!.sessionId !== undefined, 'sessionId');
        return s!.sessionId;
      }),
    );
    assert(new Set(ids).size === 10, 'distinct sessionIds');
    await Promise.all(clients.map((c) => c.close()));
  },
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--gate') only.push(argv[++i]!);
  const ids = only.length ? only : Object.keys(GATES);
  for (const id of ids)
    if (!GATES[id]) throw new Error(`the floor has no version of gate ${id}: add one to bench/floor.ts`);

  const started = performance.now();
  const project = mkdtempSync(path.join(os.tmpdir(), 'wsgate-floor-'));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-floor-data-'));
  git(project, 'init', '-q');
  git(project, 'config', 'user.name', 'wsgate floor');
  git(project, 'config', 'user.email', 'floor@wsgate.invalid');
  const server = await startReferenceServer({ host: '127.0.0.1', port: 0, root: project, dataDir });
  const serverMs = performance.now() - started;
  const ctx: Ctx = { url: server.url, httpUrl: server.httpUrl, project, runId: randomUUID().slice(0, 8) };
  const gateMs: Record<string, number> = {};
  try {
    for (const id of ids) {
      const t = performance.now();
      await GATES[id]!(ctx);
      gateMs[id] = Math.round(performance.now() - t);
    }
  } finally {
    await server.close();
    rmSync(project, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
  const ms = Math.round(performance.now() - started);
  process.stdout.write(JSON.stringify({ ms, serverMs: Math.round(serverMs), gates: gateMs, connections }) + '\n');
}

await main();
