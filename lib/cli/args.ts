// Command-line parsing for `wsgate run` (and scripts/test-websocket.sh). Bad input is a usage error
// (exit 2) with the usage line; nothing runs.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { HarnessFailure, EXIT, didYouMean } from '../errors.ts';

export const RUN_USAGE = 'usage: wsgate run [URL] [PATH] [--gates FILE] [--gate ID]... [--list] [--bail] [--timeout-scale X] [--budget-scale X] [--parallel N] [--shard K/N] [--var NAME=VALUE]... [--secret-var NAME=VALUE]... [--reporter NAME[:FILE]]... [--out DIR] [--require-signoff] [--quiet] [--verbose] [--keep] [--lenient] [--require-coverage P] [--no-pool] [--git-init] [--allow-subfolder] [--help] [--version]';

export const RUN_HELP = `${RUN_USAGE}

Runs the gates of a gates.yaml against a WebSocket server through real wscat connections.

  URL                 ws:// or wss:// URL of the server; none: start the embedded reference server
  PATH                the project folder: the server's working folder, whose files and git the
                      verify steps read (sent to the server only where a gate writes \${PROJECT});
                      created if missing; made a git repository only if a gate checks git (or
                      --git-init) and it is not one; none: a fresh temp folder
  --gates FILE        gates file (default: the gates.yaml shipped with wsgate)
  --gate ID           run only this gate (repeatable)
  --list              print gate ids and titles, run nothing
  --bail              stop at the first failed step (the workflow's HARD STOP)
  --timeout-scale X   multiply every deadline by X (e.g. 3 on a slow CI machine)
  --budget-scale X    multiply every latency budget by X (budgets stay recorded either way)
  --parallel N        run up to N gates at once, each in a fresh project folder of its own
                      (gates with serial: true run afterwards, alone, on PATH)
  --shard K/N         run only shard K of N (every Nth gate in file order; same split everywhere)
  --var NAME=VALUE    set a variable (repeatable)
  --secret-var NAME=VALUE  set a variable whose value is shown as *** everywhere
  --reporter NAME[:FILE]   add a reporter (repeatable; default console)
  --out DIR           evidence folder, new or empty (default .wsgate/runs/<time>-<run id> in the
                      current folder; a private per-user folder when that is inside PATH or
                      inside wsgate's own package)
  --require-signoff   exit 1 while a gate that ran has manual checks awaiting sign-off
  --quiet             print failures and the summary only
  --verbose           print every frame sent and received
  --keep              keep the temp project folder and server data
  --no-color          no colour (also when NO_COLOR is set or output is not a TTY)
  --lenient           protocol violations are warnings, not failed checks
  --require-coverage P  exit 1 when the run exercised less than P % of the protocol file
  --git-init          make PATH a git repository even when no gate checks git
  --allow-subfolder   accept a PATH inside a git repository that is not its top folder (the
                      server's git tools then work on the whole repository)
  --no-pool           spawn each wscat when its connect step runs (default: one connection
                      per option set is opened ahead, so wscat's start-up overlaps other work)

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
  budgetScale: number;
  parallel: number;
  shard?: { index: number; total: number };
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
  pool: boolean;
  lenient: boolean;
  requireCoverage?: number;
  gitInit: boolean;
  allowSubfolder: boolean;
}

const RUN_PARSE_OPTIONS = {
  gates: { type: 'string' },
  gate: { type: 'string', multiple: true },
  list: { type: 'boolean' },
  bail: { type: 'boolean' },
  'timeout-scale': { type: 'string' },
  'budget-scale': { type: 'string' },
  parallel: { type: 'string' },
  shard: { type: 'string' },
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
  'no-pool': { type: 'boolean' },
  lenient: { type: 'boolean' },
  'require-coverage': { type: 'string' },
  'git-init': { type: 'boolean' },
  'allow-subfolder': { type: 'boolean' },
} as const;
const RUN_OPTIONS = Object.keys(RUN_PARSE_OPTIONS);

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

/**
 * node:util's parseArgs messages, made one line and in wsgate's words (its "argument is ambiguous"
 * message is three lines and never names the value it refused).
 */
export function explainParseError(message: string, argv: string[], options: string[]): string {
  const first = message.split('\n')[0]!;
  let m = /^Unknown option '(-{1,2})([^']*)'/.exec(first);
  if (m) {
    const guess = m[1] === '--' ? didYouMean(m[2]!, options) : undefined;
    return `unknown option '${m[1]}${m[2]}'${guess ? ` (did you mean --${guess}?)` : ''}`;
  }
  m = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(first);
  if (m) return `${m[1]} needs a value`;
  m = /^Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/.exec(first);
  if (m) {
    const at = argv.indexOf(m[1]!);
    const next = at >= 0 ? argv[at + 1] : undefined;
    return next !== undefined ? `${m[1]} needs a value, but the next argument "${next}" starts with "-" (write ${m[1]}=${next} if it is the value)` : `${m[1]} needs a value`;
  }
  m = /^Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(first);
  if (m) return `${m[1]} takes no value`;
  return first.replace(/\. To specify a positional argument.*$/s, '');
}

/**
 * `[URL] [PATH]` as `wsgate run` takes them (and `wsgate record`): a single argument that is not a
 * ws:// URL is PATH; near-URLs are refused rather than taken as a folder name to create.
 */
export function parseTarget(pos: string[], usage: (message: string) => HarnessFailure): { url?: string; project?: string } {
  if (pos.length > 2) throw usage(`too many arguments: ${pos.slice(2).join(' ')}`);
  let url: string | undefined;
  let project: string | undefined;
  const isWs = (s: string) => /^wss?:\/\//i.test(s);
  const looksUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
  // `ws:/host` or `ws:host` is a mistyped URL, and `localhost:8080` a URL without its scheme: taken
  // as a PATH they would create a folder of that name.
  const almostWs = (s: string) => /^wss?:(?!\/\/)/i.test(s);
  const hostPort = (s: string) => /^[A-Za-z0-9.-]+:\d{1,5}(\/.*)?$/.test(s) && !existsSync(s);
  if (pos[0] !== undefined) {
    if (isWs(pos[0])) url = pos[0];
    else if (looksUrl(pos[0]) || almostWs(pos[0])) throw usage(`URL must start with ws:// or wss://, got "${pos[0]}"`);
    else if (hostPort(pos[0])) throw usage(`"${pos[0]}" looks like a host and port: give the URL as ws://${pos[0]}`);
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
  return { ...(url ? { url } : {}), ...(project !== undefined ? { project } : {}) };
}

