// `wsgate merge DIR...`: one report and one exit code from the results of shards (--shard K/N) run on
// several CI machines. Gates come back in file order (a shard's i-th gate is gate i*N + K-1).
import { report, reportNow } from '../reporters/dispatch.ts';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ensureDirSync } from 'fs-extra/esm';
import { writeFileNoFollow } from '../evidence/safe-write.ts';
import path from 'node:path';
import { HarnessFailure, EXIT, didYouMean } from '../errors.ts';
import type { GateResult, RunResult } from '../evidence/results.ts';
import { summarise } from '../runner/run.ts';
import { mergeCoverage, type CoverageReport } from '../protocol/index.ts';
import { REPORTERS, REPORTER_NAMES, type Reporter, type RunInfo } from '../reporters/index.ts';
import { reporterSpec } from './args.ts';
import { defineCommand, type CommandInput } from './command.ts';
import { HELP, list, on, text } from './flags.ts';

export const MERGE_FLAGS = {
  out: text('out', 'DIR', 'folder for the merged result.json (default .wsgate/merged/<time>)'),
  reporters: list('reporter', 'NAME[:FILE]', 'add a reporter (repeatable; console always reports)', reporterSpec),
  quiet: on('quiet', 'print failures and the summary only'),
  help: HELP,
};

/** The usage error of `wsgate merge` (its usage line as the hint). */
const usage = (message: string) => MERGE.refuse(message);

function readShard(p: string): { source: string; result: RunResult } {
  const file = existsSync(p) && statSync(p).isDirectory() ? path.join(p, 'result.json') : p;
  let result: RunResult;
  try {
    result = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  } catch (e) {
    throw usage(`cannot read a wsgate result from ${p}: ${(e as Error).message}`);
  }
  if (result.schemaVersion !== 1 || !Array.isArray(result.gates))
    throw usage(`${file} is not a wsgate result.json (schemaVersion 1)`);
  return { source: file, result };
}

export function mergeResults(shards: { source: string; result: RunResult }[]): RunResult {
  const seen = new Map<string, string>();
  const placed: { order: number; gate: GateResult }[] = [];
  shards.forEach(({ source, result }, s) => {
    result.gates.forEach((gate, i) => {
      const prev = seen.get(gate.id);
      if (prev)
        throw usage(
          `gate "${gate.id}" is in both ${prev} and ${source}: were the shards cut from different gates files or counts?`,
        );
      seen.set(gate.id, source);
      const sh = result.shard;
      // Without shard info, keep the order the files were given in.
      placed.push({ order: sh ? i * sh.total + (sh.index - 1) : 1e9 + s * 1e6 + i, gate });
    });
  });
  const totals = new Set(shards.map((x) => x.result.shard?.total).filter((t) => t !== undefined));
  const gates = placed.sort((a, b) => a.order - b.order).map((p) => p.gate);
  const first = shards[0]!.result;
  const warnings = shards.flatMap((x) => x.result.warnings ?? []);
  if (totals.size > 1) warnings.push(`shards were cut with different totals: ${[...totals].join(', ')}`);
  const indexes = shards.map((x) => x.result.shard?.index).filter((i): i is number => i !== undefined);
  const total = [...totals][0];
  if (total !== undefined) {
    const missing = Array.from({ length: total }, (_, i) => i + 1).filter((k) => !indexes.includes(k));
    if (missing.length)
      warnings.push(`shards missing from the merge: ${missing.map((k) => `${k}/${total}`).join(', ')}`);
  }
  const interrupted = shards.some((x) => x.result.status === 'interrupted');
  const merged = summarise(gates, interrupted);
  // A shard can fail on a run-level rule (--require-coverage, --require-signoff) with every gate passed.
  if (
    (shards.some((x) => x.result.exitCode === EXIT.failed) || warnings.some((w) => w.startsWith('shards missing'))) &&
    merged.exitCode === EXIT.passed
  ) {
    merged.exitCode = EXIT.failed;
    merged.status = 'failed';
  }
  // Exit 4 (--require-checked on a shard that left a gate not checked) survives the merge too.
  if (shards.some((x) => x.result.exitCode === EXIT.unchecked) && merged.exitCode === EXIT.passed)
    merged.exitCode = EXIT.unchecked;
  const reports = shards.map((x) => x.result.coverage);
  const coverage = reports.every((c) => c !== undefined) ? mergeCoverage(reports as CoverageReport[]) : undefined;
  return {
    ...(coverage ? { coverage } : {}),
    schemaVersion: 1,
    runId: 'merged-' + shards.map((x) => x.result.runId).join('-'),
    startedAt: shards.map((x) => x.result.startedAt).sort()[0]!,
    ms: Math.max(...shards.map((x) => x.result.ms)),
    url: first.url,
    project: first.project,
    gatesFile: first.gatesFile,
    ...merged,
    gates,
    warnings,
    mergedFrom: shards.map((x) => x.source),
  };
}

