import { pathToFileURL } from 'node:url';
import { FAULTS, parseFaults } from './faults.ts';
import { startReferenceServer, type ServerOptions } from './index.ts';

export const SERVE_USAGE = `Usage: serve [options]
  --host HOST           address to listen on (default 127.0.0.1)
  --port N              port, 0 for a free one (default 3001)
  --root DIR            project folder for sessions that name none (default: current folder)
  --data-dir DIR        where sessions.json lives (default: a folder in the OS temp dir)
  --log-dir DIR         where combined.log and error.log go (default: DATA_DIR/logs)
  --fault NAME          misbehave on purpose; repeatable (see --list-faults)
  --ping-interval MS    server ping period (default 30000)
  --slow-ms MS          delay used by the slow fault (default 6000)
  --list-faults         print the fault names and exit
  --help                print this help and exit
The first line printed is "listening ws://HOST:PORT/ws" once the server accepts connections.`;

class UsageError extends Error {}

type Parsed = { kind: 'help' } | { kind: 'list-faults' } | { kind: 'serve'; options: ServerOptions };

function integer(name: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${name} needs an integer >= ${min}, got "${value}"`);
  return Number(value);
}

function parseArgs(argv: string[]): Parsed {
  const options: ServerOptions = {};
  const faults: string[] = [];
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
  return { kind: 'serve', options };
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function serveMain(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
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
