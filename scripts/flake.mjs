#!/usr/bin/env node
// npm run flake [-- --runs N] [-- URL PATH options...]: runs the default gates N times in a row
// (default 100) through the real CLI (scripts/test-websocket.sh --quiet --out <tmp>), then prints
// passes/failures, the slowest and the median run, and each failed run with its first failure line.
// Exit 0 when every run passed, 1 when any failed, 2 on bad arguments, 130 when interrupted.
// Arguments after a lone `--` go to test-websocket.sh (e.g. a URL, or --gate ID).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(root, 'scripts', 'test-websocket.sh');
const USAGE = 'usage: node scripts/flake.mjs [--runs N] [--keep] [-- ARGS for test-websocket.sh]';

function parse(argv) {
  const o = { runs: 100, keep: false, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      o.extra = argv.slice(i + 1);
      break;
    }
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n  --runs N  how many runs (default 100)\n  --keep    keep the evidence of passed runs too (failed runs' evidence is always kept)\n`);
      process.exit(0);
    }
    if (a === '--keep') o.keep = true;
    else if (a === '--runs' || a.startsWith('--runs=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) usage(`--runs expects a whole number >= 1, got "${v ?? ''}"`);
      o.runs = n;
    } else usage(`unknown argument "${a}"`);
  }
  return o;
}

function usage(msg) {
  process.stderr.write(`flake: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

const opts = parse(process.argv.slice(2));
const base = mkdtempSync(path.join(os.tmpdir(), 'wsgate-flake-'));
const results = [];
let current = null;
let interrupted = false;

/** One run of the CLI; resolves to {code, ms, out}. */
function once(i) {
  const out = path.join(base, `run-${String(i).padStart(3, '0')}`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(script, ['--quiet', '--no-color', '--out', out, ...opts.extra], { cwd: root, env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let text = '';
    child.stdout.on('data', (b) => (text += b));
    child.stderr.on('data', (b) => (text += b));
    child.on('error', (e) => (text += `\nflake: could not start ${script}: ${e.message}\n`));
    child.on('close', (code, signal) => {
      current = null;
      resolve({ i, code: code ?? (signal ? 128 : 1), ms: Math.round(performance.now() - t0), out, text });
    });
  });
}

/** The line that says what failed first: the summary's "first failure" line, else the first ✗ line, else the last line. */
function firstFailureLine(text) {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  return (
    lines.find((l) => l.startsWith('first failure:')) ??
    lines.find((l) => /✗/.test(l))?.trim() ??
    lines.at(-1) ??
    '(no output)'
  );
}

function detailLine(text) {
  // The first failed check under the failed step, e.g. "✗ main: pong  gates.yaml:12:9" + its actual.
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^\s{6}✗/.test(l));
  if (at < 0) return '';
  const actual = lines.slice(at + 1, at + 4).find((l) => /^\s+actual:/.test(l));
  return `${lines[at].trim()}${actual ? ` · ${actual.trim()}` : ''}`;
}

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

function summary() {
  const done = results.length;
  const failed = results.filter((r) => r.code !== 0);
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const median = done ? (done % 2 ? times[(done - 1) / 2] : Math.round((times[done / 2 - 1] + times[done / 2]) / 2)) : 0;
  const slowest = results.reduce((a, r) => (a && a.ms >= r.ms ? a : r), null);
  process.stdout.write('\n');
  process.stdout.write(`${interrupted ? 'INTERRUPTED after' : 'flake:'} ${done} run${done === 1 ? '' : 's'}: ${done - failed.length} passed, ${failed.length} failed\n`);
  if (done) {
    process.stdout.write(`median ${fmt(median)} · slowest ${fmt(slowest.ms)} (run ${slowest.i}) · fastest ${fmt(times[0])} · total ${fmt(times.reduce((a, b) => a + b, 0))}\n`);
  }
  if (failed.length) {
    process.stdout.write(`\nfailures:\n`);
    for (const r of failed) {
      process.stdout.write(`  run ${r.i} (exit ${r.code}, ${fmt(r.ms)}): ${firstFailureLine(r.text)}\n`);
      const d = detailLine(r.text);
      if (d) process.stdout.write(`      ${d}\n`);
      process.stdout.write(`      evidence: ${r.out}\n`);
    }
  }
}

function onSignal(sig) {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write(`\nflake: ${sig}, stopping after the current run\n`);
  // The CLI stops its own children on SIGINT and prints what it ran.
  current?.kill('SIGINT');
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.stdout.write(`flake: ${opts.runs} runs of ${path.relative(process.cwd(), script) || script} --quiet ${opts.extra.join(' ')}\n`);
for (let i = 1; i <= opts.runs && !interrupted; i++) {
  const r = await once(i);
  if (interrupted && r.code !== 0) break; // the interrupted run is not a flake
  results.push(r);
  process.stdout.write(`run ${String(i).padStart(String(opts.runs).length)}/${opts.runs}  ${r.code === 0 ? 'pass' : `FAIL (exit ${r.code})`}  ${fmt(r.ms)}${r.code === 0 ? '' : `  ${firstFailureLine(r.text)}`}\n`);
  if (r.code === 0 && !opts.keep) rmSync(r.out, { recursive: true, force: true });
}
summary();
const anyFailed = results.some((r) => r.code !== 0);
if (!anyFailed && !opts.keep) rmSync(base, { recursive: true, force: true });
else process.stdout.write(`evidence kept in ${base}\n`);
process.exit(interrupted ? 130 : anyFailed ? 1 : 0);
