// `npm run bench`: measures the harness against its floor, the bare cost of wscat, the stdout parser,
// a 1,000,000-delta stream end to end, and 50 gates serial vs --parallel 8. Prints a table and writes
// bench/results.json. A script, never a timed test; scratch files go under bench/tmp/ (git-ignored).
//
//   npm run bench                 everything (about 2-3 minutes on 2 cores)
//   npm run bench -- --reps 3     fewer repetitions of the whole-run measurements
//   npm run bench -- --only deltas,parser   some sections (gates, bare, parser, deltas, fifty, verdict):
//                                 compared like a full run, written to bench/tmp/results-partial.json
// Every figure is compared with the last full run recorded in bench/results.json (bench/compare.ts) and a
// regression beyond noise is printed as REGRESSION; a full run then replaces results.json and adds a
// row to the history table of docs/performance.md.
import { timeToVerdict } from './verdict.ts';
import { bundleIsFresh } from '../scripts/bundle-fresh.mjs';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { startReferenceServer } from '../reference-server/index.ts';
import { wscatEnv } from '../lib/wscat/connection.ts';
import { ensureTmp, loadAvg, machine, ROOT, stats, TIME_BIN, timed, TMP, type Stats, type Timed } from './common.ts';
import { deltaRun, type DeltaRun } from './deltas.ts';
import { compare, comparisonRows, type Comparison } from './compare.ts';

const argv = process.argv.slice(2);
const REPS = Number(argv[argv.indexOf('--reps') + 1] || 0) || 5;
const DELTAS = Number(argv[argv.indexOf('--deltas') + 1] || 0) || 1_000_000;
const benchStarted = performance.now();
/**
 * The whole bench must finish within 3 minutes on 2 cores, even when other jobs load the machine:
 * repeated measurements stop early (keeping a minimum number of repetitions) once a section would
 * run past its share of this budget. The repetitions actually made are in results.json.
 */
