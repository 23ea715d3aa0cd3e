// Which lines of a long text a failure shows: around the first line that differs, or head and tail.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firstDifferentLine, windowLines } from '../../lib/reporters/text-window.ts';

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

describe('text window', () => {
  test('the first different line: a changed line, lines added at the end, lines removed, equal texts', () => {
    const text = numbered(100).join('\n');
    assert.equal(firstDifferentLine(text, text.replace('line 60\n', 'line 60 changed\n')), 59);
    assert.equal(firstDifferentLine(text, `${text}\nextra`), 100);
    assert.equal(firstDifferentLine(text, numbered(90).join('\n')), 90, 'where the shorter text ends');
    assert.equal(firstDifferentLine(text, text), undefined);
  });

  test('a short text is shown whole', () => {
    assert.deepEqual(windowLines(numbered(20), 20, 5), numbered(20));
  });

  test('a long text is shown around the focus, with what was left out said', () => {
    const w = windowLines(numbered(200), 20, 149);
    assert.equal(w.length, 22);
    assert.equal(w[0], '… 145 lines before (the first difference is on line 150)');
    assert.equal(w[1], 'line 146');
    assert.ok(w.includes('line 150'));
    assert.equal(w[21], '… 35 more lines');
    // Lines appended: the window starts just before them; near the end, it ends with the last line.
    const end = windowLines(numbered(120), 20, 100);
    assert.deepEqual(
      [end[0], end[1], end.at(-1)],
      ['… 96 lines before (the first difference is on line 101)', 'line 97', '… 4 more lines'],
    );
    assert.equal(windowLines(numbered(120), 20, 110).at(-1), 'line 120');
    // Near the start: no "before" marker.
    assert.equal(windowLines(numbered(100), 20, 2)[0], 'line 1');
  });

  test('without a focus: the head and the tail', () => {
    const w = windowLines(numbered(100), 20);
    assert.deepEqual(
      [w[0], w[9], w[10], w[11], w.at(-1)],
      ['line 1', 'line 10', '… 80 lines not shown …', 'line 91', 'line 100'],
    );
    assert.deepEqual(windowLines(['a', 'b', 'c'], 1), ['a', '… 2 more lines']);
  });
});
