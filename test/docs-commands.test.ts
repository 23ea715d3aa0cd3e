// The commands of README.md and docs/*.md, run as a user would paste them: every `sh`/`bash` block and
// every `run:` step of a GitHub workflow block (YAML with `jobs:`), exactly as printed, each in a fresh
// copy of the checkout (so `--out evidence` and the reports land in the copy). Two things are not run,
// both said in the README: a line that is exactly `npm ci` (the copy shares this checkout's
// node_modules, which `npm ci` made; running it again would replace them under the other tests), and
// workflow `uses:` steps (GitHub actions). A block that cannot run here carries a
// `<!-- docs-test: not runnable (why) -->` line above it; `<!-- docs-test: placeholder NAME -->` names an
// environment variable the text calls a placeholder, pointed at a temp folder.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { runProcess } from '../lib/os/process.ts';
import { ROOT, scratch } from './helpers/cli.ts';

const s = scratch(after);

export interface DocBlock {
  file: string;
  line: number;
  kind: 'sh' | 'workflow';
  text: string;
  notRunnable?: string;
  placeholders: string[];
}

const MARKER = /^<!--\s*docs-test:\s*(.*?)\s*-->\s*$/;

/** The command blocks of one markdown text, with the docs-test markers written just above each. */
export function commandBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const out: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    const text = lines.slice(i + 1, end).join('\n');
    const lang = open[1]!;
    const kind = ['sh', 'bash', 'shell'].includes(lang)
      ? 'sh'
      : lang === 'yaml' && /^jobs:/m.test(text)
        ? 'workflow'
        : undefined;
    if (kind) {
      const block: DocBlock = { file, line: i + 1, kind, text, placeholders: [] };
      for (let k = i - 1; k >= 0 && MARKER.test(lines[k]!); k--) {
        const said = MARKER.exec(lines[k]!)![1]!;
        const no = /^not runnable \((.+)\)$/.exec(said);
        const ph = /^placeholder ([A-Z_][A-Z0-9_]*)$/.exec(said);
        if (no) block.notRunnable = no[1]!;
        else if (ph) block.placeholders.push(ph[1]!);
        else throw new Error(`${file}:${k + 1}: unknown docs-test marker "${said}"`);
      }
      out.push(block);
    }
    i = end;
  }
  return out;
}

