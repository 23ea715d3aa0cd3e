// docs/architecture.md describes the tree and its layers; these checks keep it true to the tree: the
// lib/ folders it lists are the folders on disk, the rules it names are the rules dependency-cruiser
// enforces, and its table of known violations is the baseline file npm run deps ignores.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './helpers/cli.ts';

const page = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');

/** The body of the markdown section that starts with `heading` (up to the next heading of its level or above). */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `no "${heading}" in docs/architecture.md`);
  const level = /^#+/.exec(heading)![0].length;
  let end = start + 1;
  while (end < lines.length && !(/^#+ /.test(lines[end]!) && /^#+/.exec(lines[end]!)![0].length <= level)) end++;
  return lines.slice(start + 1, end).join('\n');
}

/** The first fenced block of a section. */
function firstBlock(text: string): string[] {
  const m = /^```[^\n]*\n([\s\S]*?)^```$/m.exec(text);
  assert.ok(m, 'no code block');
  return m[1]!.split('\n');
}

/** The rows of the first table after `marker` in a text, each as its cells without backticks. */
function tableAfter(text: string, marker: string): string[][] {
  const from = text.indexOf(marker);
  assert.ok(from >= 0, `no "${marker}"`);
  const lines = text.slice(from).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (let i = first + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    rows.push(
      lines[i]!.slice(1, -1)
        .split('|')
        .map((c) => c.trim().replaceAll('`', '')),
    );
  }
  return rows;
}

describe('docs/architecture.md', () => {
  const parts = firstBlock(section(page, '## The parts'));

  test('the lib/ folders it lists are exactly the folders of lib/ on disk', () => {
    const listed = parts.map((l) => /^lib\/([^/\s]+)\/\s/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
    const onDisk = readdirSync(path.join(ROOT, 'lib'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    assert.deepEqual([...listed].sort(), [...onDisk].sort());
    assert.equal(new Set(listed).size, listed.length, 'a folder listed twice');
  });

  test('every file at the top of lib/ is named in the parts list', () => {
    const files = readdirSync(path.join(ROOT, 'lib'), { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => d.name);
    const named = parts.filter((l) => l.startsWith('lib/') && !/^lib\/[^/\s]+\/\s/.test(l)).join(' ');
    assert.ok(files.length > 0);
    assert.deepEqual(
      files.filter((f) => !new RegExp(`\\b${f.replace('.', '\\.')}\\b`).test(named)),
      [],
    );
  });

  test('the rules it names are the rules of .dependency-cruiser.cjs, each of them', () => {
    const config = createRequire(import.meta.url)(path.join(ROOT, '.dependency-cruiser.cjs')) as {
      forbidden: { name: string }[];
    };
    const rules = config.forbidden.map((r) => r.name);
    const layers = section(page, '## The layers');
    assert.deepEqual(
      rules.filter((n) => !layers.includes(`\`${n}\``)),
      [],
      'rules the page does not name',
    );
    // The rule column of the layer table and the names each bullet starts with are rules that exist.
    const inTable = tableAfter(layers, 'From the bottom up').flatMap((r) => r[r.length - 1]!.split(', '));
    const inBullets = [...layers.matchAll(/^- ((?:`[a-z-]+`(?:, )?)+):/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/`([a-z-]+)`/g)].map((x) => x[1]!),
    );
    assert.ok(
      inTable.length >= 5 && inBullets.length >= 3,
      `${inTable.length} table rows, ${inBullets.length} bullets`,
    );
    assert.deepEqual(
      [...inTable, ...inBullets].filter((n) => !rules.includes(n)),
      [],
      'names the page gives that are no rule',
    );
  });

  test('its table of known violations is the baseline npm run deps ignores', () => {
    const baseline = JSON.parse(readFileSync(path.join(ROOT, '.dependency-cruiser-known-violations.json'), 'utf8')) as {
      from: string;
      to: string;
      rule: { name: string };
    }[];
    const layers = section(page, '## The layers');
    const known = layers.slice(layers.indexOf('**Known violations.**'));
    const key = (r: string[]) => r.join(' ');
    if (baseline.length === 0) {
      assert.match(known, /There are none/, 'the baseline is empty: the page must say so');
      assert.doesNotMatch(known, /^\|/m, 'a table of known violations while the baseline is empty');
      return;
    }
    const rows = tableAfter(known, '**Known violations.**');
    assert.deepEqual(rows.map(key).sort(), baseline.map((v) => key([v.rule.name, v.from, v.to])).sort());
  });
});
