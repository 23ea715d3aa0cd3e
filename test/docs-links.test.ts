// The README and the pages of docs/ link to each other and into the tree; a page moved or a heading
// renamed must not leave a link behind that leads nowhere. Every relative link of README.md and
// docs/*.md must name a file that exists, and a `#fragment` into a markdown file must name one of its
// headings (as GitHub makes anchors of them).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers/cli.ts';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^```/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The links of a markdown text outside code: [text](target), without external URLs. */
export function linksOf(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^```/.test(line)) fenced = !fenced;
    if (fenced) return;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g))
      if (!/^[a-z]+:/i.test(m[1]!)) out.push({ target: m[1]!, line: i + 1 });
  });
  return out;
}

const pages = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('links of the README and docs/', () => {
  test('anchors are made as GitHub makes them', () => {
    const a = anchorsOf(
      '# wsgate\n## gates.yaml (version 1)\n```\n# not a heading\n```\n### Parallel runs and CI shards\n## Sign-off: what it proves\n## `--out` and evidence\n## Notes\n## Notes',
    );
    assert.deepEqual(
      [...a],
      [
        'wsgate',
        'gatesyaml-version-1',
        'parallel-runs-and-ci-shards',
        'sign-off-what-it-proves',
        '--out-and-evidence',
        'notes',
        'notes-1',
      ],
    );
    assert.deepEqual(linksOf('see [a](b.md#c) and `[x](y)`, [w](https://x.org)\n```\n[no](z.md)\n```'), [
      { target: 'b.md#c', line: 1 },
    ]);
  });

  test('docs/README.md, the index, links every page of docs/', () => {
    const index = new Set(
      linksOf(readFileSync(path.join(ROOT, 'docs', 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]!),
    );
    assert.deepEqual(
      pages.filter((p) => p.startsWith('docs/') && p !== 'docs/README.md' && !index.has(p.slice('docs/'.length))),
      [],
    );
  });

  for (const page of pages) {
    test(`${page}: every relative link leads to a file, and every #fragment to a heading of it`, () => {
      const text = readFileSync(path.join(ROOT, page), 'utf8');
      const broken: string[] = [];
      for (const { target, line } of linksOf(text)) {
        const [file, fragment] = target.split('#') as [string, string | undefined];
        const abs = file === '' ? path.join(ROOT, page) : path.resolve(ROOT, path.dirname(page), file);
        if (!existsSync(abs)) {
          broken.push(`${page}:${line}: ${target}: no such file`);
          continue;
        }
        if (fragment !== undefined && abs.endsWith('.md') && !anchorsOf(readFileSync(abs, 'utf8')).has(fragment)) {
          broken.push(`${page}:${line}: ${target}: no heading #${fragment} in ${path.relative(ROOT, abs)}`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }
});
