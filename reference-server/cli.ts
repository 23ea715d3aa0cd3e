import { pathToFileURL } from 'node:url';
import { FAULTS, parseFaults } from './faults.ts';
import { startReferenceServer } from './index.ts';
import { generateToken } from './access.ts';
import { isGateFolder } from '../lib/runner/gate-folder.ts';
import { ServerConfigError, validateOptions, type ServerOptions } from './options.ts';
import { HarnessFailure, printErrors } from '../lib/errors.ts';
import { HELP, helpText, list, on, parsed, readFlags, splitArgv, text, usageError, usageFlags, type Parse } from '../lib/cli/flags.ts';

export const TOKEN_ENV = 'WSGATE_SERVE_TOKEN';

/** A whole number of at least `min` (ports, periods, counts). */
function integer(min: number, max = Number.MAX_SAFE_INTEGER): Parse<number | undefined> {
  return (raw, refuse, flag) => {
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw refuse(`${flag} needs an integer >= ${min}, got "${raw}"`);
    if (Number(raw) > max) throw refuse(`${flag} must be at most ${max}`);
    return Number(raw);
  };
}

export const SERVE_FLAGS = {
  host: text('host', 'HOST', 'address to listen on (default 127.0.0.1); any other than loopback needs\n--allow-remote'),
  port: parsed('port', 'N', 'port, 0 for a free one (default 3001)', undefined, integer(0, 65535)),
  root: text('root', 'DIR', 'project folder for sessions that name none; sessions only on it and below\n(default: current folder)'),
  dataDir: text('data-dir', 'DIR', 'private folder for sessions.json: yours, not group/other-writable\n(default: a new private temp folder each start)'),
  logDir: text('log-dir', 'DIR', 'where combined.log and error.log go (default: DATA_DIR/logs)'),
  faults: list('fault', 'NAME', 'misbehave on purpose; repeatable (see --list-faults)'),
  pingIntervalMs: parsed('ping-interval', 'MS', 'server ping period (default 30000)', undefined, integer(1)),
  slowMs: parsed('slow-ms', 'MS', 'delay used by the slow fault (default 6000)', undefined, integer(0)),
  maxSessions: parsed('max-sessions', 'N', 'sessions kept at once; a new one beyond drops the least recently active\n(default 1000)', undefined, integer(1)),
  sessionTtl: parsed('session-ttl', 'S', 'a session idle for S seconds is dropped (default 3600)', undefined, integer(1)),
  allowOrigins: list('allow-origin', 'ORIGIN', 'a web page origin (http(s)://host[:port]) admitted besides loopback ones;\nrepeatable. Requests with another Origin header get 403; clients that send\nnone are unaffected'),
  allowHosts: list('allow-host', 'NAME', 'a Host header name (or name:port) admitted besides 127.0.0.1, localhost,\n[::1]; repeatable'),
  allowRemote: on('allow-remote', 'allow a non-loopback --host (e.g. 0.0.0.0); every client then needs the token'),
  token: text('token', 'TOKEN', `the token every client must present (Authorization: Bearer TOKEN, or\n?token=TOKEN); also from $${TOKEN_ENV}; default: a new one each start, printed\nin the listening URL`),
  noToken: on('no-token', 'accept any client on this machine without a token: only on a machine no other\nuser logs in to (any local user could run commands as you); not with\n--allow-remote'),
  allowAnyProject: on('allow-any-project', 'allow sessions on any folder of the machine, not only under --root'),
  allowGateFolders: on('allow-gate-folders', "also allow sessions on a wsgate run's private per-gate folders\n($TMPDIR/wsgate-parallel-*: yours, mode 0700); wsgate sets it for the server\nit embeds"),
  exitWithStdin: on('exit-with-stdin', 'stop when standard input closes: a program that starts the server\nkeeps a pipe open, so the server ends with it even when it is killed'),
  listFaults: on('list-faults', 'print the fault names and exit'),
  help: HELP,
};

export const SERVE_USAGE = `usage: wsgate serve ${usageFlags(SERVE_FLAGS)}`;

export const SERVE_HELP = helpText(
  SERVE_USAGE,
  'Starts the reference server: the agent-backend protocol with real tools on a real folder. The\nserver runs commands and commits on request; see docs/security.md for the security options.',
  [],
  SERVE_FLAGS,
  'The first line printed is "listening ws://HOST:PORT/ws" once the server accepts connections.\nexit codes: 0 stopped by SIGINT/SIGTERM · 1 could not start · 2 usage error',
);

type Parsed = { kind: 'help' } | { kind: 'list-faults' } | { kind: 'serve'; options: ServerOptions; generated: boolean; exitWithStdin: boolean };