/** Merges the shards' results, writes the merged result.json and reports it; the exit code is the merged verdict. */
async function merge({ flags: v, positionals }: CommandInput<typeof MERGE_FLAGS>): Promise<number> {
  if (!positionals.length) throw usage('give the result folders (or result.json files) of the shards');
  const result = mergeResults(positionals.map(readShard));
  const out = path.resolve(v.out ?? path.join('.wsgate', 'merged', new Date().toISOString().replace(/[:.]/g, '-')));
  ensureDirSync(out);
  try {
    writeFileNoFollow(path.join(out, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  } catch (e) {
    throw new HarnessFailure(
      [{ code: 'USAGE', title: `cannot write ${path.join(out, 'result.json')}: ${(e as Error).message}` }],
      EXIT.harness,
    );
  }
  const reporters: Reporter[] = [{ name: 'console' }, ...v.reporters]
    .filter((r, i, all) => all.findIndex((x) => x.name === r.name) === i)
    .map((r) => {
      if (!(REPORTER_NAMES as string[]).includes(r.name)) {
        const guess = didYouMean(r.name, REPORTER_NAMES);
        throw usage(`unknown reporter "${r.name}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
      }
      return REPORTERS[r.name as keyof typeof REPORTERS]({
        ...('file' in r && r.file ? { file: r.file } : {}),
        quiet: v.quiet,
        verbose: false,
        color: Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined,
        out: process.stdout,
      });
    });
  const info: RunInfo = {
    runId: result.runId,
    url: result.url,
    project: result.project,
    gatesFile: result.gatesFile,
    embedded: false,
    version: '',
    gateCount: result.gates.length,
    evidenceDir: null,
  };
  await report(reporters, 'onRunStart', info);
  for (const g of result.gates) {
    reportNow(reporters, 'onGateStart', { id: g.id, title: g.title });
    for (const s of g.steps) reportNow(reporters, 'onStepEnd', g.id, s);
    reportNow(reporters, 'onGateEnd', g);
  }
  await report(reporters, 'onRunEnd', result, info);
  process.stdout.write(`merged ${positionals.length} result(s) into ${path.join(out, 'result.json')}\n`);
  return result.exitCode;
}

export const MERGE = defineCommand({
  name: 'merge',
  summary: 'Merges the results of shards (wsgate run --shard K/N) into one report and one exit code.',
  positionals: {
    usage: 'DIR|result.json...',
    help: [['DIR|result.json', "a shard's evidence folder, or its result.json (one or more)"]],
  },
  flags: MERGE_FLAGS,
  epilogue: `exit codes: as one run of all the shards: 0 every gate passed · 1 a check failed or a shard is
            missing · 2 usage error · 3 the harness could not work · 4 nothing failed, but a shard left a gate
            not checked under --require-checked · 130 a shard was interrupted`,
  run: merge,
});

export const MERGE_USAGE = MERGE.usage;
export const MERGE_HELP = MERGE.help;
