// Substitution into shell command lines: each hostile value, in each quoting context, reaches a real
// `sh -c` (and bash, which some systems use as sh) as literal text; places no quoting can make safe
// are found, so the loader can refuse them.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { changedEscapes, shellRefs, shellProblems, substituteShell } from '../lib/util/shell-quote.ts';
import { quoteFor, UnsafeShellValue } from '../lib/util/shell-words.ts';
import { loadGatesText } from '../lib/gates/load.ts';
import { loadWarnings } from '../lib/cli/run/gates.ts';
import { refsIn, type Lookup } from '../lib/util/vars.ts';
import { runProcess } from '../lib/os/process.ts';
import { cliResult, tempDir } from './helpers/cli.ts';

const dir = tempDir('wsgate-shell-quote-');
after(() => dir.remove());
const MARK = path.join(dir.path, 'pwned');

/** Values a hostile server could send, each trying to run `touch MARK`. */
const HOSTILE = [
  `$(touch ${MARK})`,
  `\`touch ${MARK}\``,
  `'; touch ${MARK}; '`,
  `"; touch ${MARK}; "`,
  `"$(touch ${MARK})"`,
  `'$(touch ${MARK})'`,
  `x\ntouch ${MARK}\n`,
  `\\'; touch ${MARK} #`,
  `\\"; touch ${MARK} #`,
  `$HOME * ? [a] ~ -n {a,b} !! %s \\ \\\\ ' " \``,
  `'\\''; touch ${MARK}; '\\''`,
  '',
  'ünïcødé ✓ \t tab',
];

const lookupOf =
  (vars: Record<string, unknown>): Lookup =>
  (name) =>
    name in vars ? { found: true, value: vars[name] } : { found: false };

/** Command lines and the text each must print for a value V. */
const TEMPLATES: [string, (v: string) => string][] = [
  ["printf '%s' ${X}", (v) => v],
  ["printf '%s' '${X}'", (v) => v],
  ['printf \'%s\' "${X}"', (v) => v],
  ['printf \'%s\' "pre ${X} post"', (v) => `pre ${v} post`],
  ["printf '%s' pre${X}post", (v) => `pre${v}post`],
  ["printf '%s' \"$(printf '%s' ${X})\"", (v) => v.replace(/\n+$/, '')],
  ['printf \'%s\' "$(printf \'%s\' "${X}")"', (v) => v.replace(/\n+$/, '')],
  ['v=${X}; printf \'%s\' "$v"', (v) => v],
  ["case ${X} in *) printf '%s' ${X};; esac", (v) => v],
  ["printf '%s' \"$(case a in a) printf '%s' ${X};; esac)\"", (v) => v.replace(/\n+$/, '')],
];

const shells = ['sh', ...(existsSync('/bin/bash') ? ['bash'] : [])];

