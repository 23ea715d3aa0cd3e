import { pathToFileURL } from 'node:url';
import { FAULTS, parseFaults } from './faults.ts';
import { startReferenceServer } from './index.ts';
import { generateToken } from './access.ts';
import { isGateFolder } from './gate-folders.ts';
import { ServerConfigError, validateOptions, type ServerOptions } from './options.ts';
import { optionLines, readOptions, usageOptions, UsageError, type OptionText } from './argv.ts';

export const TOKEN_ENV = 'WSGATE_SERVE_TOKEN';

export const SERVE_FLAGS = {
  host: {
    name: 'host',
    value: 'HOST',
    help: 'address to listen on (default 127.0.0.1); any other than loopback needs\n--allow-remote',
  },
  port: { name: 'port', value: 'N', help: 'port, 0 for a free one (default 3001)' },
  root: {
    name: 'root',
    value: 'DIR',
    help: 'project folder for sessions that name none; sessions only on it and below\n(default: current folder)',
  },
  dataDir: {
    name: 'data-dir',
    value: 'DIR',
    help: 'private folder for sessions.json: yours, not group/other-writable\n(default: a new private temp folder each start)',
  },
  logDir: { name: 'log-dir', value: 'DIR', help: 'where combined.log and error.log go (default: DATA_DIR/logs)' },
  faults: {
    name: 'fault',
    value: 'NAME',
    repeatable: true,
    help: 'misbehave on purpose; repeatable (see --list-faults)',
  },
  pingIntervalMs: { name: 'ping-interval', value: 'MS', help: 'server ping period (default 30000)' },
  slowMs: { name: 'slow-ms', value: 'MS', help: 'delay used by the slow fault (default 6000)' },
  maxSessions: {
    name: 'max-sessions',
    value: 'N',
    help: 'sessions kept at once; a new one beyond drops the least recently active\n(default 1000)',
  },
  sessionTtl: { name: 'session-ttl', value: 'S', help: 'a session idle for S seconds is dropped (default 3600)' },
  allowOrigins: {
    name: 'allow-origin',
    value: 'ORIGIN',
    repeatable: true,
    help: 'a web page origin (http(s)://host[:port]) admitted besides loopback ones;\nrepeatable. Requests with another Origin header get 403; clients that send\nnone are unaffected',
  },
  allowHosts: {
    name: 'allow-host',
    value: 'NAME',
    repeatable: true,
    help: 'a Host header name (or name:port) admitted besides 127.0.0.1, localhost,\n[::1]; repeatable',
  },
  allowRemote: {
    name: 'allow-remote',
    help: 'allow a non-loopback --host (e.g. 0.0.0.0); every client then needs the token',
  },
  token: {
    name: 'token',
    value: 'TOKEN',
    help: `the token every client must present (Authorization: Bearer TOKEN, or\n?token=TOKEN); also from $${TOKEN_ENV}; default: a new one each start, printed\nin the listening URL`,
  },
  noToken: {
    name: 'no-token',
    help: 'accept any client on this machine without a token: only on a machine no other\nuser logs in to (any local user could run commands as you); not with\n--allow-remote',
  },
  allowAnyProject: {
    name: 'allow-any-project',
    help: 'allow sessions on any folder of the machine, not only under --root',
  },
  allowGateFolders: {
    name: 'allow-gate-folders',
    help: "also allow sessions on a wsgate run's private per-gate folders\n($TMPDIR/wsgate-parallel-*: yours, mode 0700); wsgate sets it for the server\nit embeds",
  },
  gateFolderRoot: {
    name: 'gate-folder-root',
    value: 'DIR',
    help: 'with --allow-gate-folders, look for the per-gate folders under DIR\n(DIR/.wsgate-parallel-*: yours, mode 0700) instead of $TMPDIR: wsgate passes\nits --parallel-root',
  },
  exitWithStdin: {
    name: 'exit-with-stdin',
    help: 'stop when standard input closes: a program that starts the server\nkeeps a pipe open, so the server ends with it even when it is killed',
  },
  listFaults: { name: 'list-faults', help: 'print the fault names and exit' },
  help: { name: 'help', short: 'h', help: 'print this help' },
} as const;

export const SERVE_USAGE = `usage: wsgate serve ${usageOptions(SERVE_FLAGS)}`;

export const SERVE_HELP = [
  SERVE_USAGE,
  'Starts the reference server: the agent-backend protocol with real tools on a real folder. The\nserver runs commands and commits on request; see docs/security.md for the security options.',
  optionLines(SERVE_FLAGS),
  'The first line printed is "listening ws://HOST:PORT/ws" once the server accepts connections.\nexit codes: 0 stopped by SIGINT/SIGTERM · 1 could not start · 2 usage error',
].join('\n\n');

type Parsed =
  | { kind: 'help' }
  | { kind: 'list-faults' }
  | { kind: 'serve'; options: ServerOptions; generated: boolean; exitWithStdin: boolean };

