// run: real commands (sh -c or argv) in the real project folder; exit codes and output as checks,
// captures, and a timeout that kills the whole process tree.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { lineOf, oneGate, tmp, waitGone } from '../helpers/servers.ts';
import { runCli } from '../helpers/cli.ts';

// No step here opens a connection: the URL is never dialled.
const URL = 'ws://127.0.0.1:9/unused';

describe('run', { concurrency: true }, () => {
  test('a captured value starting an argument of the list form without "--" is a load warning at its place; the run goes on', async (t) => {
    const dir = tmp(t, 'wsgate-run-warn-');
    const victim = path.join(dir, 'victim');
    const file = path.join(dir, 'gates.yaml');
    const yaml = oneGate(
      `
      - run: printf %s --output=${victim}
        capture: {hash: stdout}
      - run: [git, diff, --stat, "\${hash}"]   # WARNED
        exitCode: {type: number}
      - run: [git, diff, --stat, --, "\${hash}"]
        exitCode: {type: number}
      - run: [echo, "\${PROJECT}", "\${NOTE}", "\${RUN_ID}"]
    `,
      'vars: {NOTE: "-n"}\n',
    );
    writeFileSync(file, yaml);
    const r = await runCli(['run', path.join(dir, 'p'), '--gates', file, '--out', path.join(dir, 'ev')]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning:'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.equal(
      warnings[0],
      `${file}:${lineOf(yaml, '# WARNED')}:${yaml.split('\n')[lineOf(yaml, '# WARNED') - 1]!.indexOf('"${hash}"') + 1}: warning: gate "g" step 2: \${hash} starts argument 3 of git with no "--" before it: a captured value starting with "-" (such as --output=FILE) becomes an option of git`,
    );
    assert.match(
      r.stderr,
      /hint: put "--" before it when git accepts one \(run: \[git, diff, --stat, --, "\$\{hash\}"\]\)/,
    );
    // What the warning is about: the value did become git's option, and git wrote the file.
    assert.equal(existsSync(victim), true, 'git took the captured value as --output');
  });

  test('exit code, stdout and stderr matchers pass; cwd is the project; env is passed', async () => {
    const yaml = oneGate(`
      - run: 'echo "hello from $(basename "$PWD")"; echo "warn: $WSGATE_X" >&2'
        env: {WSGATE_X: "x-value"}
        stdout: {regex: "^hello from wsgate-step-project-"}
        stderr: {equals: "warn: x-value\\n"}
      - run: exit 3
        exitCode: 3
      - run: [node, -e, "process.exitCode = 0"]
        exitCode: {oneOf: [0]}
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    assert.deepEqual(
      r.steps.map((s) => s.checks.length),
      [3, 1, 1],
    );
    assert.equal(r.steps[1]!.observations?.exitCode, 3);
  });

  test('\\${ in a command line is a literal ${ for the shell, as in sends: the shell expands it, wsgate does not', async () => {
    // In the YAML: X=shell; printf "%s|" "\${X}" '\${X}' \${X} ${X}. The last one alone is wsgate's X.
    const yaml = oneGate(
      `
      - run: |-
          X=shell; printf "%s|" "\\\${X}" '\\\${X}' \\\${X} \${X}
        stdout: {equals: 'shell|\\\${X}|shell|wsgate|'}
    `,
      'vars: {X: wsgate}\n',
    );
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    // Without the escape, a ${X} is wsgate's: the same line with plain references prints wsgate's value.
    const plain = await runGatesYaml(
      oneGate(
        `
      - run: 'X=shell; printf "%s|" "\${X}"'
        stdout: {equals: "shell|"}
    `,
        'vars: {X: wsgate}\n',
      ),
      { url: URL },
    );
    assert.equal(plain.result.status, 'failed');
    assert.match(JSON.stringify(plain.failedChecks), /wsgate\|/);
  });

  test('a non-zero exit is a failed check, not a crash, at the run line', async () => {
    const yaml = oneGate(`
      - run: "echo partial; exit 2"   # RUN
      - run: echo independent
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.result.exitCode, 1);
    assert.equal(r.failedChecks.length, 1);
    assert.equal(r.failedChecks[0]!.name, 'echo partial; exit 2 exit code');
    assert.equal(r.failedChecks[0]!.actual, 2);
    assert.deepEqual(r.failedChecks[0]!.failure, {
      kind: 'exit',
      command: 'echo partial; exit 2',
      detail: 'exit code',
      expected: 0,
      actual: 2,
    });
    assert.equal(r.failedChecks[0]!.expected, 0);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# RUN'));
    assert.match(r.failedChecks[0]!.reason ?? '', /exit code: 2 \(Misuse of shell builtins\)/, 'the code is explained');
    assert.equal(r.steps[0]!.observations?.stdout, 'partial\n');
    assert.equal(r.steps[1]!.status, 'passed', 'a later step that needs nothing from the failed one still runs');
    assert.ok(!r.failedChecks.some((c) => String(c.actual).includes('harness error')));
  });

  test('a failing exitCode matcher is reported at the exitCode line', async () => {
    const yaml = oneGate(`
      - run: "true"
        exitCode: {gt: 0}   # EXIT
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# EXIT'));
  });

  test('stdout and stderr mismatches fail at their own lines', async () => {
    const yaml = oneGate(`
      - run: "echo out; echo err >&2"
        stdout: {contains: "missing"}   # STDOUT
        stderr: {not: {contains: err}}   # STDERR
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'failed');
    assert.deepEqual(
      r.failedChecks.map((c) => [c.name, c.loc.line]),
      [
        ['stdout of echo out; echo err >&2', lineOf(yaml, '# STDOUT')],
        ['stderr of echo out; echo err >&2', lineOf(yaml, '# STDERR')],
      ],
    );
  });

  test('capture: stdout (trimmed), stderr and exitCode feed later steps', async () => {
    const yaml = oneGate(`
      - run: [node, -e, "process.stdout.write('  1.2.3\\\\n'); process.stderr.write('E'); process.exitCode = 4"]
        exitCode: 4
        capture: {version: stdout, err: stderr, code: exitCode}
      - run: 'printf "%s|%s|%s" "\${version}" "\${err}" "\${code}"'
        stdout: "1.2.3|E|4"
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
  });

  test('timeout kills a sleep 30 and its children within the deadline', async () => {
    const yaml = oneGate(`
      - run: 'sleep 30 & echo $! > bg.pid; sleep 30'
        timeout: 3s   # TIMEOUT
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    const elapsed = r.steps[0]!.ms;
    assert.ok(elapsed < 20_000, `the run ended long before sleep 30 (${Math.round(elapsed)} ms)`);
    assert.equal(r.result.status, 'failed');
    const timeout = r.failedChecks.find((c) => c.name.endsWith('ends within its timeout'))!;
    assert.ok(timeout, JSON.stringify(r.failedChecks));
    assert.equal(timeout.expected, '3000 ms');
    assert.equal(timeout.loc.line, lineOf(yaml, '# TIMEOUT'));
    assert.match(
      String(r.failedChecks.find((c) => c.name.endsWith('exit code'))!.actual),
      /^killed by SIG(TERM|KILL)$/,
    );
    const bg = Number(readFileSync(path.join(r.project, 'bg.pid'), 'utf8').trim());
    assert.ok(bg > 0);
    assert.equal(await waitGone(bg), true, `background sleep ${bg} was killed with the tree`);
  });

  test('a program that does not exist fails its start check', async () => {
    const yaml = oneGate(`
      - run: [/nonexistent/wsgate-no-such-program]   # SPAWN
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.equal(r.result.status, 'failed');
    const start = r.failedChecks.find((c) => c.name.endsWith('starts'))!;
    assert.ok(start, JSON.stringify(r.failedChecks));
    assert.match(String(start.actual), /ENOENT/);
    assert.equal(start.loc.line, lineOf(yaml, '# SPAWN'));
  });

  test('cwd relative to the project', async () => {
    const yaml = oneGate(`
      - run: "mkdir -p sub && touch sub/marker"
      - run: "ls"
        cwd: sub
        stdout: "marker\\n"
      - run: "ls"
        cwd: sub
        stdout: "other\\n"   # CWD
    `);
    const r = await runGatesYaml(yaml, { url: URL });
    assert.deepEqual(
      r.steps.map((s) => s.status),
      ['passed', 'passed', 'failed'],
    );
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# CWD'));
  });
});
