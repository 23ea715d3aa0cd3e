import { pathToFileURL } from 'node:url';
import { FAULTS, parseFaults } from './faults.ts';
import { startReferenceServer } from './index.ts';
import { ServerConfigError, validateOptions, type ServerOptions } from './options.ts';

export const TOKEN_ENV = 'WSGATE_SERVE_TOKEN';

export const SERVE_USAGE = `Usage: serve [options]
  --host HOST           address to listen on (default 127.0.0.1); any other than loopback needs --allow-remote
  --port N              port, 0 for a free one (default 3001)
  --root DIR            project folder for sessions that name none; sessions only on it and below
                        (default: current folder)
  --data-dir DIR        private folder for sessions.json: yours, not group/other-writable
                        (default: a new private temp folder each start)
  --log-dir DIR         where combined.log and error.log go (default: DATA_DIR/logs)
  --fault NAME          misbehave on purpose; repeatable (see --list-faults)
  --ping-interval MS    server ping period (default 30000)
  --slow-ms MS          delay used by the slow fault (default 6000)
  --max-sessions N      sessions kept at once; a new one beyond drops the least recently active (default 1000)
  --session-ttl S       a session idle for S seconds is dropped (default 3600)
Security (the server runs commands and commits on request; see docs/security.md):
  --allow-origin ORIGIN a web page origin (http(s)://host[:port]) admitted besides loopback ones; repeatable.
                        Requests with another Origin header get 403; clients that send none are unaffected
  --allow-host NAME     a Host header name (or name:port) admitted besides 127.0.0.1, localhost, [::1]; repeatable
  --allow-remote        allow a non-loopback --host (e.g. 0.0.0.0); every client then needs the token
  --token TOKEN         require this token (Authorization: Bearer TOKEN, or ?token=TOKEN) from every client;
                        also from $${TOKEN_ENV}; generated and printed when --allow-remote has none
  --allow-any-project   allow sessions on any folder of the machine, not only under --root
  --list-faults         print the fault names and exit
  --help                print this help and exit
The first line printed is "listening ws://HOST:PORT/ws" once the server accepts connections.`;

class UsageError extends Error {}

type Parsed = { kind: 'help' } | { kind: 'list-faults' } | { kind: 'serve'; options: ServerOptions };

function integer(name: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${name} needs an integer >= ${min}, got "${value}"`);
  return Number(value);
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const options: ServerOptions = {};
  const faults: string[] = [];
  const origins: string[] = [];
  const hosts: string[] = [];
  if (env[TOKEN_ENV]) options.token = env[TOKEN_ENV];
  const args = argv.flatMap((a) => (/^--[^=]+=/.test(a) ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return { kind: 'help' };
      case '--list-faults':
        return { kind: 'list-faults' };
      case '--host':
        options.host = value();
        break;
      case '--port':
        options.port = integer(flag, value(), 0);
        if (options.port > 65535) throw new UsageError(`--port must be at most 65535`);
        break;
      case '--root':
        options.root = value();
        break;
      case '--data-dir':
        options.dataDir = value();
        break;
      case '--log-dir':
        options.logDir = value();
        break;
      case '--ping-interval':
        options.pingIntervalMs = integer(flag, value(), 1);
        break;
      case '--slow-ms':
        options.slowMs = integer(flag, value(), 0);
        break;
      case '--max-sessions':
        options.maxSessions = integer(flag, value(), 1);
        break;
      case '--session-ttl':
        options.sessionIdleTtlMs = integer(flag, value(), 1) * 1000;
        break;
      case '--allow-origin':
        origins.push(value());
        break;
      case '--allow-host':
        hosts.push(value());
        break;
      case '--allow-remote':
        options.allowRemote = true;
        break;
      case '--token':
        options.token = value();
        break;
      case '--allow-any-project':
        options.allowAnyProject = true;
        break;
      case '--fault': {
        const name = value();
        faults.push(name);
        // "--fault refuse-after 3": the count travels as its own argument.
        if (name === 'refuse-after' && /^\d+$/.test(args[i + 1] ?? '')) faults.push(args[++i]);
        break;
      }
      default:
        throw new UsageError(`Unknown option: ${flag}`);
    }
  }
  try {
    parseFaults(faults);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  options.faults = faults;
  if (origins.length > 0) options.allowOrigins = origins;
  if (hosts.length > 0) options.allowHosts = hosts;
  try {
    validateOptions(options);
  } catch (error) {
    if (error instanceof ServerConfigError) throw new UsageError(error.message);
    throw error;
  }
  return { kind: 'serve', options };
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function serveMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`serve: ${error.message}\n${SERVE_USAGE}\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(SERVE_USAGE + '\n');
    return 0;
  }
  if (parsed.kind === 'list-faults') {
    for (const [name, { description }] of Object.entries(FAULTS)) process.stdout.write(`${name}  ${description}\n`);
    return 0;
  }

  let server;
  try {
    server = await startReferenceServer(parsed.options);
  } catch (error) {
    process.stderr.write(`serve: could not start: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`listening ${server.url}\n`);
  process.stdout.write(`health ${server.httpUrl}/health\ndata-dir ${server.dataDir}\nlog-dir ${server.logDir}\n`);
  if (parsed.options.faults?.length) process.stdout.write(`faults ${parsed.options.faults.join(' ')}\n`);
  // A token the user did not choose must be shown once, or nobody could connect.
  if (server.token !== undefined && parsed.options.token === undefined) process.stdout.write(`token ${server.token}\n`);
  if (server.token !== undefined) {
    process.stderr.write(`serve: every client needs the token: wscat -c ${server.url} -H "Authorization: Bearer <token>" (or ?token=<token>)\n`);
  }

  const running = server;
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write(`serve: ${signal}, closing\n`);
      running.close().then(
        () => resolve(0),
        (error: unknown) => {
          process.stderr.write(`serve: close failed: ${String(error)}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args[0] === 'serve') args.shift();
  process.exitCode = await serveMain(args);
}