const BUDGET_S = Number(argv[argv.indexOf('--budget') + 1] || 0) || 170;
const SECTIONS = ['gates', 'bare', 'parser', 'deltas', 'fifty', 'verdict'] as const;
type Section = (typeof SECTIONS)[number];
const ONLY = argv.includes('--only') ? new Set(argv[argv.indexOf('--only') + 1]!.split(',') as Section[]) : null;
for (const s of ONLY ?? [])
  if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s} (sections: ${SECTIONS.join(', ')})`);
const wants = (s: Section) => ONLY === null || ONLY.has(s);
const RESULTS = path.join(ROOT, 'bench', 'results.json');
const HISTORY_DOC = path.join(ROOT, 'docs', 'performance.md');
const secondsLeft = () => BUDGET_S - (performance.now() - benchStarted) / 1000;

/** The documented Gate 3A (protocol-notes "The full Gate 3A"): every default gate except `ping` and `sessions`. */
const GATE_3A = [
  'connection',
  'session-init',
  'chat-stream',
  'write-file',
  'read-file',
  'list-files',
  'execute-command',
  'git-status',
  'git-commit',
  'slash-help',
  'health',
  'logs',
  'rest-sessions',
  'error-recovery',
  'tool-errors',
  'concurrency',
];
/**
 * Latency budgets are checks, not work: scaled up so a machine loaded by other jobs cannot turn a
 * timing run into a failed run (a failed run aborts the bench: its times would mean nothing).
 */
const BUDGET_SCALE = ['--budget-scale', '20'];

/** The default gates' ids and how many wscat connections each opens (`connect:` steps, `count:`). */
function defaultGates(): { ids: string[]; connections: Map<string, number> } {
  const doc = parseYaml(readFileSync(path.join(ROOT, 'gates.yaml'), 'utf8')) as {
    gates: { id: string; steps: Record<string, unknown>[] }[];
  };
  const connections = new Map<string, number>();
  for (const g of doc.gates) {
    let n = 0;
    for (const step of g.steps) {
      const c = step.connect;
      if (c !== undefined)
        n += typeof c === 'object' && c !== null && 'count' in c ? Number((c as { count: number }).count) : 1;
    }
    connections.set(g.id, n);
  }
  return { ids: doc.gates.map((g) => g.id), connections };
}
const DEFAULT = defaultGates();
const connectionsOf = (ids: string[]) => ids.reduce((n, id) => n + DEFAULT.connections.get(id)!, 0);
const CONNECTIONS_ALL = connectionsOf(DEFAULT.ids);
const CONNECTIONS_3A = connectionsOf(GATE_3A);

const log = (s: string) => process.stderr.write(s + '\n');
const secs = (ms: number) => (ms / 1000).toFixed(2) + ' s';
const elapsed = () => Math.round((performance.now() - benchStarted) / 1000);

function must(t: Timed, what: string): Timed {
  if (t.code !== 0) throw new Error(`${what} exited ${t.code}\n${t.stdout.slice(-2000)}\n${t.stderr.slice(-2000)}`);
  return t;
}

let runSeq = 0;
const outDir = (name: string) => path.join(TMP, 'runs', `${name}-${runSeq++}`);

let rebuilds = 0;
/**
 * bin/wsgate.js silently falls back to the tsx loader (~3× the start-up CPU, +30 MB) when a source is
 * newer than dist/wsgate.mjs, so a source edited while the bench runs would skew every later number:
 * rebuild before each measured CLI run when that happened.
 */
async function ensureFreshBundle(): Promise<void> {
  if (bundleIsFresh()) return;
  must(await timed(process.execPath, ['scripts/build.mjs']), 'npm run build');
  rebuilds++;
}

async function harness(args: string[], name: string): Promise<Timed> {
  await ensureFreshBundle();
  const out = outDir(name);
  return timed('./scripts/test-websocket.sh', [...args, ...BUDGET_SCALE, '--quiet', '--out', out]).then((t) => {
    must(t, `wsgate ${name}`);
    rmSync(out, { recursive: true, force: true });
    return t;
  });
}

// ---------------------------------------------------------------------------------------------
// Set-up: a fresh bundle for the CLI (bin/wsgate.js falls back to tsx when it is stale) and one for
// the floor, so both are measured as plain `node file.mjs` processes with the same start-up.

async function prepare(): Promise<string> {
  ensureTmp('runs');
  must(await timed(process.execPath, ['scripts/build.mjs']), 'npm run build');
  const floorBundle = path.join(TMP, 'floor.mjs');
  const opts = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  } as const;
  await build({ ...opts, entryPoints: [path.join(ROOT, 'bench', 'floor.ts')], outfile: floorBundle });
  // The parser too, so its peak RSS is the parser's and node's, not the tsx loader's (~+30 MB).
  await build({ ...opts, entryPoints: [path.join(ROOT, 'bench', 'parser.ts')], outfile: path.join(TMP, 'parser.mjs') });
  return floorBundle;
}

// ---------------------------------------------------------------------------------------------
// 1. The default gates: harness vs floor, interleaved round by round so load drift hits both alike.

interface FloorRun {
  ms: number;
  serverMs: number;
  connections: number;
}

async function gatesVsFloor(floorBundle: string) {
  const gate3a = GATE_3A.flatMap((g) => ['--gate', g]);
  const r = {
    full: [] as Timed[],
    g3a: [] as Timed[],
    floorFull: [] as Timed[],
    floor3a: [] as Timed[],
    floorFullIn: [] as FloorRun[],
    floor3aIn: [] as FloorRun[],
  };
  const floor = async (args: string[], into: Timed[], inProc: FloorRun[]) => {
    const t = must(await timed(process.execPath, [floorBundle, ...args]), 'floor');
    into.push(t);
    inProc.push(JSON.parse(t.stdout.trim().split('\n').pop()!) as FloorRun);
  };
  // One unmeasured round warms the page cache and git.
  await harness(gate3a, 'warm');
  await floor(gate3a.slice(0, 2), [], []);
  // This section may use what is left of the budget minus the ~75 s the later sections need.
  for (let i = 0; i < REPS; i++) {
    const roundStarted = performance.now();
    r.full.push(await harness([], 'full'));
    r.g3a.push(await harness(gate3a, 'gate3a'));
    await floor(
      DEFAULT.ids.flatMap((g) => ['--gate', g]),
      r.floorFull,
      r.floorFullIn,
    );
    await floor(gate3a, r.floor3a, r.floor3aIn);
    log(
      `  round ${i + 1}/${REPS}: full ${secs(r.full[i]!.wallMs)}, 3A ${secs(r.g3a[i]!.wallMs)}, floor ${secs(r.floorFull[i]!.wallMs)} / ${secs(r.floor3a[i]!.wallMs)}  (load ${loadAvg()[0]})`,
    );
    const roundS = (performance.now() - roundStarted) / 1000;
    if (i + 1 >= 3 && secondsLeft() - roundS < 75) {
      log(`  stopping after ${i + 1} rounds: the bench's ${BUDGET_S} s budget`);
      break;
    }
  }
  if (r.floorFullIn[0]!.connections !== CONNECTIONS_ALL || r.floor3aIn[0]!.connections !== CONNECTIONS_3A) {
    throw new Error(
      `the floor opened ${r.floorFullIn[0]!.connections}/${r.floor3aIn[0]!.connections} connections, gates.yaml ${CONNECTIONS_ALL}/${CONNECTIONS_3A}: bench/floor.ts is out of date`,
    );
  }
  const w = (ts: Timed[]) => stats(ts.map((t) => t.wallMs));
  const c = (ts: Timed[]) => stats(ts.map((t) => t.cpuMs ?? 0));
  return {
    harnessFull: { wallMs: w(r.full), cpuMs: c(r.full) },
    harness3a: { wallMs: w(r.g3a), cpuMs: c(r.g3a) },
    floorFull: {
      processWallMs: w(r.floorFull),
      inProcessMs: stats(r.floorFullIn.map((f) => f.ms)),
      cpuMs: c(r.floorFull),
    },
    floor3a: { processWallMs: w(r.floor3a), inProcessMs: stats(r.floor3aIn.map((f) => f.ms)), cpuMs: c(r.floor3a) },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Bare wscat: start it, `/ping` until the pong shows (the socket is open), `/close`, wait for exit.

async function bareWscat(url: string, n = 10) {
  const bin = path.join(ROOT, 'node_modules', 'wscat', 'bin', 'wscat');
  // The environment the harness gives its own wscat processes, so the two costs compare.
  const env = wscatEnv({ url, openTimeoutMs: 10_000 });
  const walls: number[] = [];
  const opens: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < n; i++) {
    const timeFile = path.join(TMP, `bare-${i}.txt`);
    const started = performance.now();
    const child = TIME_BIN
      ? spawn(TIME_BIN, ['-f', '%U %S', '-o', timeFile, process.execPath, bin, '-c', url, '-P', '--slash'], {
          stdio: ['pipe', 'pipe', 'pipe'],
          env,
        })
      : spawn(process.execPath, [bin, '-c', url, '-P', '--slash'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    let out = '';
    let delay = 5;
    let open = false;
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stdin!.on('error', () => undefined);
    while (!open) {
      child.stdin!.write(`/ping x\n`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
      open = out.includes('Received pong');
      if (performance.now() - started > 10_000) throw new Error('bare wscat never opened');
    }
    opens.push(performance.now() - started);
    child.stdin!.write('/close 1000\n');
    await exited;
    walls.push(performance.now() - started);
    if (TIME_BIN) {
      const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
      cpus.push((u! + s!) * 1000);
      rmSync(timeFile, { force: true });
    }
  }
  return { openWallMs: stats(opens), wallMs: stats(walls), cpuMs: cpus.length ? stats(cpus) : null };
}

// ---------------------------------------------------------------------------------------------
// 3. The parser alone (each case in its own process, for its own peak RSS).

async function parserBench() {
  const run = async (...args: string[]) =>
    JSON.parse(
      must(await timed(process.execPath, [path.join(TMP, 'parser.mjs'), ...args]), `parser ${args[0]}`).stdout.trim(),
    ) as Record<string, number>;
  return { recorded: await run('recorded', '200000'), deltas: await run('deltas', String(DELTAS)) };
}

// ---------------------------------------------------------------------------------------------
// 4. 1,000,000 deltas end to end: real server, real wscat, real CLI (bench/deltas.ts), repeated so its
// spread is known: a single number could not tell a regression from a busy minute.

async function millionDeltas(reps: number) {
  await ensureFreshBundle();
  // The same run with one delta: the CLI's own footprint (node, its modules, one wscat, evidence).
  const baseline = await deltaRun(1);
  const runs: DeltaRun[] = [];
  for (let i = 0; i < reps; i++) {
    await ensureFreshBundle();
    runs.push(await deltaRun(DELTAS));
    const r = runs[i]!;
    log(
      `  run ${i + 1}/${reps}: ${secs(r.wallMs)}, CPU ${secs(r.cpuMs ?? 0)}, CLI ${r.cliPeakRssMb} MB, wscat ${r.wscatPeakRssMb} MB, ${k(r.transcriptLines)} transcript lines  (load ${loadAvg()[0]})`,
    );
  }
  const s = (f: (r: DeltaRun) => number) => stats(runs.map(f));
  return {
    deltas: DELTAS,
    wallMs: s((r) => r.wallMs),
    cpuMs: s((r) => r.cpuMs ?? 0),
    cliPeakRssMb: s((r) => r.cliPeakRssMb),
    wscatPeakRssMb: s((r) => r.wscatPeakRssMb),
    transcriptLines: Math.min(...runs.map((r) => r.transcriptLines)),
    transcriptMb: runs[0]!.transcriptMb,
    framesPerSec: Math.round(DELTAS / (stats(runs.map((r) => r.wallMs)).median / 1000)),
    baselineCliPeakRssMb: baseline.cliPeakRssMb,
    baselineWallMs: baseline.wallMs,
  };
}

// ---------------------------------------------------------------------------------------------
// 5. 50 small gates: serial, --parallel 8, and one alone.

function fiftyGates(): string {
  const file = path.join(ensureTmp(), 'fifty.yaml');
  const gates = Array.from({ length: 50 }, (_, i) => {
    const id = `g${String(i + 1).padStart(2, '0')}`;
    return `  - id: ${id}
    title: "write ${id}.txt through the server and find it on disk"
    steps:
      - connect: main
      - send: {type: init_session, projectPath: "\${PROJECT}"}
        expect: [{type: session_initialized}]
        forbid: [error]
      - send: {type: message, message: "Create a ${id}.txt file with '${id} \${RUN_ID}'"}
        expect:
          - {type: tool_result, where: {tool: write_file}, match: {error: {absent: true}}}
          - {type: message_complete}
        forbid: [error]
      - verify: {file: ${id}.txt, content: "${id} \${RUN_ID}", changed: true}
`;
  });
  writeFileSync(file, `version: 1\ngates:\n${gates.join('')}`);
  return file;
}

async function fifty(reps: number) {
  const file = fiftyGates();
  const serial: Timed[] = [];
  const parallel: Timed[] = [];
  const single: Timed[] = [];
  for (let i = 0; i < reps; i++) {
    const roundStarted = performance.now();
    single.push(await harness(['--gates', file, '--gate', 'g01'], 'one'));
    parallel.push(await harness(['--gates', file, '--parallel', '8'], 'parallel8'));
    serial.push(await harness(['--gates', file], 'serial'));
    log(
      `  round ${i + 1}/${reps}: one ${secs(single[i]!.wallMs)}, --parallel 8 ${secs(parallel[i]!.wallMs)}, serial ${secs(serial[i]!.wallMs)}  (load ${loadAvg()[0]})`,
    );
    if (i + 1 < reps && secondsLeft() < (performance.now() - roundStarted) / 1000) {
      log(`  stopping after ${i + 1} rounds: the bench's ${BUDGET_S} s budget`);
      break;
    }
  }
  const w = (ts: Timed[]) => stats(ts.map((t) => t.wallMs));
  const c = (ts: Timed[]) => stats(ts.map((t) => t.cpuMs ?? 0));
  return {
    one: { wallMs: w(single), cpuMs: c(single) },
    parallel8: { wallMs: w(parallel), cpuMs: c(parallel) },
    serial: { wallMs: w(serial), cpuMs: c(serial) },
  };
}

// ---------------------------------------------------------------------------------------------

interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
  /** How far off, when missed (measured / limit). */
  missedBy?: string;
}

function target(name: string, goal: string, value: number, limit: number, show: (v: number) => string): Target {
  const met = value <= limit;
  return {
    name,
    target: goal,
    measured: show(value),
    met,
    ...(met ? {} : { missedBy: `${show(value - limit)} over (${(value / limit).toFixed(2)}× the limit)` }),
  };
}

function atLeast(name: string, goal: string, value: number, limit: number, show: (v: number) => string): Target {
  const met = value >= limit;
  return {
    name,
    target: goal,
    measured: show(value),
    met,
    ...(met ? {} : { missedBy: `${show(limit - value)} short (${(value / limit).toFixed(2)}× the target)` }),
  };
}

function row(cells: string[], widths: number[]): string {
  return '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [
    row(rows[0]!, widths),
    '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|',
    ...rows.slice(1).map((r) => row(r, widths)),
  ].join('\n');
}

const ms = (s: Stats) => `${secs(s.median)} (min ${secs(s.min)})`;
const k = (n: number) => n.toLocaleString('en-US');

/** The history row for docs/performance.md: date, load, and the figures people look at first. */
function historyRow(results: { date: string; load: Record<string, number[]> }, cs: Comparison[]): string {
  const fig = (name: string) => cs.find((c) => c.name === name)?.now;
  const s = (name: string) => {
    const f = fig(name);
    return f ? (f.unit === 'ms' ? `${(f.median / 1000).toFixed(2)} s` : `${Math.round(f.median)} MB`) : '—';
  };
  const regressions = cs.filter((c) => c.verdict === 'regression').map((c) => c.name);
  return `| ${results.date.slice(0, 16).replace('T', ' ')} | ${results.load.start![0]} | ${s('whole gates.yaml, wall')} | ${s('deltas end to end, wall')} | ${s('deltas end to end, CLI peak RSS')} | ${s('50 gates, --parallel 8')} / ${s('1 gate alone')} | ${regressions.length ? regressions.join('; ') : 'none'} |`;
}

/** Adds a row at the end of the history table, which follows the HISTORY marker in docs/performance.md. */
function appendHistory(row: string): void {
  const MARK = '<!-- bench history: npm run bench adds a row below -->';
  const text = readFileSync(HISTORY_DOC, 'utf8');
  const at = text.indexOf(MARK);
  if (at < 0) {
    log(`  ${HISTORY_DOC} has no history marker: row not added`);
    return;
  }
  const lines = text.slice(at).split('\n');
  let last = 1;
  while (last < lines.length && lines[last]!.startsWith('|')) last++;
  lines.splice(last, 0, row);
  writeFileSync(HISTORY_DOC, text.slice(0, at) + lines.join('\n'));
}

async function main(): Promise<void> {
  const load = { start: loadAvg() } as Record<string, number[]>;
  log(
    `wsgate bench: ${machine().cores} × ${machine().cpu}, node ${process.version}, load ${loadAvg().join(' ')}, ${REPS} repetitions${ONLY ? `, only ${[...ONLY].join(', ')}` : ''}`,
  );
  const before: unknown = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : undefined;
  const floorBundle = await prepare();
  const step = (n: number, what: string) => log(`${n}/6 ${what}`);

  let gates: Awaited<ReturnType<typeof gatesVsFloor>> | undefined;
  if (wants('gates')) {
    step(1, 'default gates vs floor');
    gates = await gatesVsFloor(floorBundle);
    load.afterGates = loadAvg();
  }

  let bare: Awaited<ReturnType<typeof bareWscat>> | undefined;
  if (wants('bare')) {
    step(2, 'bare wscat');
    const server = await startReferenceServer({
      host: '127.0.0.1',
      port: 0,
      root: ensureTmp('bare-project'),
      dataDir: ensureTmp('bare-data'),
    });
    try {
      bare = await bareWscat(server.url);
    } finally {
      await server.close();
    }
    load.afterBare = loadAvg();
  }

  let parser: Awaited<ReturnType<typeof parserBench>> | undefined;
  if (wants('parser')) {
    step(3, 'parser alone');
    parser = await parserBench();
    load.afterParser = loadAvg();
  }

  let million: Awaited<ReturnType<typeof millionDeltas>> | undefined;
  if (wants('deltas')) {
    step(4, `${k(DELTAS)} deltas end to end`);
    million = await millionDeltas(Math.max(2, Math.min(3, REPS)));
    load.afterMillion = loadAvg();
  }

  let fiftyRes: Awaited<ReturnType<typeof fifty>> | undefined;
  if (wants('fifty')) {
    step(5, '50 gates: serial vs --parallel 8');
    fiftyRes = await fifty(Math.max(1, Math.min(3, REPS)));
    load.afterFifty = loadAvg();
  }

  let verdicts: Awaited<ReturnType<typeof timeToVerdict>> | undefined;
  if (wants('verdict')) {
    step(6, 'time to verdict: healthy and broken servers');
    verdicts = await timeToVerdict(Math.max(1, Math.min(3, REPS)));
  }
  load.end = loadAvg();

  const targets: Target[] = [];
  const rows = [['measurement', 'median (min)', 'notes']];
  let derived = {};
  if (gates) {
    const perConnFull = (gates.harnessFull.wallMs.median - gates.floorFull.processWallMs.median) / CONNECTIONS_ALL;
    const perConn3a = (gates.harness3a.wallMs.median - gates.floor3a.processWallMs.median) / CONNECTIONS_3A;
    const ratioFull = gates.harnessFull.wallMs.median / gates.floorFull.processWallMs.median;
    const ratio3a = gates.harness3a.wallMs.median / gates.floor3a.processWallMs.median;
    derived = {
      ratioFull,
      ratio3a,
      perConnectionOverheadMsFull: Math.round(perConnFull),
      perConnectionOverheadMs3a: Math.round(perConn3a),
    };
    targets.push(
      target('gate3a', 'Gate 3A alone < 1.5 s wall', gates.harness3a.wallMs.median, 1500, secs),
      target('fullGates', 'whole gates.yaml < 3 s wall', gates.harnessFull.wallMs.median, 3000, secs),
    );
    if (bare) {
      const allowFull = 1.5 * gates.floorFull.processWallMs.median + CONNECTIONS_ALL * bare.wallMs.median;
      const allow3a = 1.5 * gates.floor3a.processWallMs.median + CONNECTIONS_3A * bare.wallMs.median;
      targets.push(
        target(
          'harnessVsFloor',
          `harness ≤ 1.5 × floor + ${CONNECTIONS_ALL} × bare wscat (${secs(allowFull)})`,
          gates.harnessFull.wallMs.median,
          allowFull,
          secs,
        ),
        target(
          'harnessVsFloor3a',
          `Gate 3A ≤ 1.5 × floor + ${CONNECTIONS_3A} × bare wscat (${secs(allow3a)})`,
          gates.harness3a.wallMs.median,
          allow3a,
          secs,
        ),
      );
    }
    rows.push(
      [
        `./scripts/test-websocket.sh, all ${DEFAULT.ids.length} gates`,
        ms(gates.harnessFull.wallMs),
        `CPU ${secs(gates.harnessFull.cpuMs.median)} (CLI + wscat children); ${CONNECTIONS_ALL} connections`,
      ],
      [
        `floor, all ${DEFAULT.ids.length} gates (process)`,
        ms(gates.floorFull.processWallMs),
        `in-process ${ms(gates.floorFull.inProcessMs)}; CPU ${secs(gates.floorFull.cpuMs.median)}`,
      ],
      ['  harness / floor', `${ratioFull.toFixed(2)}×`, `${Math.round(perConnFull)} ms per connection over the floor`],
      [
        'Gate 3A (15 gates)',
        ms(gates.harness3a.wallMs),
        `CPU ${secs(gates.harness3a.cpuMs.median)}; ${CONNECTIONS_3A} connections`,
      ],
      ['floor, Gate 3A (process)', ms(gates.floor3a.processWallMs), `in-process ${ms(gates.floor3a.inProcessMs)}`],
      ['  harness / floor', `${ratio3a.toFixed(2)}×`, `${Math.round(perConn3a)} ms per connection over the floor`],
    );
  }
  if (bare)
    rows.push([
      'bare wscat: start, open, close',
      ms(bare.wallMs),
      `socket open after ${ms(bare.openWallMs)}; CPU ${bare.cpuMs ? ms(bare.cpuMs) : 'n/a'}`,
    ]);
  if (parser) {
    targets.push(
      atLeast(
        'parser',
        'parser ≥ 200,000 msg/s (recorded stream)',
        parser.recorded.msgPerSec!,
        200_000,
        (v) => `${k(Math.round(v))} msg/s`,
      ),
      atLeast(
        'parserDeltas',
        'parser ≥ 200,000 msg/s (1M deltas)',
        parser.deltas.msgPerSec!,
        200_000,
        (v) => `${k(Math.round(v))} msg/s`,
      ),
      target(
        'rssParser',
        `peak RSS < 100 MB, ${k(DELTAS)} deltas, parser alone`,
        parser.deltas.peakRssMb!,
        100,
        (v) => `${v} MB`,
      ),
    );
    rows.push(
      [
        'parser, recorded stream',
        `${k(parser.recorded.msgPerSec!)} msg/s`,
        `${k(parser.recorded.messages!)} msgs, ${parser.recorded.mb} MB, ${parser.recorded.mbPerSec} MB/s; ${k(parser.recorded.cpuMsgPerSec!)} msg/s of CPU`,
      ],
      [
        `parser, ${k(DELTAS)} deltas`,
        `${k(parser.deltas.msgPerSec!)} msg/s`,
        `peak RSS ${parser.deltas.peakRssMb} MB; ${k(parser.deltas.cpuMsgPerSec!)} msg/s of CPU`,
      ],
    );
  }
  if (million) {
    targets.push(
      target(
        'rss',
        `peak RSS < 100 MB, ${k(DELTAS)} deltas end to end (CLI)`,
        million.cliPeakRssMb.max,
        100,
        (v) => `${v} MB`,
      ),
    );
    if (million.transcriptLines < DELTAS)
      targets.push({
        name: 'transcript',
        target: `transcript.jsonl holds ≥ ${k(DELTAS)} lines`,
        measured: k(million.transcriptLines),
        met: false,
      });
    rows.push([
      `${k(DELTAS)} deltas end to end (CLI + wscat)`,
      ms(million.wallMs),
      `${k(million.framesPerSec)} frames/s; CPU ${ms(million.cpuMs)}; peak RSS CLI ${million.cliPeakRssMb.min}–${million.cliPeakRssMb.max} MB (${million.baselineCliPeakRssMb} MB with 1 delta), wscat ${million.wscatPeakRssMb.median} MB; transcript ${k(million.transcriptLines)} lines, ${million.transcriptMb} MB`,
    ]);
  }
  let parRatio: number | undefined;
  if (fiftyRes) {
    parRatio = fiftyRes.parallel8.wallMs.median / fiftyRes.one.wallMs.median;
    targets.push(target('parallel', '--parallel 8 on 50 gates ≤ 3 × one gate', parRatio, 3, (v) => `${v.toFixed(2)}×`));
    rows.push(
      ['50 gates, serial', ms(fiftyRes.serial.wallMs), `CPU ${secs(fiftyRes.serial.cpuMs.median)}`],
      [
        '50 gates, --parallel 8',
        ms(fiftyRes.parallel8.wallMs),
        `CPU ${secs(fiftyRes.parallel8.cpuMs.median)}; ${(fiftyRes.serial.wallMs.median / fiftyRes.parallel8.wallMs.median).toFixed(2)}× faster than serial`,
      ],
      ['1 gate alone', ms(fiftyRes.one.wallMs), `--parallel 8 / one gate = ${parRatio.toFixed(2)}×`],
    );
  }
  for (const v of verdicts ?? []) {
    if (v.server === 'healthy')
      targets.push(
        target(`verdict-${v.server}`, 'healthy default run < 3 s (time to verdict)', v.wallMs.median, 3000, secs),
      );
    else
      targets.push(
        target(
          `verdict-${v.server}`,
          `${v.server}: exit 1 in ≤ 10 s`,
          v.exit === 1 ? v.wallMs.median : Infinity,
          10_000,
          secs,
        ),
      );
  }
  const verdictRows = verdicts
    ? [
        ['server', 'exit', 'time to verdict, median (min)', 'gates'],
        ...verdicts.map((v) => [v.server, String(v.exit), ms(v.wallMs), v.gates]),
      ]
    : null;
  const targetRows = [
    ['target', 'measured', 'verdict'],
    ...targets.map((t) => [t.target, t.measured, t.met ? 'met' : `MISSED: ${t.missedBy ?? ''}`]),
  ];

  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    load,
    ...(ONLY ? { only: [...ONLY] } : {}),
    repetitions: {
      asked: REPS,
      gatesVsFloor: gates?.harnessFull.wallMs.n,
      fiftyGates: fiftyRes?.serial.wallMs.n,
      bareWscat: bare?.wallMs.n,
      deltas: million?.wallMs.n,
    },
    budgetSeconds: BUDGET_S,
    defaultGates: DEFAULT.ids,
    gate3a: GATE_3A,
    budgetScale: Number(BUDGET_SCALE[1]),
    bundleRebuildsDuringBench: rebuilds,
    connections: { all: CONNECTIONS_ALL, gate3a: CONNECTIONS_3A },
    ...(gates ? { gates: { ...gates, ...derived } } : {}),
    ...(bare ? { bareWscat: bare } : {}),
    ...(parser ? { parser } : {}),
    ...(million ? { million } : {}),
    ...(fiftyRes ? { fiftyGates: { ...fiftyRes, parallelOverOne: parRatio } } : {}),
    ...(verdicts ? { timeToVerdict: verdicts } : {}),
    targets,
    benchSeconds: elapsed(),
  };
  const comparisons = compare(before, results);
  const regressions = comparisons.filter((c) => c.verdict === 'regression');
  const out = ONLY ? path.join(ensureTmp(), 'results-partial.json') : RESULTS;
  writeFileSync(
    out,
    JSON.stringify(
      {
        ...results,
        comparedWith: (before as { date?: string } | undefined)?.date ?? null,
        regressions: regressions.map((c) => c.name),
      },
      null,
      2,
    ) + '\n',
  );
  if (!ONLY) appendHistory(historyRow(results, comparisons));
  const m = machine();
  process.stdout.write(
    `\nwsgate bench · ${m.cores} × ${m.cpu} · node ${m.node} · load avg ${load.start!.join('/')} → ${load.end!.join('/')} · ${results.date.slice(0, 10)}\n\n`,
  );
  process.stdout.write(
    table(rows) + '\n\n' + (verdictRows ? table(verdictRows) + '\n\n' : '') + table(targetRows) + '\n\n',
  );
  const since = (before as { date?: string } | undefined)?.date?.slice(0, 16).replace('T', ' ') ?? 'nothing recorded';
  process.stdout.write(
    `Compared with the last recorded run (${since}); beyond noise = worse by > 25 % with no overlap of the ranges:\n\n${table(comparisonRows(comparisons))}\n\n`,
  );
  if (regressions.length)
    process.stdout.write(
      `REGRESSION: ${regressions.map((c) => `${c.name} ${c.ratio!.toFixed(2)}× the recorded median`).join('; ')}\n`,
    );
  else process.stdout.write('no regression beyond noise\n');
  process.stdout.write(`wrote ${path.relative(ROOT, out)} (${elapsed()} s)\n`);
  process.exitCode = regressions.length ? 1 : 0;
}

await main();
