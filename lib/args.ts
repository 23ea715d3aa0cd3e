// Command-line parsing for `wsgate run` (and scripts/test-websocket.sh). Bad input is a usage error
// (exit 2) with the usage line; nothing runs.
import { parseArgs } from 'node:util';
import { HarnessFailure, EXIT } from './errors.ts';

export const RUN_USAGE = 'usage: wsgate run [URL] [PATH] [--gates FILE] [--gate ID]... [--list] [--bail] [--timeout-scale X] [--var NAME=VALUE]... [--secret-var NAME=VALUE]... [--reporter NAME[:FILE]]... [--out DIR] [--require-signoff] [--quiet] [--verbose] [--keep] [--help] [--version]';

export const RUN_HELP = `${RUN_USAGE}

Runs the gates of a gates.yaml against a WebSocket server through real wscat connections.

  URL                 ws:// or wss:// URL of the server; none: start the embedded reference server
  PATH                project folder the server works on (sent as projectPath); created if
                      missing, git-initialised if not a repository; none: a fresh temp folder
  --gates FILE        gates file (default: the gates.yaml shipped with wsgate)
  --gate ID           run only this gate (repeatable)
  --list              print gate ids and titles, run nothing
  --bail              stop at the first failed step (the workflow's HARD STOP)
  --timeout-scale X   multiply every deadline by X (e.g. 3 on a slow CI machine)
  --var NAME=VALUE    set a variable (repeatable)
  --secret-var NAME=VALUE  set a variable whose value is shown as *** everywhere
  --reporter NAME[:FILE]   add a reporter (repeatable; default console)
  --out DIR           evidence folder (default .wsgate/runs/<time>-<run id>)
  --require-signoff   exit 1 while a gate that ran has manual checks awaiting sign-off
  --quiet             print failures and the summary only
  --verbose           print every frame sent and received
  --keep              keep the temp project folder and server data
  --no-color          no colour (also when NO_COLOR is set or output is not a TTY)

exit codes: 0 every gate passed · 1 a check failed · 2 usage or gates.yaml error ·
            3 the harness could not work · 130 interrupted`;

export interface RunArgs {
  url?: string;
  project?: string;
  gatesFile?: string;
  gates: string[];
  list: boolean;
  bail: boolean;
  timeoutScale: number;
  vars: Record<string, string>;
  secrets: string[];
  reporters: { name: string; file?: string }[];
  out?: string;
  requireSignoff: boolean;
  quiet: boolean;
  verbose: boolean;
  keep: boolean;
  help: boolean;
  version: boolean;
  color: boolean;
}

function usage(message: string): HarnessFailure {
  return new HarnessFailure([{ code: 'USAGE', title: message, hint: RUN_USAGE.replace(/^usage: /, '') }], EXIT.usage);
}

function parseVar(s: string, flag: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw usage(`${flag} expects NAME=VALUE, got "${s}"`);
  const name = s.slice(0, i);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw usage(`${flag}: "${name}" is not a variable name`);
  return [name, s.slice(i + 1)];
}

export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stdout.isTTY)): RunArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        gates: { type: 'string' },
        gate: { type: 'string', multiple: true },
        list: { type: 'boolean' },
        bail: { type: 'boolean' },
        'timeout-scale': { type: 'string' },
        var: { type: 'string', multiple: true },
        'secret-var': { type: 'string', multiple: true },
        reporter: { type: 'string', multiple: true },
        out: { type: 'string' },
        'require-signoff': { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        verbose: { type: 'boolean', short: 'v' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        'no-color': { type: 'boolean' },
      },
    });
  } catch (e) {
    throw usage((e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option'));
  }
  const v = parsed.values;
  const pos = parsed.positionals;
  if (pos.length > 2) throw usage(`too many arguments: ${pos.slice(2).join(' ')}`);
  let url: string | undefined;
  let project: string | undefined;
  const isWs = (s: string) => /^wss?:\/\//i.test(s);
  const looksUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
  if (pos[0] !== undefined) {
    if (isWs(pos[0])) url = pos[0];
    else if (looksUrl(pos[0])) throw usage(`URL must start with ws:// or wss://, got "${pos[0]}"`);
    else if (pos.length === 2) throw usage(`first argument must be a ws:// or wss:// URL when a PATH follows, got "${pos[0]}"`);
    else project = pos[0];
  }
  if (pos[1] !== undefined) {
    if (looksUrl(pos[1])) throw usage(`PATH must be a folder, got the URL "${pos[1]}"`);
    project = pos[1];
  }
  if (url) {
    try {
      const u = new URL(url);
      if (!u.hostname) throw new Error('no host');
    } catch {
      throw usage(`not a valid URL: "${url}"`);
    }
  }
  if (project === '') throw usage('PATH is empty');
  let timeoutScale = 1;
  if (v['timeout-scale'] !== undefined) {
    timeoutScale = Number(v['timeout-scale']);
    if (!Number.isFinite(timeoutScale) || timeoutScale <= 0 || v['timeout-scale'].trim() === '') throw usage(`--timeout-scale expects a positive number, got "${v['timeout-scale']}"`);
  }
  const vars: Record<string, string> = {};
  const secrets: string[] = [];
  for (const s of v.var ?? []) {
    const [k, val] = parseVar(s, '--var');
    vars[k] = val;
  }
  for (const s of v['secret-var'] ?? []) {
    const [k, val] = parseVar(s, '--secret-var');
    vars[k] = val;
    secrets.push(val);
  }
  const reporters = (v.reporter ?? []).map((r) => {
    const i = r.indexOf(':');
    return i < 0 ? { name: r } : { name: r.slice(0, i), file: r.slice(i + 1) };
  });
  for (const flag of ['gates', 'out'] as const) if (v[flag] === '') throw usage(`--${flag} needs a value`);
  if (v.quiet && v.verbose) throw usage('--quiet and --verbose cannot be used together');
  return {
    ...(url ? { url } : {}),
    ...(project !== undefined ? { project } : {}),
    ...(v.gates ? { gatesFile: v.gates } : {}),
    gates: v.gate ?? [],
    list: v.list ?? false,
    bail: v.bail ?? false,
    timeoutScale,
    vars,
    secrets,
    reporters,
    ...(v.out ? { out: v.out } : {}),
    requireSignoff: v['require-signoff'] ?? false,
    quiet: v.quiet ?? false,
    verbose: v.verbose ?? false,
    keep: v.keep ?? false,
    help: v.help ?? false,
    version: v.version ?? false,
    color: isTTY && !v['no-color'] && env.NO_COLOR === undefined,
  };
}
