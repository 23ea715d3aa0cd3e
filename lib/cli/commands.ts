// `wsgate <command>`: argv in, exit code out. Harness errors are printed as `FILE:LINE:COL: message`
// lines with a hint, never as stack traces.
import { report } from '../reporters/dispatch.ts';
import { PROCESS_TABLE } from '../os/process.ts';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { initGates } from './init.ts';
import { parseRunArgs, RUN_HELP, type RunArgs } from './args.ts';
import { EXIT, HarnessFailure, formatError, didYouMean } from '../errors.ts';
import { loadGatesFile } from '../gates/load.ts';
import type { LoadedGate } from '../gates/model.ts';
import type { StepDefinition } from '../runner/step-api.ts';
import { STEPS } from '../../steps/index.ts';
import { prepareProject, removeOwned, GateFolders } from '../runner/project.ts';
import { startEmbeddedTarget, type EmbeddedServer } from '../runner/embedded.ts';
import { onInterrupt } from './interrupt.ts';
import { EvidenceWriter } from '../evidence/writer.ts';
import { checkOutDir, createRunDir } from '../evidence/dir.ts';
import { signingKey } from '../evidence/signing.ts';
import { runGates } from '../runner/run.ts';
import { REPORTERS, REPORTER_NAMES, claimsStdout, type Reporter, type RunInfo } from '../reporters/index.ts';
import { Secrets } from '../evidence/secrets.ts';
import { WscatPool } from '../wscat/pool.ts';
import { loadProtocol, Coverage, isShippedProtocol } from '../protocol/index.ts';
import { ProtocolWatch } from '../protocol/watch.ts';
import { wscatBinPath, wscatVersion } from '../wscat/connection.ts';
import { PACKAGE_ROOT } from '../package-root.ts';

export const DEFAULT_GATES = path.join(PACKAGE_ROOT, 'gates.yaml');

export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const COMMANDS = ['run', 'serve', 'record', 'signoff', 'status', 'merge', 'init', 'help'] as const;
const MAIN_USAGE = `usage: wsgate [run] [URL] [PATH] [options]   run gates (see wsgate run --help)
       wsgate serve [options]                 start the reference server (see wsgate serve --help)
       wsgate record [URL] [PATH] [--out FILE]   turn a manual session into a gate (see wsgate record --help)
       wsgate signoff [RUN_DIR] --gate ID --by NAME [--note TEXT]   record a person's sign-off
       wsgate status [--gates FILE] [--runs DIR]                     each gate's latest state
       wsgate merge DIR... [--out DIR] [--reporter NAME[:FILE]]     one report from shards' results
       wsgate init [DIR] [--force]                                   write a starter gates.yaml`;

