// What every command's flag table promises: each flag has one --help line, and a command line the
// table refuses exits 2 with the message and the usage hint, running nothing.
import assert from 'node:assert/strict';

/** Each flag has exactly one --help line, led by its short letter, name and value name, with a description. */
export function assertHelpLists(
  flags: Readonly<Record<string, { name: string; short?: string; value?: string }>>,
  help: string,
): void {
  for (const f of Object.values(flags)) {
    const label = `  ${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ` ${f.value}` : ''}`;
    const lines = help.split('\n').filter((l) => new RegExp(`^  (-\\w, )?--${f.name}(?= |$)`).test(l));
    assert.equal(lines.length, 1, `--${f.name} in the help:\n${help}`);
    assert.ok(lines[0]!.startsWith(label + ' ') && lines[0]!.slice(label.length).trim(), lines[0]);
  }
}

/** The output of a command line refused as a usage error: exit 2, stdout empty, `wsgate: message` and the usage hint. */
export function assertRefused(
  r: { code: number | null; stdout: string; stderr: string },
  message: string | RegExp,
  usage: string,
): void {
  const what = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 2, what);
  assert.equal(r.stdout, '', what);
  const [first, ...hint] = r.stderr.trimEnd().split('\n');
  if (typeof message === 'string') assert.equal(first, `wsgate: ${message}`, what);
  else assert.match(first!, message, what);
  assert.equal(hint.join('\n'), `  hint: ${usage.replace(/^usage: /, '')}`, what);
}
