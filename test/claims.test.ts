// lib/matching/claims.ts, pure: reading a server's listing and git status claims in the shapes servers use,
// and telling a claim that names exactly the real entries from one that misses or invents some.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareSets, compareStatusClaim, listingClaimNames, statusClaimPaths } from '../lib/matching/claims.ts';

const sorted = (xs: string[]) => [...xs].sort();

describe('listingClaimNames', { concurrency: true }, () => {
  test('a JSON array (as text or as a value)', () => {
    assert.deepEqual(sorted(listingClaimNames('["a.txt", "src/", "./b.md"]')), ['a.txt', 'b.md', 'src']);
    assert.deepEqual(sorted(listingClaimNames(['a.txt', 'src/'])), ['a.txt', 'src']);
  });

  test('an array of entry objects: the name key, not sizes or types', () => {
    const claim = [
      { name: 'a.txt', size: 12, type: 'file' },
      { name: 'src', type: 'directory' },
      { path: 'docs/readme.md', size: 3 },
    ];
    assert.deepEqual(sorted(listingClaimNames(claim)), ['a.txt', 'docs/readme.md', 'src']);
    assert.deepEqual(sorted(listingClaimNames(JSON.stringify({ files: claim }))), ['a.txt', 'docs/readme.md', 'src']);
  });

  test('text lines with folders ending in /', () => {
    assert.deepEqual(listingClaimNames('a.txt\nsrc/\nsub/deeper/\n'), ['a.txt', 'src', 'sub/deeper']);
    assert.deepEqual(listingClaimNames('a.txt\r\nb.txt\r\n'), ['a.txt', 'b.txt']);
  });

  test('bullets and [dir]/[file] markers are not part of a name', () => {
    assert.deepEqual(listingClaimNames('- a.txt\n* src/\n• notes.md\n[dir] lib\n[file] x.ts\nfile: y.ts'), [
      'a.txt',
      'src',
      'notes.md',
      'lib',
      'x.ts',
      'y.ts',
    ]);
  });

  test('blank lines, . and .. are dropped; duplicates are one name', () => {
    assert.deepEqual(listingClaimNames('.\n..\n\na.txt\na.txt\n'), ['a.txt']);
    assert.deepEqual(listingClaimNames(''), []);
  });

  test('text that starts with a bracket but is not JSON is read as lines', () => {
    assert.deepEqual(listingClaimNames('[dir] src\n[file] a.txt'), ['src', 'a.txt']);
  });
});

describe('compareSets (listing claim vs the real entries)', { concurrency: true }, () => {
  test('the same names in any order pass', () => {
    assert.deepEqual(compareSets(['b', 'a'], ['a', 'b']), { missing: [], extra: [], passed: true });
  });

  test('an invented entry is extra', () => {
    const r = compareSets(listingClaimNames('a.txt\nghost.txt\n'), ['a.txt']);
    assert.equal(r.passed, false);
    assert.deepEqual(r.extra, ['ghost.txt']);
    assert.deepEqual(r.missing, []);
  });

  test('a real entry left out is missing', () => {
    const r = compareSets(listingClaimNames('["a.txt"]'), ['a.txt', 'src']);
    assert.equal(r.passed, false);
    assert.deepEqual(r.missing, ['src']);
    assert.deepEqual(r.extra, []);
  });

  test('both at once', () => {
    const r = compareSets(['a', 'z'], ['a', 'b']);
    assert.deepEqual(r, { missing: ['b'], extra: ['z'], passed: false });
  });
});

const LONG = `On branch main
Changes to be committed:
  (use "git restore --staged <file>..." to unstage)
\tnew file:   staged.txt
\trenamed:    old.txt -> moved.txt

Changes not staged for commit:
  (use "git add <file>..." to update what will be committed)
\tmodified:   a.txt
\tdeleted:    gone.txt

Untracked files:
  (use "git add <file>..." to include in what will be committed)
\tnew.txt

no changes added to commit (use "git add" and/or "git commit -a")`;