function printErrors(errors: HarnessFailure['errors'], out: NodeJS.WritableStream = process.stderr): void {
  for (const e of errors) out.write(formatError(e) + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === 'serve') {
      const { serveMain } = await import('../../reference-server/cli.ts');
      return await serveMain(rest);
    }
    if (first === 'help' || first === '--help' || first === '-h') {
      process.stdout.write(`${MAIN_USAGE}\n\n${RUN_HELP}\n`);
      return EXIT.passed;
    }
    if (first === 'run') return await runCommand(rest);
    if (first === 'init') return initMain(rest);
    if (first === 'record') return await (await import('../record/cli.ts')).recordMain(rest);
    if (first === 'merge') return await (await import('./merge.ts')).mergeMain(rest);
    if (first === 'signoff') return (await import('../signoff/cli.ts')).signoffMain(rest);
    if (first === 'status') return (await import('../signoff/cli.ts')).statusMain(rest, chooseGatesFile(undefined).file);
    if (first !== undefined && /^[a-z][a-z-]*$/.test(first) && !existsSync(first)) {
      const guess = didYouMean(first, COMMANDS);
      throw new HarnessFailure([{ code: 'USAGE', title: `unknown command "${first}"`, hint: guess ? `did you mean "wsgate ${guess}"? (a folder named ${first} must exist to be a PATH)` : MAIN_USAGE }], EXIT.usage);
    }
    return await runCommand(argv);
  } catch (e) {
    if (e instanceof HarnessFailure) {
      printErrors(e.errors);
      return e.exitCode;
    }
    process.stderr.write(`wsgate: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.harness;
  }
}

function initMain(argv: string[]): number {
  const usage = 'usage: wsgate init [DIR] [--force]';
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new HarnessFailure([{ code: 'USAGE', title: (e as Error).message.replace(/\. To specify.*$/s, ''), hint: usage.slice(7) }], EXIT.usage);
  }
  if (parsed.values.help) {
    process.stdout.write(usage + '\n');
    return EXIT.passed;
  }
  if (parsed.positionals.length > 1) throw new HarnessFailure([{ code: 'USAGE', title: `too many arguments: ${parsed.positionals.slice(1).join(' ')}`, hint: usage.slice(7) }], EXIT.usage);
  const r = initGates(parsed.positionals[0] ?? process.cwd(), { force: parsed.values.force ?? false });
  if (!r.ok) {
    process.stderr.write(`wsgate: ${r.reason}\n`);
    return EXIT.usage;
  }
  process.stdout.write(`wrote ${r.file}\nnext: ${nextCommand(r.file)}\n`);
  return EXIT.passed;
}

/** Whether any step of these gates needs a git repository (a verify git step, a `git` command). */
export function gatesUseGit(gates: LoadedGate[]): boolean {
  return gates.some((g) => g.steps.some((s) => (STEPS[s.kind] as unknown as StepDefinition).usesGit?.(s.params) ?? false));
}

/**
 * The command that runs a gates file from the current folder: inside wsgate's own checkout its script,
 * anywhere else (wsgate installed as a dependency, or run with npx) `npx wsgate run`, which finds a
 * gates.yaml of the current folder by itself.
 */
export function nextCommand(file: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, file) || file;
  if (path.resolve(cwd) === PACKAGE_ROOT) return `./scripts/test-websocket.sh ws://localhost:3001/ws ./my-project --gates ${rel}`;
  const found = DISCOVERED_GATES.some((n) => path.resolve(cwd, n) === path.resolve(file));
  return `npx wsgate run ws://localhost:3001/ws${found ? '' : ` --gates ${rel}`}   (no URL: against wsgate's embedded reference server)`;
}

/** Files a project's own gates may be called, looked for in the current folder when --gates is not given. */
export const DISCOVERED_GATES = ['gates.yaml', 'wsgate.yaml'];

/**
 * Which gates file a run uses, and how to name it: --gates as typed; else ./gates.yaml or ./wsgate.yaml of
 * the current folder (as test runners find their config); else the agent-backend gates shipped with wsgate.
 */
export function chooseGatesFile(given: string | undefined, cwd = process.cwd()): { file: string; display: string; origin: string } {
  if (given !== undefined) return { file: path.resolve(cwd, given), display: given, origin: 'from --gates' };
  for (const name of DISCOVERED_GATES) {
    const file = path.join(cwd, name);
    if (existsSync(file)) return { file, display: name, origin: path.resolve(file) === DEFAULT_GATES ? "wsgate's own default gates" : 'found in the current folder' };
  }
  const rel = path.relative(cwd, DEFAULT_GATES);
  return { file: DEFAULT_GATES, display: rel && !rel.startsWith('..') ? rel : DEFAULT_GATES, origin: 'the agent-backend gates shipped with wsgate: no gates.yaml in the current folder' };
}

function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/** The gates file's protocol, loaded before anything runs: a broken protocol file is a usage error. */
function loadRunProtocol(file: string | undefined, lenient: boolean): ProtocolWatch | undefined {
  if (!file) return undefined;
  // The shipped files are checked against the AsyncAPI specification by the tests; that check costs ~1 s.
  const r = loadProtocol(file, { checkDocument: !isShippedProtocol(file) });
  if (!r.ok) throw new HarnessFailure(r.errors, EXIT.usage);
  return new ProtocolWatch(r.protocol, new Coverage(r.protocol), lenient);
}

function buildReporters(args: RunArgs): Reporter[] {
  const list = args.reporters.length ? args.reporters : [{ name: 'console' }];
  if (!list.some((r) => r.name === 'console')) list.unshift({ name: 'console' });
  // `--reporter json:-` owns stdout: everything meant for people goes to stderr then.
  const out = claimsStdout(list) ? process.stderr : process.stdout;
  return list.map((r) => {
    if (!(REPORTER_NAMES as string[]).includes(r.name)) {
      const guess = didYouMean(r.name, REPORTER_NAMES);
      throw new HarnessFailure([{ code: 'USAGE', title: `unknown reporter "${r.name}"`, hint: guess ? `did you mean "${guess}"?` : `reporters: ${REPORTER_NAMES.join(', ')}` }], EXIT.usage);
    }
    return REPORTERS[r.name as keyof typeof REPORTERS]({ ...(r.file ? { file: r.file } : {}), quiet: args.quiet, verbose: args.verbose, color: args.color, out });
  });
}

/** Secret from the start: --secret-var values and every `${env.NAME}` the gates file reads. */
function runSecrets(args: RunArgs, gatesSource: string, signingKey: string | undefined): Secrets {
  const secrets = new Secrets();
  for (const v of args.secrets) secrets.add(v);
  secrets.addUrl(args.url);
  secrets.add(signingKey);
  for (const m of gatesSource.matchAll(/\$\{env\.([A-Za-z_][A-Za-z0-9_]*)\}/g)) secrets.add(process.env[m[1]!]);
  return secrets;
}

async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (args.help) {
    process.stdout.write(RUN_HELP + '\n');
    return EXIT.passed;
  }
  if (args.version) {
    process.stdout.write(`wsgate ${packageVersion()} (wscat ${wscatVersion()}, node ${process.version})\n`);
    return EXIT.passed;
  }
  const chosen = chooseGatesFile(args.gatesFile);
  const gatesFile = chosen.file;
  const loaded = loadGatesFile(gatesFile, { cliVars: args.vars, display: chosen.display });
  if (!loaded.ok) {
    printErrors(loaded.errors);
    process.stderr.write(`wsgate: ${loaded.errors.length} problem${loaded.errors.length === 1 ? '' : 's'} in ${chosen.display}; nothing was run\n`);
    return EXIT.usage;
  }
  const gates = loaded.gates;
  if (args.list) {
    const w = Math.max(...gates.gates.map((g) => g.id.length));
    for (const g of gates.gates) process.stdout.write(`${g.id.padEnd(w)}  ${g.title}\n`);
    return EXIT.passed;
  }
  for (const id of args.gates) {
    if (!gates.gates.some((g) => g.id === id)) {
      const guess = didYouMean(id, gates.gates.map((g) => g.id));
      throw new HarnessFailure([{ code: 'USAGE', title: `--gate ${id}: no such gate in ${path.basename(gatesFile)}`, hint: guess ? `did you mean "${guess}"?` : 'see --list' }], EXIT.usage);
    }
  }
  // Compiling the protocol's validators costs ~0.1 s of CPU. With a temp project nothing of the user's
  // is touched by starting first, so the server and the first wscat start while it compiles; with a
  // PATH of the user's, every input is checked before anything is created or git-initialised in it.
  const compileLate = args.project === undefined;
  let protocol = compileLate ? undefined : loadRunProtocol(gates.protocol, args.lenient);
  const reporters = buildReporters(args);
  if (!wscatBinPath()) throw new HarnessFailure([{ code: 'WSCAT_MISSING', title: 'wscat is not installed', hint: 'run `npm ci` in the wsgate folder (wscat is a local dependency)' }], EXIT.harness);

  if (args.out !== undefined) checkOutDir(args.out, args.project);
  // Read and taken out of the environment before any child starts: the server under test must not inherit it.
  const key = signingKey();
  const runId = newRunId();
  // PATH becomes a repository only for gates that look at git (issue 13: a notes server's data
  // folder should not grow a .git/).
  const withGit = args.gitInit || gatesUseGit(gates.gates.filter((g) => !args.gates.length || args.gates.includes(g.id)));
  const project = await prepareProject(args.project, { git: withGit, allowSubfolder: args.allowSubfolder });
  const controller = new AbortController();
  const offInterrupt = onInterrupt(controller, (sig) => process.stderr.write(`\nwsgate: ${sig} received, stopping (again to force)\n`));
  let server: EmbeddedServer | undefined;
  let pool: WscatPool | undefined;
  const gateFolders = new GateFolders(runId, withGit);
  // --keep keeps what a run made; a run stopped by a usage error before its first gate made nothing.
  let started = false;
  try {
    const secrets = runSecrets(args, gates.source, key);
    if (!args.url) server = await startEmbeddedTarget(project.path, args.keep);
    const url = args.url ?? server!.url;
    pool = new WscatPool(args.pool);
    pool.prewarm({ url, openTimeoutMs: Math.round(gates.defaults.timeoutMs * args.timeoutScale) });
    if (compileLate) protocol = loadRunProtocol(gates.protocol, args.lenient);
    // Only now, when every input has been accepted: a usage error leaves no evidence folder behind.
    const outDir = createRunDir(args.out, project.path, runId);
    const evidence = new EvidenceWriter(outDir, secrets.redact, key);
    const info: RunInfo = { runId, url, project: project.path, gatesFile: chosen.display, gatesOrigin: chosen.origin, gatesSource: gates.source, embedded: !args.url, version: packageVersion(), gateCount: gates.gates.length, evidenceDir: outDir, redact: secrets.redact };
    await report(reporters, 'onRunStart', info);
    const interactive = Boolean(process.stdin.isTTY) && !process.env.CI;
    let rl: ReturnType<typeof createInterface> | undefined;
    let asking: Promise<string> = Promise.resolve('');
    started = true;
    const result = await runGates({
      gates,
      url,
      project: project.path,
      runId,
      only: args.gates,
      bail: args.bail,
      timeoutScale: args.timeoutScale,
      budgetScale: args.budgetScale,
      parallel: args.parallel,
      ...(args.shard ? { shard: args.shard } : {}),
      gateProject: (id: string) => gateFolders.create(id),
      cliVars: args.vars,
      verbose: args.verbose,
      interactive,
      ...(interactive
        ? {
            // One question at a time (parallel gates may ask together); Ctrl-C at a prompt stops the
            // run like Ctrl-C anywhere else, and an interrupted run stops asking.
            ask: (q: string) => {
              rl ??= createInterface({ input: process.stdin, output: process.stdout });
              const line = rl;
              const next = asking.then(() => (controller.signal.aborted ? 'skip' : line.question(`    ${q}(evidence: ${outDir}) `, { signal: controller.signal })));
              asking = next.catch(() => 'skip');
              return next.catch(() => {
                controller.abort();
                return 'skip';
              });
            },
          }
        : {}),
      reporters,
      evidence,
      secrets,
      pool,
      ...(protocol ? { protocol } : {}),
      signal: controller.signal,
    });
    await pool.close();
    rl?.close();
    if (args.requireCoverage !== undefined) {
      const got = result.coverage?.percent.overall;
      if (got === undefined) result.warnings.push('--require-coverage needs a protocol file (`protocol:` in the gates file)');
      if (got === undefined || got < args.requireCoverage) {
        if (got !== undefined) result.warnings.push(`protocol coverage ${got}% is below --require-coverage ${args.requireCoverage}%`);
        if (result.exitCode === EXIT.passed) {
          result.exitCode = EXIT.failed;
          result.status = 'failed';
        }
      }
    }
    if (args.requireSignoff && result.totals.pending > 0 && result.exitCode === EXIT.passed) {
      result.warnings.push(`${result.totals.pending} gate(s) await sign-off and --require-signoff is set`);
      result.exitCode = EXIT.failed;
      result.status = 'failed';
    }
    evidence.writeFile('gates.resolved.yaml', gates.source);
    evidence.writeFile('variables.json', JSON.stringify({ URL: url, PROJECT: project.path, RUN_ID: runId, ...gates.vars, ...args.vars }, null, 2) + '\n');
    // The embedded server's own logs are evidence too (the server is gone after the run).
    if (server) for (const f of ['combined.log', 'error.log']) {
      const p = path.join(server.logDir, f);
      if (existsSync(p)) evidence.writeFile(`logs/server-${f}`, readFileSync(p, 'utf8'));
    }
    evidence.writeFile('environment.json', JSON.stringify({ wsgate: packageVersion(), node: process.version, wscat: wscatVersion(), platform: `${process.platform} ${process.arch}`, processTable: PROCESS_TABLE, url, embedded: !args.url, project: project.path, gatesFile, timeoutScale: args.timeoutScale }, null, 2) + '\n');
    evidence.writeFile('result.json', JSON.stringify(secrets.redactDeep(result), null, 2) + '\n');
    await evidence.finish(runId);
    await report(reporters, 'onRunEnd', result, info);
    return result.exitCode;
  } finally {
    offInterrupt();
    await pool?.close();
    const keep = args.keep && started;
    await server?.stop(keep);
    gateFolders.cleanup(keep);
    if (!keep) removeOwned(project);
    else if (project.owned) process.stderr.write(`wsgate: kept project folder ${project.path}\n`);
  }
}


