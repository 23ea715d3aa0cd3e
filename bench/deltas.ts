// The long-stream case end to end: a real delta server (bench/delta-server.ts), the real CLI and its
// real wscat; wall from here, CPU and whole-tree peak RSS from /usr/bin/time, the CLI's and wscat's own
// peak RSS sampled from /proc, and the transcript counted afterwards (it must hold every frame).
// Alone, and against other checkouts of wsgate in the same run (each built, `npm ci` done), alternated
// round by round so the load of a shared machine hits every side alike:
//   node --import tsx bench/deltas.ts [--deltas N] [--reps N] [--vs /path/to/old/checkout ...]
// Extra CLI flags (e.g. a profile) go after `--`: node --import tsx bench/deltas.ts -- --cpu-prof
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { childPids, ensureTmp, loadAvg, ROOT, stats, TIME_BIN, TMP, vmHwmKb, type Stats } from './common.ts';

export interface DeltaRun {
  deltas: number;
  wallMs: number;
  cpuMs: number | null;
  cliPeakRssMb: number;
  wscatPeakRssMb: number;
  treeMaxRssMb: number | null;
  transcriptLines: number;
  transcriptMb: number;
  framesPerSec: number;
}

async function waitLine(child: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  let text = '';
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      text += s;
      const m = re.exec(text);
      if (m) resolve(m);
    });
    child.once('close', (c) => reject(new Error(`exited ${c} before printing ${re}`)));
  });
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) for (const b of chunk as Buffer) if (b === 10) n++;
  return n;
}

function gatesFile(deltas: number): string {
  const file = path.join(ensureTmp(), `deltas-${deltas}.yaml`);
  writeFileSync(
    file,
    `version: 1
gates:
  - id: million-deltas
    title: "${deltas} content_delta frames, then message_complete"
    steps:
      - connect: main
      - send: {type: go}
        expect: [{type: message_complete}]
        within: 120s
`,
  );
  return file;
}

let seq = 0;

/**
 * One run of `root`'s CLI (its bin/wsgate.js, so an older checkout runs its own code) against a fresh
 * delta server. `nodeArgs` go to the CLI's node (e.g. --cpu-prof); `env` is added to its environment.
 */
export async function deltaRun(
  deltas: number,
  root = ROOT,
  nodeArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<DeltaRun> {
  const server = spawn(process.execPath, ['--import', 'tsx', 'bench/delta-server.ts', String(deltas)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = (await waitLine(server, /listening (\d+)/))[1];
    const out = path.join(TMP, 'runs', `deltas-${deltas}-${process.pid}-${seq++}`);
    const timeFile = path.join(ensureTmp(), `deltas-time-${process.pid}.txt`);
    rmSync(timeFile, { force: true });
    const cliArgs = [
      ...nodeArgs,
      path.join(root, 'bin', 'wsgate.js'),
      'run',
      `ws://127.0.0.1:${port}`,
      '--gates',
      gatesFile(deltas),
      '--quiet',
      '--out',
      out,
    ];
    const started = performance.now();
    const cli = spawn(
      TIME_BIN ?? process.execPath,
      [...(TIME_BIN ? ['-f', '%U %S %M', '-o', timeFile, process.execPath] : []), ...cliArgs],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    let output = '';
    cli.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
    cli.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
    const closed = new Promise<number | null>((r) => cli.once('close', (c) => r(c)));
    // The CLI's and wscat's peak RSS (VmHWM), sampled until the CLI exits.
    let cliPid: number | undefined;
    let cliHwm = 0;
    let wscatHwm = 0;
    let done = false;
    void closed.then(() => (done = true));
    while (!done) {
      if (cliPid === undefined) cliPid = TIME_BIN ? childPids(cli.pid!)[0] : cli.pid;
      if (cliPid !== undefined) {
        cliHwm = Math.max(cliHwm, vmHwmKb(cliPid) ?? 0);
        for (const c of childPids(cliPid)) wscatHwm = Math.max(wscatHwm, vmHwmKb(c) ?? 0);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const code = await closed;
    const wallMs = performance.now() - started;
    let cpuMs: number | null = null;
    let treeMaxRssKb: number | null = null;
    if (TIME_BIN && existsSync(timeFile)) {
      const [u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
      cpuMs = Math.round((u! + s!) * 1000);
      treeMaxRssKb = m!;
    }
    const transcript = path.join(out, 'transcript.jsonl');
    const transcriptLines = existsSync(transcript) ? await countLines(transcript) : 0;
    const transcriptMb = existsSync(transcript) ? Math.round(statSync(transcript).size / 1024 / 1024) : 0;
    if (code !== 0) throw new Error(`${deltas}-delta run of ${root} exited ${code}: ${output.slice(-2000)}`);
    rmSync(out, { recursive: true, force: true }); // ~150 MB of transcript
    return {
      deltas,
      wallMs: Math.round(wallMs),
      cpuMs,
      cliPeakRssMb: Math.round(cliHwm / 1024),
      wscatPeakRssMb: Math.round(wscatHwm / 1024),
      treeMaxRssMb: treeMaxRssKb && Math.round(treeMaxRssKb / 1024),
      transcriptLines,
      transcriptMb,
      framesPerSec: Math.round(deltas / (wallMs / 1000)),
    };
  } finally {
    server.kill('SIGTERM');
  }
}

export interface DeltaSummary {
  root: string;
  wallMs: Stats;
  cpuMs: Stats;
  cliPeakRssMb: Stats;
  wscatPeakRssMb: Stats;
  transcriptLines: number[];
}

function summary(root: string, runs: DeltaRun[]): DeltaSummary {
  return {
    root,
    wallMs: stats(runs.map((r) => r.wallMs)),
    cpuMs: stats(runs.map((r) => r.cpuMs ?? 0)),
    cliPeakRssMb: stats(runs.map((r) => r.cliPeakRssMb)),
    wscatPeakRssMb: stats(runs.map((r) => r.wscatPeakRssMb)),
    transcriptLines: runs.map((r) => r.transcriptLines),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const nodeArgs = dash < 0 ? [] : argv.slice(dash + 1);
  const opt = (name: string, dflt: number) => Number(own[own.indexOf(name) + 1] || 0) || dflt;
  const deltas = own.includes('--deltas') ? opt('--deltas', 1_000_000) : 1_000_000;
  const reps = opt('--reps', 3);
  const roots = [ROOT, ...own.flatMap((a, i) => (a === '--vs' ? [path.resolve(own[i + 1]!)] : []))];
  const runs = new Map<string, DeltaRun[]>(roots.map((r) => [r, []]));
  for (let i = 0; i < reps; i++) {
    // Alternate which side goes first, so neither always follows the other's page-cache warm-up.
    for (const root of i % 2 ? [...roots].reverse() : roots) {
      const r = await deltaRun(deltas, root, nodeArgs);
      runs.get(root)!.push(r);
      process.stderr.write(
        `  ${root}: ${(r.wallMs / 1000).toFixed(2)} s wall, ${((r.cpuMs ?? 0) / 1000).toFixed(2)} s CPU, CLI ${r.cliPeakRssMb} MB, wscat ${r.wscatPeakRssMb} MB, ${r.transcriptLines} lines (load ${loadAvg()[0]})\n`,
      );
    }
  }
  process.stdout.write(
    JSON.stringify(
      roots.map((r) => summary(r, runs.get(r)!)),
      null,
      2,
    ) + '\n',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