describe('shell substitution', () => {
  for (const shell of shells) {
    test(`${shell}: every hostile value in every context is printed literally and runs nothing`, async () => {
      for (const [template, expected] of TEMPLATES) {
        for (const value of HOSTILE) {
          const line = substituteShell(template, lookupOf({ X: value }));
          const r = await runProcess(shell, ['-c', line], { timeoutMs: 10_000 });
          assert.equal(
            existsSync(MARK),
            false,
            `${shell} ran a command: ${template} with ${JSON.stringify(value)} → ${line}`,
          );
          assert.equal(r.exitCode, 0, `${line}: ${r.stderr}`);
          assert.equal(r.stdout, expected(value), `${template} with ${JSON.stringify(value)} → ${line}`);
        }
      }
      assert.deepEqual(readdirSync(dir.path), []);
    });
  }

  test('the same line without quoting does run the command (the test can fail)', async () => {
    const naive = "printf '%s' ${X}".replace('${X}', `$(touch ${MARK})`);
    await runProcess('sh', ['-c', naive], { timeoutMs: 10_000 });
    assert.equal(existsSync(MARK), true);
    (await import('node:fs')).rmSync(MARK);
  });

  test('contexts: bare, single, double, and command substitution inside double quotes is bare again', () => {
    const ctx = (text: string) => shellRefs(text).map((r) => `${r.name}:${r.context}`);
    assert.deepEqual(ctx('a ${A} \'${B}\' "${C}" "x $(y ${D}) \'${E}\'"'), [
      'A:bare',
      'B:single',
      'C:double',
      'D:bare',
      'E:double',
    ]);
    assert.deepEqual(ctx('echo "it\'s ${A}" \'say "${B}"\''), ['A:double', 'B:single']);
    assert.deepEqual(ctx('echo ${env.HOME} ${A}${B}'), ['env.HOME:bare', 'A:bare', 'B:bare']);
    assert.deepEqual(ctx('echo $HOME ${HOME:-x} ${#A} ${A}'), ['A:bare'], 'shell expansions are not wsgate references');
    assert.deepEqual(ctx('cat <<<${A}; echo ${B}'), ['A:bare', 'B:bare'], 'a here-string is a word');
  });

  test('places no quoting makes safe are unsafe, and the loader hint names the list form and env:', () => {
    const unsafe = (text: string) =>
      shellRefs(text)
        .filter((r) => r.context === 'unsafe')
        .map((r) => r.name);
    assert.deepEqual(unsafe('echo `echo ${A}` "`echo ${B}`"'), ['A', 'B']);
    assert.deepEqual(unsafe('cat <<EOF\nhello ${A}\nEOF\necho ${B}'), ['A']);
    assert.deepEqual(unsafe("cat <<-'EOF'\n\t${A}\n\tEOF\necho ${B}"), ['A']);
    assert.deepEqual(unsafe('echo hi # ${A}\necho ${B}'), ['A']);
    assert.deepEqual(unsafe('echo $(( ${A} + 1 )) ${B}'), ['A']);
    assert.deepEqual(unsafe("echo $'${A}' ${B}"), ['A']);
    assert.deepEqual(unsafe('echo ${X:-${A}} "${Y:+${B}}" ${C}'), ['A', 'B']);
    assert.deepEqual(
      unsafe('echo \\${A} "\\${B}" ${C}'),
      [],
      '\\${ is an escape, no reference (it was refused as "after a backslash")',
    );
    const p = shellProblems('echo `cat ${sid}`');
    assert.equal(p.length, 1);
    assert.match(p[0]!.title, /\$\{sid\} stands inside `...` \(backticks\)/);
    assert.match(p[0]!.hint, /run: \[prog, "\$\{sid\}"\]/);
    assert.match(p[0]!.hint, /env: \{VALUE: "\$\{sid\}"\}/);
    assert.throws(() => substituteShell('echo `${A}`', lookupOf({ A: 'x' })), UnsafeShellValue);
  });

  // `$${X}`: a `$` of the command line, then the value. Before, the value was quoted for its context and
  // that `$` joined it: `"$(...)"` or bash's `$'...'` ran the server's text.
  const AFTER_DOLLAR: [string, string, string, string][] = [
    ['double quotes', 'sh', 'echo "Price: $${X}"', `(touch ${MARK})`],
    ['double quotes', 'bash', 'echo "Price: $${X}"', `(touch ${MARK})`],
    ['plain', 'bash', 'echo $${X}', `\\'; touch ${MARK}; #`],
    ['an assignment', 'bash', 'a=$${X}', `\\'; touch ${MARK}; #`],
  ];
  for (const [where, shell, template, value] of AFTER_DOLLAR) {
    test(`$\${X} right after a lone $ (${where}, ${shell}) is unsafe; quoted as before it ran the value`, async () => {
      const ref = shellRefs(template).find((r) => r.name === 'X')!;
      assert.equal(ref.context, 'unsafe');
      assert.match(shellProblems(template)[0]!.hint, /write \\\$\$\{X\}/);
      assert.throws(() => substituteShell(template, lookupOf({ X: value })), UnsafeShellValue);
      // What the old substitution produced: the value quoted for its context, after that `$`.
      const context = template.includes('"') ? 'double' : 'bare';
      const old = template.replace('${X}', quoteFor(context, value));
      await runProcess(shell, ['-c', old], { timeoutMs: 10_000 });
      assert.equal(existsSync(MARK), true, `${old} ran nothing: the case shows no danger`);
      rmSync(MARK);
    });
  }

  test("$$${X} (the shell's $$, then the value) and \\$${X} (a literal $) stay safe and print the value", async () => {
    for (const shell of shells) {
      for (const [template, expected] of [
        ['printf %s \\$${X}', (v: string) => `$${v}`],
        ['printf %s "\\$${X}"', (v: string) => `$${v}`],
        ["printf %s '$${X}'", (v: string) => `$${v}`],
      ] as const) {
        for (const value of HOSTILE) {
          const line = substituteShell(template, lookupOf({ X: value }));
          const r = await runProcess(shell, ['-c', line], { timeoutMs: 10_000 });
          assert.equal(existsSync(MARK), false, line);
          assert.equal(r.stdout, expected(value), `${shell}: ${line}`);
        }
      }
    }
    assert.equal(
      shellRefs('echo $$${X} "$$${Y}"').every((r) => r.context !== 'unsafe'),
      true,
    );
    assert.equal(shellRefs('echo "$$$${X}"')[0]!.context, 'unsafe');
  });

  test('the loader refuses $${X} with its line and column and the fix', async () => {
    const file = path.join(dir.path, 'after-dollar.yaml');
    writeFileSync(
      file,
      `version: 1\nvars: {price: "1"}\ngates:\n  - id: g\n    title: t\n    steps:\n      - run: 'echo "Price: $\${price}"'\n`,
    );
    const r = await cliResult([path.join(dir.path, 'p'), '--gates', file]);
    rmSync(file);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /after-dollar\.yaml:7:\d+: .*\$\{price\} stands right after a `\$`/);
    assert.match(r.stderr, /hint: for a literal \$ before the value write \\\$\$\{price\}/);
  });

  test('finds the same references as lib/util/vars.ts', () => {
    for (const text of ['a ${A} ${b.c} ${env.X} $${D} ${1bad} ${E}', '\'${A}\' "${B}" ${C}']) {
      assert.deepEqual(
        shellRefs(text).map((r) => r.name),
        refsIn(text),
      );
    }
  });

  test('\\${ is a literal ${ as in lib/util/vars.ts: the backslash goes, no reference, no refusal', () => {
    assert.deepEqual(shellProblems('echo \\${X} "\\${X}" \\\\${X}'), []);
    assert.deepEqual(
      shellRefs('echo \\${X} ${Y}').map((r) => r.name),
      ['Y'],
    );
    assert.equal(substituteShell("echo \\${X} '\\${X}' ${X}", lookupOf({ X: 'v' })), "echo ${X} '${X}' 'v'");
    // The same references as vars.ts, escapes included.
    for (const text of ['a \\${A} ${B} \\\\${C} \\${D}${E}'])
      assert.deepEqual(
        shellRefs(text).map((r) => r.name),
        refsIn(text),
      );
  });

  test('a \\${ whose meaning changed (inside quotes, or after \\\\) is a load warning at its step; one that was refused is not', () => {
    assert.deepEqual(
      changedEscapes("echo '\\${A}' \\\\${B} \\${C} ${D}").map((w) => w.name),
      ['A', 'B'],
    );
    const loaded = loadGatesText(
      `version: 1\nvars: {A: a}\ngates:\n  - id: g\n    title: t\n    steps:\n      - run: "printf %s '\\\\\${A}'"\n      - run: "echo \\\\\\\\\${A}"\n      - run: "echo \\\\\${A}"\n`,
      'w.yaml',
    );
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
    const warnings = loadWarnings(loaded.gates, {});
    const words =
      "\\${A} is a literal ${A} for the shell now (as in sends); before, here it passed A's value after a backslash";
    assert.deepEqual(
      warnings.map((w) => [w.loc?.line, w.title]),
      [
        [7, `warning: gate "g" step 1: ${words}`],
        [8, `warning: gate "g" step 2: ${words}`],
      ],
    );
    assert.match(warnings[0]!.hint ?? '', /write '\\'\$\{A\}/);
  });

  test('values keep their text form; NUL is refused', () => {
    assert.equal(
      substituteShell('echo ${N} ${O}', lookupOf({ N: 3001, O: { a: "it's" } })),
      `echo '3001' '{"a":"it'\\''s"}'`,
    );
    assert.throws(() => substituteShell('echo ${A}', lookupOf({ A: 'a\0b' })), UnsafeShellValue);
  });
});
