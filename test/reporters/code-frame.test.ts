// The source line under a failed check: the caret stands under the column the location names, a long
// line is cut around it, and a location outside the text gives nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeFrame } from '../../lib/reporters/code-frame.ts';

const loc = (line: number, col: number) => ({ file: 'g.yaml', line, col });

test('the caret is under the column, with the line number', () => {
  assert.deepEqual(codeFrame('a: 1\n  verify: {file: x}\n', loc(2, 11)), [
    '2 |   verify: {file: x}',
    '  |           ^',
  ]);
});

test('a long line is cut around the caret, which stays under its character', () => {
  const line = 'x'.repeat(300) + 'KEY' + 'y'.repeat(300);
  const [text, caret] = codeFrame(line, loc(1, 301), 40);
  assert.equal(text!.indexOf('KEY'), caret!.indexOf('^'));
  assert.ok(text!.length < 60 && text!.startsWith('1 | …') && text!.endsWith('…'));
});

test('a line that is not in the text gives no frame', () => {
  assert.deepEqual(codeFrame('one line', loc(5, 1)), []);
});
