// Command-line parsing for `wsgate run` (and scripts/test-websocket.sh). Every flag is declared once, in
// RUN_FLAGS; the usage line, the --help text, node:util's options and the type RunArgs come from it.
// Bad input is a usage error (exit 2) with the usage line; nothing runs.
import { existsSync } from 'node:fs';
import type { HarnessFailure } from '../errors.ts';
import {
  HELP,
  helpText,
  list,
  off,
  on,
  parsed,
  readFlags,
  splitArgv,
  text,
  usageError,
  usageFlags,
  type FlagValues,
  type Parse,
} from './flags.ts';

/** A positive number: the scales multiply deadlines and budgets. */
const positive: Parse<number> = (raw, refuse, flag) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || raw.trim() === '')
    throw refuse(`${flag} expects a positive number, got "${raw}"`);
  return n;
};

/** `NAME=VALUE` of --var and --secret-var: the value keeps any further "=". */
const variable: Parse<[string, string]> = (s, refuse, flag) => {
  const i = s.indexOf('=');
  if (i <= 0) throw refuse(`${flag} expects NAME=VALUE, got "${s}"`);
  const name = s.slice(0, i);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw refuse(`${flag}: "${name}" is not a variable name`);
  return [name, s.slice(i + 1)];
};

/** `NAME[:FILE]` of --reporter (run and merge); whether NAME is a reporter is checked where they are made. */
export const reporterSpec: Parse<{ name: string; file?: string }> = (r, refuse, flag) => {
  const i = r.indexOf(':');
  if (i === 0 || i === r.length - 1) throw refuse(`${flag} expects NAME or NAME:FILE, got "${r}"`);
  return i < 0 ? { name: r } : { name: r.slice(0, i), file: r.slice(i + 1) };
};

export const RUN_FLAGS = {
  gatesFile: text(
    'gates',
    'FILE',
    'gates file (default: gates.yaml or wsgate.yaml of the current folder,\nelse the agent-backend gates shipped with wsgate)',
  ),
  gates: list('gate', 'ID', 'run only this gate (repeatable)'),
  skipGates: list('skip-gate', 'ID', 'leave this gate out (repeatable; shown as skipped, with the gates that need it)'),
  list: on('list', 'print gate ids and titles, run nothing'),
  bail: on('bail', "stop at the first failed step (the workflow's HARD STOP)"),
  timeoutScale: parsed('timeout-scale', 'X', 'multiply every deadline by X (e.g. 3 on a slow CI machine)', 1, positive),
  budgetScale: parsed(
    'budget-scale',
    'X',
    'multiply every latency budget by X (budgets stay recorded either way)',
    1,
    positive,
  ),
  parallel: parsed(
    'parallel',
    'N',
    'run up to N gates at once, each in a fresh project folder of its own\n(gates with serial: true run afterwards, alone, on PATH)',
    1,
    (raw, refuse, flag) => {
      const n = Number(raw);
      if (!/^\d+$/.test(raw.trim()) || n < 1)
        throw refuse(`${flag} expects a whole number of gates >= 1, got "${raw}"`);
      return n;
    },
  ),
  parallelRoot: text(
    'parallel-root',
    'DIR',
    'with --parallel, make the per-gate project folders under DIR (default: inside\nPATH, in .wsgate-parallel-<run id>-XXXX/, so a server confined to its root accepts them)',
  ),
  shard: parsed(
    'shard',
    'K/N',
    'run only shard K of N (every Nth gate in file order; same split everywhere)',
    undefined as { index: number; total: number } | undefined,
    (raw, refuse, flag) => {
      const m = /^(\d+)\/(\d+)$/.exec(raw.trim());
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[1]) > Number(m[2]))
        throw refuse(`${flag} expects K/N with 1 <= K <= N, got "${raw}"`);
      return { index: Number(m[1]), total: Number(m[2]) };
    },
  ),
  varList: list('var', 'NAME=VALUE', 'set a variable (repeatable)', variable),
  secretList: list(
    'secret-var',
    'NAME=VALUE',
    'set a variable whose value is shown as *** everywhere',
    (s, refuse, flag) => {
      const [name, value] = variable(s, refuse, flag);
      // Shorter values cannot be told apart from ordinary text, so they could not be redacted reliably.
      if (value.length < 3) throw refuse(`${flag} ${name}: a secret must be at least 3 characters long to be redacted`);
      return [name, value] as [string, string];
    },
  ),
  reporters: list('reporter', 'NAME[:FILE]', 'add a reporter (repeatable; default console)', reporterSpec),
  out: text(
    'out',
    'DIR',
    "evidence folder, new or empty (default .wsgate/runs/<time>-<run id> in the\ncurrent folder; a private per-user folder when that is inside PATH or\ninside wsgate's own package)",
  ),
  requireChecked: on(
    'require-checked',
    'exit 4 when a gate was not checked (a premise wsgate could not establish,\ne.g. the logs gate without LOG_DIR); otherwise such a run exits 0',
  ),
  requireSignoff: on('require-signoff', 'exit 1 while a gate that ran has manual checks awaiting sign-off'),
  quiet: on('quiet', 'print failures and the summary only', { short: 'q' }),
  verbose: on('verbose', 'print every frame sent and received', { short: 'v' }),
  keep: on('keep', 'keep the temp project folder and server data'),
  noColor: on('no-color', 'no colour (also when NO_COLOR is set or output is not a TTY)'),
  lenient: on('lenient', 'protocol violations are warnings, not failed checks'),
  requireCoverage: parsed(
    'require-coverage',
    'P',
    'exit 1 when the run exercised less than P % of the protocol file',
    undefined as number | undefined,
    (given, refuse, flag) => {
      const raw = given.replace(/%$/, '');
      const p = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(p) || p < 0 || p > 100)
        throw refuse(`${flag} expects a percentage from 0 to 100, got "${given}"`);
      return p;
    },
  ),
  pool: off(
    'no-pool',
    "spawn each wscat when its connect step runs (default: connections the gates\nfile will make are opened ahead, so wscat's start-up overlaps other work)",
  ),
  model: on(
    'model',
    "serve the model API stand-in (wsgate model) during the run, for a backend you\nstart yourself: the line to set is printed (also with a gates file's model:\nsection and a start: step, which then gets ANTHROPIC_BASE_URL and OPENAI_BASE_URL)",
  ),
  modelPort: parsed(
    'model-port',
    'P',
    "the stand-in's port (implies --model; default: a free one), so a backend started\nbefore the run can be pointed at it",
    undefined as number | undefined,
    (raw, refuse, flag) => {
      if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535)
        throw refuse(`${flag} expects a port from 1 to 65535, got "${raw}"`);
      return Number(raw);
    },
  ),
  gitInit: on('git-init', 'make PATH a git repository even when no gate checks git'),
  allowSubfolder: on(
    'allow-subfolder',
    "accept a PATH inside a git repository that is not its top folder (the\nserver's git tools then work on the whole repository)",
  ),
  help: HELP,
  version: on('version', "print wsgate's, wscat's and node's versions", { short: 'V' }),
};