export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stdout.isTTY)): RunArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: RUN_PARSE_OPTIONS,
    });
  } catch (e) {
    throw usage(explainParseError((e as Error).message, argv, RUN_OPTIONS));
  }
  const v = parsed.values;
  const { url, project } = parseTarget(parsed.positionals, usage);
  const scale = (flag: 'timeout-scale' | 'budget-scale'): number => {
    const raw = v[flag];
    if (raw === undefined) return 1;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || raw.trim() === '') throw usage(`--${flag} expects a positive number, got "${raw}"`);
    return n;
  };
  const timeoutScale = scale('timeout-scale');
  const budgetScale = scale('budget-scale');
  let requireCoverage: number | undefined;
  if (v['require-coverage'] !== undefined) {
    const raw = v['require-coverage'].replace(/%$/, '');
    requireCoverage = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(requireCoverage) || requireCoverage < 0 || requireCoverage > 100) throw usage(`--require-coverage expects a percentage from 0 to 100, got "${v['require-coverage']}"`);
  }
  let parallel = 1;
  if (v.parallel !== undefined) {
    parallel = Number(v.parallel);
    if (!/^\d+$/.test(v.parallel.trim()) || parallel < 1) throw usage(`--parallel expects a whole number of gates >= 1, got "${v.parallel}"`);
  }
  let shard: { index: number; total: number } | undefined;
  if (v.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[1]) > Number(m[2])) throw usage(`--shard expects K/N with 1 <= K <= N, got "${v.shard}"`);
    shard = { index: Number(m[1]), total: Number(m[2]) };
  }
  const vars: Record<string, string> = {};
  const secrets: string[] = [];
  for (const s of v.var ?? []) {
    const [k, val] = parseVar(s, '--var');
    vars[k] = val;
  }
  for (const s of v['secret-var'] ?? []) {
    const [k, val] = parseVar(s, '--secret-var');
    // Shorter values cannot be told apart from ordinary text, so they could not be redacted reliably.
    if (val.length < 3) throw usage(`--secret-var ${k}: a secret must be at least 3 characters long to be redacted`);
    vars[k] = val;
    secrets.push(val);
  }
  const reporters = (v.reporter ?? []).map((r) => {
    const i = r.indexOf(':');
    if (i === 0 || i === r.length - 1) throw usage(`--reporter expects NAME or NAME:FILE, got "${r}"`);
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
    budgetScale,
    parallel,
    ...(shard ? { shard } : {}),
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
    pool: !v['no-pool'],
    lenient: v.lenient ?? false,
    gitInit: v['git-init'] ?? false,
    allowSubfolder: v['allow-subfolder'] ?? false,
    ...(requireCoverage !== undefined ? { requireCoverage } : {}),
  };
}