describe('statusClaimPaths', { concurrency: true }, () => {
  test('porcelain v1, with renames giving both names', () => {
    const p = statusClaimPaths(' M a.txt\nA  staged.txt\n?? new.txt\nR  old.txt -> moved.txt\n D gone.txt\n');
    assert.deepEqual(sorted(p), ['a.txt', 'gone.txt', 'moved.txt', 'new.txt', 'old.txt', 'staged.txt']);
  });

  test('short one-letter codes and quoted names', () => {
    assert.deepEqual(sorted(statusClaimPaths('M a.txt\n?? "with space.txt"')), ['a.txt', 'with space.txt']);
  });

  test('the long `git status` format: labelled paths are read, prose is kept only as candidates', () => {
    const p = statusClaimPaths(LONG);
    for (const f of ['staged.txt', 'old.txt', 'moved.txt', 'a.txt', 'gone.txt', 'new.txt'])
      assert.ok(p.includes(f), `${f} is read from the long format: ${JSON.stringify(p)}`);
    assert.ok(!p.some((x) => x.startsWith('modified:') || x.startsWith('new file:')), 'labels are stripped');
  });

  test('JSON: object of lists, array of entries, array of porcelain lines', () => {
    assert.deepEqual(sorted(statusClaimPaths('{"modified": ["a.txt"], "untracked": ["new.txt"]}')), [
      'a.txt',
      'new.txt',
    ]);
    assert.deepEqual(
      sorted(
        statusClaimPaths([
          { path: 'a.txt', status: 'M' },
          { path: 'new.txt', status: '??' },
        ]),
      ),
      ['a.txt', 'new.txt'],
    );
    assert.deepEqual(sorted(statusClaimPaths(['?? new.txt', ' M a.txt'])), ['a.txt', 'new.txt']);
  });

  test('an empty claim names nothing', () => {
    assert.deepEqual(statusClaimPaths(''), []);
    assert.deepEqual(statusClaimPaths([]), []);
  });
});

describe('compareStatusClaim', { concurrency: true }, () => {
  const repo = new Set([
    'a.txt',
    'new.txt',
    'staged.txt',
    'old.txt',
    'moved.txt',
    'gone.txt',
    'clean.txt',
    'dir',
    'dir/x.txt',
    'dir/y.txt',
  ]);
  const isRepoPath = (p: string) => repo.has(p);

  test('a porcelain claim naming every changed path passes', () => {
    const r = compareStatusClaim(statusClaimPaths(' M a.txt\n?? new.txt\n'), ['a.txt', 'new.txt'], isRepoPath);
    assert.deepEqual(r, { missing: [], extra: [], passed: true });
  });

  test('the long format passes: prose lines are not repository paths', () => {
    const real = ['staged.txt', 'moved.txt', 'old.txt', 'a.txt', 'gone.txt', 'new.txt'];
    const r = compareStatusClaim(statusClaimPaths(LONG), real, isRepoPath);
    assert.deepEqual(r, { missing: [], extra: [], passed: true });
  });

  test('a claim that leaves out an untracked file: missing', () => {
    const r = compareStatusClaim(statusClaimPaths(' M a.txt\n'), ['a.txt', 'new.txt'], isRepoPath);
    assert.equal(r.passed, false);
    assert.deepEqual(r.missing, ['new.txt']);
  });

  test('an empty claim (a server that always says clean) misses every change', () => {
    const r = compareStatusClaim(statusClaimPaths(''), ['a.txt'], isRepoPath);
    assert.deepEqual(r, { missing: ['a.txt'], extra: [], passed: false });
  });

  test('a claim naming an unchanged repository file: extra', () => {
    const r = compareStatusClaim(statusClaimPaths(' M a.txt\n M clean.txt'), ['a.txt'], isRepoPath);
    assert.equal(r.passed, false);
    assert.deepEqual(r.extra, ['clean.txt']);
    assert.deepEqual(r.missing, []);
  });

  test('an untracked directory `dir/` covers the files under it', () => {
    const r = compareStatusClaim(statusClaimPaths('?? dir/'), ['dir/x.txt', 'dir/y.txt'], isRepoPath);
    assert.deepEqual(r, { missing: [], extra: [], passed: true });
  });

  test('JSON claims are compared the same way', () => {
    assert.equal(
      compareStatusClaim(statusClaimPaths({ files: [{ path: 'a.txt' }] }), ['a.txt'], isRepoPath).passed,
      true,
    );
    assert.deepEqual(
      compareStatusClaim(statusClaimPaths({ files: [{ path: 'a.txt' }] }), ['a.txt', 'new.txt'], isRepoPath).missing,
      ['new.txt'],
    );
  });
});