const refuse = usageError(SERVE_USAGE);

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  // "--fault refuse-after 3": the count may travel as its own argument; it joins its fault here.
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === 'refuse-after' && argv[i - 1] === '--fault' && next !== undefined && /^\d+$/.test(next)) {
      joined.push(`refuse-after=${next}`);
      i++;
    } else joined.push(argv[i]!);
  }
  let generated = false;
  const { raw, positionals } = splitArgv(SERVE_FLAGS, joined, refuse);
  if (raw.help) return { kind: 'help' };
  if (raw['list-faults']) return { kind: 'list-faults' };
  if (positionals.length) throw refuse(`serve takes no arguments, got "${positionals.join(' ')}"`);
  const v = readFlags(SERVE_FLAGS, raw, refuse);
  try {
    parseFaults(v.faults);
  } catch (error) {
    throw refuse((error as Error).message);
  }
  const options: ServerOptions = {
    ...(v.host !== undefined ? { host: v.host } : {}),
    ...(v.port !== undefined ? { port: v.port } : {}),
    ...(v.root !== undefined ? { root: v.root } : {}),
    ...(v.dataDir !== undefined ? { dataDir: v.dataDir } : {}),
    ...(v.logDir !== undefined ? { logDir: v.logDir } : {}),
    ...(v.pingIntervalMs !== undefined ? { pingIntervalMs: v.pingIntervalMs } : {}),
    ...(v.slowMs !== undefined ? { slowMs: v.slowMs } : {}),
    ...(v.maxSessions !== undefined ? { maxSessions: v.maxSessions } : {}),
    ...(v.sessionTtl !== undefined ? { sessionIdleTtlMs: v.sessionTtl * 1000 } : {}),
    ...(v.allowRemote ? { allowRemote: true } : {}),
    ...(v.allowAnyProject ? { allowAnyProject: true } : {}),
    ...(v.allowGateFolders ? { allowProject: isGateFolder } : {}),
    ...(v.allowOrigins.length ? { allowOrigins: v.allowOrigins } : {}),
    ...(v.allowHosts.length ? { allowHosts: v.allowHosts } : {}),
    faults: v.faults,
  };
  const chosen = v.token ?? env[TOKEN_ENV];
  if (v.noToken && v.token !== undefined) throw refuse('--no-token and --token contradict each other');
  if (v.noToken && v.allowRemote) throw refuse('--allow-remote needs a token: drop --no-token');
  // A token by default: on loopback without one, any other local user could run commands as you.
  if (!v.noToken) options.token = chosen ?? generateToken();
  generated = !v.noToken && chosen === undefined;
  try {
    validateOptions(options);
  } catch (error) {
    if (error instanceof ServerConfigError) throw refuse(error.message);
    throw error;
  }
  return { kind: 'serve', options, generated, exitWithStdin: v.exitWithStdin };
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function serveMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv, env);
  } catch (error) {
    if (!(error instanceof HarnessFailure)) throw error;
    printErrors(error.errors);
    return error.exitCode;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(SERVE_HELP + '\n');
    return 0;
  }
  if (parsed.kind === 'list-faults') {
    for (const [name, { description }] of Object.entries(FAULTS)) process.stdout.write(`${name}  ${description}\n`);
    return 0;
  }

  let server: Awaited<ReturnType<typeof startReferenceServer>>;
  try {
    server = await startReferenceServer(parsed.options);
  } catch (error) {
    process.stderr.write(`serve: could not start: ${(error as Error).message}\n`);
    return 1;
  }
  // A generated token is shown in the URL a person pastes into `wscat -c`; a chosen one is never printed.
  const query = parsed.generated && server.token !== undefined ? `?token=${server.token}` : '';
  process.stdout.write(`listening ${server.url}${query}\n`);
  process.stdout.write(`health ${server.httpUrl}/health${query}\ndata-dir ${server.dataDir}\nlog-dir ${server.logDir}\n`);
  if (parsed.options.faults?.length) process.stdout.write(`faults ${parsed.options.faults.join(' ')}\n`);
  if (parsed.generated && server.token !== undefined) process.stdout.write(`token ${server.token}\n`);
  if (server.token !== undefined && !parsed.generated) {
    process.stderr.write(`serve: every client needs the token: wscat -c ${server.url} -H "Authorization: Bearer <token>" (or ?token=<token>)\n`);
  }
  if (server.token === undefined) process.stderr.write('serve: --no-token: every local user can run commands through this server as you\n');

  const running = server;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals | 'end of input') => {
      if (stopping) return;
      stopping = true;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      process.stderr.write(`serve: ${signal}, closing\n`);
      running.close().then(
        () => resolve(0),
        (error: unknown) => {
          process.stderr.write(`serve: close failed: ${String(error)}\n`);
          resolve(1);
        },
      );
    };
    const onEnd = () => stop('end of input');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (parsed.exitWithStdin) {
      process.stdin.on('end', onEnd);
      process.stdin.on('error', onEnd);
      process.stdin.resume();
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args[0] === 'serve') args.shift();
  process.exitCode = await serveMain(args);
}