/** The shell scripts a block stands for, in order: the block itself, or each `run:` step of a workflow. */
/** `npm ci` alone on its line (a comment after it allowed): the install the checkout already had. */
const NPM_CI = /^\s*npm ci\s*(#.*)?$/;
/** Anything else that installs would write into the shared node_modules: such a block must be marked, never run. */
const INSTALLS = /\bnpm\s+(ci|i|install|add|update|uninstall)\b|\bnpx\s+-y\b/;

export function scriptsOf(block: DocBlock): string[] {
  const runnable = (script: string) => {
    const kept = script
      .split('\n')
      .filter((l) => !NPM_CI.test(l))
      .join('\n');
    if (INSTALLS.test(kept))
      throw new Error(`${block.file}:${block.line} installs packages: mark it <!-- docs-test: not runnable (…) -->`);
    return kept;
  };
  if (block.kind === 'sh') return [runnable(block.text)];
  const wf = parse(block.text) as { jobs: Record<string, { steps: { run?: string; uses?: string }[] }> };
  return Object.values(wf.jobs).flatMap((job) =>
    job.steps.filter((st) => typeof st.run === 'string').map((st) => runnable(st.run!)),
  );
}

function allBlocks(): DocBlock[] {
  const files = [
    'README.md',
    ...readdirSync(path.join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  return files.flatMap((f) => commandBlocks(f, readFileSync(path.join(ROOT, f), 'utf8')));
}

/** A copy of the checkout's files (tracked and new, not ignored) with this checkout's node_modules. */
async function checkoutCopy(): Promise<string> {
  const listed = await runProcess('git', ['ls-files', '-z', '-co', '--exclude-standard'], {
    cwd: ROOT,
    timeoutMs: 30_000,
  });
  assert.equal(listed.exitCode, 0, listed.stderr);
  const dir = path.join(s.dir('wsgate-docs-'), 'checkout');
  for (const rel of listed.stdout.split('\0').filter(Boolean)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    cpSync(path.join(ROOT, rel), path.join(dir, rel), { verbatimSymlinks: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // What a CI runner has: CI set, no terminal; GitHub's own variables of the machine running the tests are not passed.
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1', ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('GITHUB_')) delete env[k];
  return env;
}

/** Blocks that name the same fixed port (the CI examples' 3001) take turns; the others run beside them. */
const portTurns = new Map<string, Promise<unknown>>();
function inTurn<T>(text: string, work: () => Promise<T>): Promise<T> {
  const port = /127\.0\.0\.1:(\d+)/.exec(text)?.[1];
  if (port === undefined) return work();
  const before = portTurns.get(port) ?? Promise.resolve();
  const mine = before.then(work, work);
  portTurns.set(
    port,
    mine.catch(() => undefined),
  );
  return mine;
}

// Concurrent: the file must end within the runner's per-file deadline on a busy machine.
describe('the command blocks of the README and docs/', { concurrency: true }, () => {
  const blocks = allBlocks();

  test('the markers are read: an unmarked block runs, a marked one is skipped with its reason', () => {
    const md = [
      '```sh',
      'echo a',
      '```',
      '<!-- docs-test: not runnable (needs your server) -->',
      '```sh',
      'echo b',
      '```',
      '<!-- docs-test: placeholder OUT_DIR -->',
      '```yaml',
      'jobs:',
      '  j:',
      '    steps:',
      '      - uses: x',
      '      - run: npm ci',
      '      - run: echo c',
      '```',
    ].join('\n');
    const got = commandBlocks('t.md', md);
    assert.deepEqual(
      got.map((b) => [b.line, b.kind, b.notRunnable, b.placeholders]),
      [
        [1, 'sh', undefined, []],
        [5, 'sh', 'needs your server', []],
        [9, 'workflow', undefined, ['OUT_DIR']],
      ],
    );
    assert.deepEqual(scriptsOf(got[2]!), ['', 'echo c']);
    assert.deepEqual(scriptsOf({ ...got[0]!, text: 'npm ci     # install\necho d' }), ['echo d']);
    assert.throws(() => scriptsOf({ ...got[0]!, text: 'npm ci && echo e' }), /installs packages/);
    assert.throws(() => scriptsOf({ ...got[0]!, text: 'npm i -D x' }), /installs packages/);
    assert.throws(
      () => commandBlocks('t.md', '<!-- docs-test: skip -->\n```sh\nx\n```'),
      /unknown docs-test marker "skip"/,
    );
  });

  test('every command block either runs or says why it cannot; a GitHub expression or an install is never run', () => {
    for (const b of blocks) if (!b.notRunnable) scriptsOf(b);
    assert.ok(
      blocks.filter((b) => !b.notRunnable).length >= 4,
      `too few runnable blocks: ${blocks.map((b) => `${b.file}:${b.line}`).join(', ')}`,
    );
    for (const b of blocks)
      if (!b.notRunnable)
        assert.doesNotMatch(b.text, /\$\{\{/, `${b.file}:${b.line} uses a GitHub expression: mark it not runnable`);
  });

  for (const block of blocks.filter((b) => !b.notRunnable)) {
    test(`${block.file}:${block.line} runs as printed`, { timeout: 600_000 }, () =>
      inTurn(block.text, async () => {
        const scripts = scriptsOf(block);
        const cwd = await checkoutCopy();
        const env: Record<string, string> = {};
        for (const name of block.placeholders) env[name] = s.dir(`wsgate-docs-${name.toLowerCase()}-`);
        for (const [i, script] of scripts.entries()) {
          if (script.trim() === '') continue;
          // GitHub runs a `run:` step as `bash -e {0}`; a sh block is a script pasted into bash.
          const file = path.join(cwd, `.docs-step-${i}.sh`);
          // Whatever a block leaves running in the background (a server started with `&`) ends with it:
          // the script's last act is to signal its own process group (bash leads it), itself excepted.
          writeFileSync(file, `trap 'trap "" TERM; kill -- -$$ 2>/dev/null' EXIT\n${script}\n`);
          const r = await runProcess('bash', [...(block.kind === 'workflow' ? ['-e'] : []), file], {
            cwd,
            env: cleanEnv(env),
            timeoutMs: 540_000,
          });
          assert.equal(
            r.exitCode,
            0,
            `${block.file}:${block.line}, script ${i + 1}:\n${script}\n--- stdout\n${r.stdout.slice(-6000)}\n--- stderr\n${r.stderr.slice(-3000)}`,
          );
          assert.match(r.stdout, /\b(PASS|wsgate)\b/, 'the command ran wsgate');
        }
      }),
    );
  }
});