/** The text of a flag given with a value (undefined when absent); an empty value is refused. */
function textOf(values: OptionText, name: string): string | undefined {
  const raw = values[name];
  if (raw === '') throw new UsageError(`--${name} needs a value`);
  return typeof raw === 'string' ? raw : undefined;
}

/** A whole number of at least `min` (ports, periods, counts), or undefined when the flag is absent. */
function integerOf(values: OptionText, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = textOf(values, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new UsageError(`--${name} needs an integer >= ${min}, got "${raw}"`);
  if (Number(raw) > max) throw new UsageError(`--${name} must be at most ${max}`);
  return Number(raw);
}

function listOf(values: OptionText, name: string): string[] {
  const raw = values[name];
  return Array.isArray(raw) ? raw : [];
}

/** "--fault refuse-after 3": the count may travel as its own argument; it joins its fault here. */
function joinFaultCounts(argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === 'refuse-after' && argv[i - 1] === '--fault' && next !== undefined && /^\d+$/.test(next)) {
      joined.push(`refuse-after=${next}`);
      i++;
    } else joined.push(argv[i] ?? '');
  }
  return joined;
}

/** The server options a command line asks for (read in table order: the first refusal wins), before the token is settled. */
function serverOptions(values: OptionText): ServerOptions {
  const options: ServerOptions = {};
  const set = <K extends keyof ServerOptions>(key: K, value: ServerOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('host', textOf(values, 'host'));
  set('port', integerOf(values, 'port', 0, 65535));
  set('root', textOf(values, 'root'));
  set('dataDir', textOf(values, 'data-dir'));
  set('logDir', textOf(values, 'log-dir'));
  options.faults = listOf(values, 'fault');
  try {
    parseFaults(options.faults);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  set('pingIntervalMs', integerOf(values, 'ping-interval', 1));
  set('slowMs', integerOf(values, 'slow-ms', 0));
  set('maxSessions', integerOf(values, 'max-sessions', 1));
  const ttl = integerOf(values, 'session-ttl', 1);
  set('sessionIdleTtlMs', ttl === undefined ? undefined : ttl * 1000);
  if (listOf(values, 'allow-origin').length) options.allowOrigins = listOf(values, 'allow-origin');
  if (listOf(values, 'allow-host').length) options.allowHosts = listOf(values, 'allow-host');
  if (values['allow-remote']) options.allowRemote = true;
  if (values['allow-any-project']) options.allowAnyProject = true;
  if (values['allow-gate-folders']) {
    const root = textOf(values, 'gate-folder-root');
    options.allowProject = (real) => isGateFolder(real, root);
  }
  return options;
}

function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const { values, positionals } = readOptions(SERVE_FLAGS, joinFaultCounts(argv));
  if (values.help) return { kind: 'help' };
  if (values['list-faults']) return { kind: 'list-faults' };
  if (positionals.length) throw new UsageError(`serve takes no arguments, got "${positionals.join(' ')}"`);
  const options = serverOptions(values);
  const token = textOf(values, 'token');
  const noToken = values['no-token'] === true;
  if (noToken && token !== undefined) throw new UsageError('--no-token and --token contradict each other');
  if (noToken && options.allowRemote) throw new UsageError('--allow-remote needs a token: drop --no-token');
  const chosen = token ?? env[TOKEN_ENV];
  // A token by default: on loopback without one, any other local user could run commands as you.
  if (!noToken) options.token = chosen ?? generateToken();
  try {
    validateOptions(options);
  } catch (error) {
    if (error instanceof ServerConfigError) throw new UsageError(error.message);
    throw error;
  }
  return {
    kind: 'serve',
    options,
    generated: !noToken && chosen === undefined,
    exitWithStdin: values['exit-with-stdin'] === true,
  };
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function serveMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseServeArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // The harness's usage-error shape: the message, then the usage line as the hint; exit 2.
    process.stderr.write(`wsgate: ${error.message}\n  hint: ${SERVE_USAGE.replace(/^usage: /, '')}\n`);
    return 2;
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
  process.stdout.write(
    `health ${server.httpUrl}/health${query}\ndata-dir ${server.dataDir}\nlog-dir ${server.logDir}\n`,
  );
  if (parsed.options.faults?.length) process.stdout.write(`faults ${parsed.options.faults.join(' ')}\n`);
  if (parsed.generated && server.token !== undefined) process.stdout.write(`token ${server.token}\n`);
  if (server.token !== undefined && !parsed.generated) {
    process.stderr.write(
      `serve: every client needs the token: wscat -c ${server.url} -H "Authorization: Bearer <token>" (or ?token=<token>)\n`,
    );
  }
  if (server.token === undefined)
    process.stderr.write('serve: --no-token: every local user can run commands through this server as you\n');

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
