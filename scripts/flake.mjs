#!/usr/bin/env node
// npm run flake [-- --runs N] [-- --hogs N] [-- --expect fail] [-- URL PATH options...]: runs the default
// gates N times in a row (default 100) through the real CLI (scripts/test-websocket.sh --quiet --out
// <tmp>), then prints passes/failures, the slowest and the median run, and each wrong run with its first
// failure line. `--hogs N` keeps N busy processes beside the runs (a loaded CI runner: 8 on 2 cores is a
// load of ~8); `--expect fail` counts a run as right when it fails (a fault that must be caught every time).
// Exit 0 when every run gave the expected verdict, 1 when any did not, 2 on bad arguments, 130 when
// interrupted. Arguments after a lone `--` go to test-websocket.sh (e.g. a URL, or --gate ID).
// A zx script: zx runs the CLI (a non-zero exit is data, not an exception) and its fs does the folders.
import { $, fs, path, os } from 'zx';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(root, 'scripts', 'test-websocket.sh');
const USAGE =
  'usage: node scripts/flake.mjs [--runs N] [--hogs N] [--expect pass|fail] [--keep] [-- ARGS for test-websocket.sh]';

function usage(msg) {
  process.stderr.write(`flake: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv) {
  const o = { runs: 100, hogs: 0, expect: 'pass', keep: false, extra: [] };
  const whole = (flag, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${flag} expects a whole number >= ${min}, got "${v ?? ''}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      o.extra = argv.slice(i + 1);
      break;
    }
    if (a === '--help' || a === '-h') {
      process.stdout.write(
        `${USAGE}\n  --runs N       how many runs (default 100)\n  --hogs N       N busy processes beside the runs (default 0)\n  --expect fail  every run must fail (a fault must be caught); default: pass\n  --keep         keep the evidence of right runs too (the others' is always kept)\n`,
      );
      process.exit(0);
    }
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '--keep') o.keep = true;
    else if (a === '--runs' || a.startsWith('--runs=')) o.runs = whole('--runs', value(), 1);
    else if (a === '--hogs' || a.startsWith('--hogs=')) o.hogs = whole('--hogs', value(), 0);
    else if (a === '--expect' || a.startsWith('--expect=')) {
      const v = value();
      if (v !== 'pass' && v !== 'fail') usage(`--expect is pass or fail, got "${v ?? ''}"`);
      o.expect = v;
    } else usage(`unknown argument "${a}"`);
  }
  return o;
}

const opts = parse(process.argv.slice(2));
const base = await fs.mkdtemp(path.join(os.tmpdir(), 'wsgate-flake-'));
const results = [];
let current = null;
let interrupted = false;
const run = $({ nothrow: true, quiet: true, cwd: root, env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
// Busy loops on every core the machine shows as free: they compete with the CLI, its wscats and the server.
const hogs = Array.from({ length: opts.hogs }, () => run`${process.execPath} -e ${'for (;;) {}'}`);

/** One run of the CLI: {i, code, ms, out, text}. */
async function once(i) {
  const out = path.join(base, `run-${String(i).padStart(3, '0')}`);
  const t0 = performance.now();
  current = run`${script} --quiet --no-color --out ${out} ${opts.extra}`;
  const r = await current;
  current = null;
  return {
    i,
    code: r.exitCode ?? (r.signal ? 128 : 1),
    ms: Math.round(performance.now() - t0),
    out,
    text: r.stdout + r.stderr,
  };
}

const right = (r) => (opts.expect === 'pass' ? r.code === 0 : r.code === 1);

/** The line that says what failed first: the summary's "first failure" line, else the first ✗ line, else the last line. */
function firstFailureLine(text) {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);
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
  const actual = lines.slice(at + 1, at + 6).find((l) => /^\s+actual:/.test(l));
  return `${lines[at].trim()}${actual ? ` · ${actual.trim()}` : ''}`;
}

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

function summary() {
  const done = results.length;
  const wrong = results.filter((r) => !right(r));
  const passed = results.filter((r) => r.code === 0).length;
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const median = done
    ? done % 2
      ? times[(done - 1) / 2]
      : Math.round((times[done / 2 - 1] + times[done / 2]) / 2)
    : 0;
  const slowest = results.reduce((a, r) => (a && a.ms >= r.ms ? a : r), null);
  process.stdout.write('\n');
  const counts = `${passed} passed, ${done - passed} failed`;
  process.stdout.write(
    `${interrupted ? 'INTERRUPTED after' : 'flake:'} ${done} run${done === 1 ? '' : 's'}: ${counts}${opts.expect === 'fail' ? ` (caught ${done - wrong.length} of ${done})` : ''}${opts.hogs ? ` · ${opts.hogs} hogs beside them` : ''}\n`,
  );
  if (done)
    process.stdout.write(
      `median ${fmt(median)} · slowest ${fmt(slowest.ms)} (run ${slowest.i}) · fastest ${fmt(times[0])} · total ${fmt(times.reduce((a, b) => a + b, 0))}\n`,
    );
  if (wrong.length) {
    process.stdout.write(`\n${opts.expect === 'pass' ? 'failures' : 'not caught'}:\n`);
    for (const r of wrong) {
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

process.stdout.write(
  `flake: ${opts.runs} runs of ${path.relative(process.cwd(), script) || script} --quiet ${opts.extra.join(' ')}${opts.hogs ? ` with ${opts.hogs} CPU hogs` : ''}\n`,
);
try {
  for (let i = 1; i <= opts.runs && !interrupted; i++) {
    const r = await once(i);
    if (interrupted && r.code !== 0) break; // the interrupted run is not a flake
    results.push(r);
    process.stdout.write(
      `run ${String(i).padStart(String(opts.runs).length)}/${opts.runs}  ${r.code === 0 ? 'pass' : `FAIL (exit ${r.code})`}  ${fmt(r.ms)}${r.code === 0 ? '' : `  ${firstFailureLine(r.text)}`}\n`,
    );
    if (right(r) && !opts.keep) await fs.remove(r.out);
  }
} finally {
  for (const h of hogs) h.kill('SIGKILL');
  await Promise.all(hogs);
}
summary();
const anyWrong = results.some((r) => !right(r));
if (!anyWrong && !opts.keep) await fs.remove(base);
else process.stdout.write(`evidence kept in ${base}\n`);
process.exit(interrupted ? 130 : anyWrong ? 1 : 0);
