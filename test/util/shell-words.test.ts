import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { quoteFor, UnsafeShellValue } from '../../lib/util/shell-words.ts';

const NASTY = [`it's`, 'a "b" c', '$(touch pwned)', '`id`', 'back\\slash', '$HOME', 'two\nlines', '*', ''];

test('each context quotes a value so that sh hands the program exactly that value', () => {
  for (const value of NASTY) {
    const lines = {
      bare: `printf %s ${quoteFor('bare', value)}`,
      single: `printf %s '${quoteFor('single', value)}'`,
      double: `printf %s "${quoteFor('double', value)}"`,
    };
    for (const [context, line] of Object.entries(lines)) {
      assert.equal(
        execFileSync('sh', ['-c', line], { encoding: 'utf8' }),
        value,
        `${context}: ${JSON.stringify(value)}`,
      );
    }
  }
});

test('a NUL cannot be passed to a shell in any context', () => {
  for (const context of ['bare', 'single', 'double'] as const)
    assert.throws(() => quoteFor(context, 'a\0b'), UnsafeShellValue);
});