const POSITIONALS = [
  ['URL', 'ws:// or wss:// URL of the server; none: start the embedded reference server'],
  [
    'PATH',
    "the project folder: the server's working folder, whose files and git the\nverify steps read (sent to the server only where a gate writes ${PROJECT});\ncreated if missing; made a git repository only if a gate checks git (or\n--git-init) and it is not one; none: a fresh temp folder",
  ],
] as const;

export const RUN_USAGE = `usage: wsgate run [URL] [PATH] ${usageFlags(RUN_FLAGS)}`;

export const RUN_HELP = helpText(
  RUN_USAGE,
  'Runs the gates of a gates.yaml against a WebSocket server through real wscat connections.',
  POSITIONALS,
  RUN_FLAGS,
  `exit codes: 0 no check failed (gates not checked are listed) · 1 a check failed ·
            2 usage or gates.yaml error · 3 the harness could not work ·
            4 a gate was not checked and --require-checked is set · 130 interrupted`,
);

type FlagArgs = Omit<FlagValues<typeof RUN_FLAGS>, 'varList' | 'secretList' | 'noColor'>;

/** `wsgate run`'s arguments: the flags' values, the target, and what is derived from several of them. */
export interface RunArgs extends FlagArgs {
  url?: string;
  project?: string;
  /** --var and --secret-var values by name (the later one wins). */
  vars: Record<string, string>;
  /** --secret-var values: shown as *** everywhere. */
  secrets: string[];
  /** Colour on: a TTY, no --no-color, no NO_COLOR. */
  color: boolean;
}

const usage = usageError(RUN_USAGE);

/**
 * `[URL] [PATH]` as `wsgate run` takes them (and `wsgate record`): a single argument that is not a
 * ws:// URL is PATH; near-URLs are refused rather than taken as a folder name to create.
 */
export function parseTarget(
  pos: string[],
  usage: (message: string) => HarnessFailure,
): { url?: string; project?: string } {
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
    else if (pos.length === 2)
      throw usage(`first argument must be a ws:// or wss:// URL when a PATH follows, got "${pos[0]}"`);
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

export function parseRunArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  isTTY = Boolean(process.stdout.isTTY),
): RunArgs {
  const { raw, positionals } = splitArgv(RUN_FLAGS, argv, usage);
  const target = parseTarget(positionals, usage);
  const { varList, secretList, noColor, ...flags } = readFlags(RUN_FLAGS, raw, usage);
  if (flags.quiet && flags.verbose) throw usage('--quiet and --verbose cannot be used together');
  return {
    ...target,
    ...flags,
    vars: Object.fromEntries([...varList, ...secretList]),
    secrets: secretList.map(([, value]) => value),
    color: isTTY && !noColor && env.NO_COLOR === undefined,
  };
}
