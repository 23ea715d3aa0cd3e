// lib/matching/match.ts, pure: every matcher key, presence by `'key' in matcher`, and getPath on nested paths.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describe as describeValue, getPath, matchValue, matcherRegexes, splitPath } from '../lib/matching/match.ts';
import type { Matcher } from '../lib/gates/common-schema.ts';

const ok = (m: Matcher, v: unknown) =>
  assert.equal(
    matchValue(m, v).passed,
    true,
    `${JSON.stringify(m)} should hold of ${describeValue(v)}: ${matchValue(m, v).reason}`,
  );
const no = (m: Matcher, v: unknown, reason?: RegExp) => {
  const r = matchValue(m, v);
  assert.equal(r.passed, false, `${JSON.stringify(m)} should not hold of ${describeValue(v)}`);
  assert.ok(r.reason && r.reason.length > 0, 'a failure names its reason');
  if (reason) assert.match(r.reason!, reason);
};

describe('matchValue', { concurrency: true }, () => {
  test('a scalar means deep equality, with no coercion', () => {
    ok('a', 'a');
    ok(3, 3);
    ok(true, true);
    ok(null, null);
    no('3', 3, /expected "3", got 3/);
    no(0, false);
    no(null, undefined);
    no(false, 0);
  });

  test('two texts that differ say where, with escapes: a trailing newline is visible', () => {
    assert.equal(
      matchValue('Test content', 'Test content\n').reason,
      'expected "Test content", got "Test content\\n" (first difference at character 13: expected the end, got "\\n")',
    );
    assert.equal(
      matchValue({ equals: 'abc' }, 'abd').reason,
      'expected "abc", got "abd" (first difference at character 3: expected "c", got "d")',
    );
  });

  test('equals: 0, "" and null are real expectations (presence, not truthiness)', () => {
    ok({ equals: 0 }, 0);
    no({ equals: 0 }, undefined, /expected 0, got \(absent\)/);
    no({ equals: 0 }, false);
    ok({ equals: '' }, '');
    no({ equals: '' }, undefined);
    no({ equals: '' }, 'x');
    ok({ equals: null }, null);
    no({ equals: null }, undefined);
    no({ equals: null }, 0);
    ok({ equals: { a: [1, { b: 2 }] } }, { a: [1, { b: 2 }] });
    no({ equals: { a: [1] } }, { a: [1], b: 2 });
  });

  test('exists and absent: undefined is absent, null is present', () => {
    ok({ exists: true }, null);
    ok({ exists: true }, 0);
    no({ exists: true }, undefined, /absent/);
    ok({ exists: false }, undefined);
    no({ exists: false }, '', /absent, got ""/);
    ok({ absent: true }, undefined);
    no({ absent: true }, null, /absent, got null/);
    ok({ absent: false }, false);
    no({ absent: false }, undefined);
  });

  test('format uuid', () => {
    ok({ format: 'uuid' }, '123e4567-e89b-42d3-a456-426614174000');
    ok({ format: 'uuid' }, 'F47AC10B-58CC-4372-A567-0E02B2C3D479');
    no({ format: 'uuid' }, 'sess-1', /format uuid/);
    no({ format: 'uuid' }, '123e4567-e89b-42d3-a456-42661417400'); // one digit short
    no({ format: 'uuid' }, '123e4567-e89b-92d3-a456-426614174000'); // version 9
    no({ format: 'uuid' }, 123);
  });

  test('format iso-date', () => {
    ok({ format: 'iso-date' }, '2024-05-01');
    ok({ format: 'iso-date' }, '2024-05-01T10:20:30Z');
    ok({ format: 'iso-date' }, '2024-05-01T10:20:30.123+02:00');
    no({ format: 'iso-date' }, '2024-13-45T10:20:30Z'); // shape ok, not a date
    ok({ format: 'iso-date' }, '2024-02-29'); // a leap day
    no({ format: 'iso-date' }, '2023-02-29'); // not a leap year: Date.parse rolls it over to March 1st
    no({ format: 'iso-date' }, '2024-02-30T10:00:00Z');
    no({ format: 'iso-date' }, '2024-04-31');
    no({ format: 'iso-date' }, '2024-01-01T25:00:00Z');
    no({ format: 'iso-date' }, 'May 1 2024');
    no({ format: 'iso-date' }, 1714557630000);
  });

  test('format date-time: RFC 3339, an offset required, ranges and calendar checked', () => {
    ok({ format: 'date-time' }, '2024-05-01T10:20:30Z');
    ok({ format: 'date-time' }, '2024-05-01t10:20:30z');
    ok({ format: 'date-time' }, '2024-05-01 10:20:30.123456+02:00');
    ok({ format: 'date-time' }, '2024-05-01T10:20:30-05:30');
    ok({ format: 'date-time' }, '2016-12-31T23:59:60Z'); // a leap second
    ok({ format: 'date-time' }, '2024-02-29T00:00:00Z');
    no({ format: 'date-time' }, '2024-05-01', /format date-time/); // a date alone
    no({ format: 'date-time' }, '2024-05-01T10:20:30'); // no offset: a local time is not an instant
    no({ format: 'date-time' }, '2024-05-01T10:20Z'); // no seconds
    no({ format: 'date-time' }, '2024-05-01T10:20:30+0200'); // RFC 3339 offsets have a colon
    no({ format: 'date-time' }, '2023-02-29T00:00:00Z');
    no({ format: 'date-time' }, '2024-04-31T00:00:00Z');
    no({ format: 'date-time' }, '2024-01-01T24:00:00Z');
    no({ format: 'date-time' }, '2024-01-01T10:60:00Z');
    no({ format: 'date-time' }, '2024-01-01T10:00:61Z');
    no({ format: 'date-time' }, '2024-01-01T10:00:00+24:00');
    no({ format: 'date-time' }, '2024-01-01T10:00:00.Z');
    no({ format: 'date-time' }, 1714557630000);
  });

  test('format date-time is linear: a 1 MB near-miss is judged at once', () => {
    const long = `2024-05-01T10:20:30.${'1'.repeat(1_000_000)}+02:0`;
    const t0 = performance.now();
    no({ format: 'date-time' }, long);
    no({ format: 'date-time' }, `2024-05-01T10:20:30.${'1'.repeat(1_000_000)}`);
    assert.ok(performance.now() - t0 < 500, `took ${performance.now() - t0} ms`);
  });

  test('format integer, email, url, json', () => {
    ok({ format: 'integer' }, 4);
    no({ format: 'integer' }, 4.5);
    no({ format: 'integer' }, '4');
    ok({ format: 'email' }, 'a@b.io');
    ok({ format: 'email' }, 'first.last+tag@mail.example.co.uk');
    ok({ format: 'email' }, 'a@b.c.');
    no({ format: 'email' }, 'a@b');
    no({ format: 'email' }, '@b.io');
    no({ format: 'email' }, 'a@.io');
    no({ format: 'email' }, 'a@b.');
    no({ format: 'email' }, 'a@b@c.io');
    no({ format: 'email' }, 'a b@c.io');
    no({ format: 'email' }, 'a@b.io\n');
    ok({ format: 'url' }, 'http://x.test/a');
    no({ format: 'url' }, 'not a url');
    ok({ format: 'json' }, '{"a":1}');
    no({ format: 'json' }, '{a:1}');
    no({ format: 'json' }, { a: 1 });
  });

  test('format email is linear: 120 KB values that made the old pattern backtrack take milliseconds', () => {
    for (const value of [`a@${'b.'.repeat(60_000)} `, `a@${'.'.repeat(120_000)}@`, `${'a'.repeat(120_000)}@b.io`]) {
      const started = performance.now();
      const r = matchValue({ format: 'email' }, value);
      const ms = performance.now() - started;
      assert.ok(ms < 200, `${ms.toFixed(0)} ms for ${value.length} characters`);
      assert.equal(r.passed, value.endsWith('b.io'));
    }
  });

  test('regex (^ and $ anchor the whole value) and startsWith only hold of strings', () => {
    ok({ regex: '^\\d+ bytes$' }, '12 bytes');
    no({ regex: '^\\d+ bytes$' }, 'error: boom\n12 bytes', /match/);
    ok({ regex: '\\d+ bytes' }, 'x\n12 bytes');
    no({ regex: '(' }, 'x', /not a valid regular expression/);
    no({ regex: '^\\d+$' }, 'a1', /match/);
    no({ regex: '1' }, 1, /a string/);
    ok({ startsWith: 'garbage' }, 'garbage: not json');
    no({ startsWith: 'g' }, 'Garbage');
    no({ startsWith: '' }, 5);
  });

  test('contains: substring, array element (deep or sub-object), sub-object', () => {
    ok({ contains: 'rote' }, 'Wrote 12 bytes');
    no({ contains: 'rite' }, 'Wrote 12 bytes', /contain/);
    no({ contains: 1 }, '123'); // a number is not a substring
    ok({ contains: 2 }, [1, 2, 3]);
    ok({ contains: [1] }, [[1], [2]]);
    ok({ contains: { tool: 'read_file' } }, [
      { tool: 'write_file', x: 1 },
      { tool: 'read_file', y: 2 },
    ]);
    no({ contains: { tool: 'git' } }, [{ tool: 'write_file' }]);
    no({ contains: '2' }, [1, 2]);
    ok({ contains: { a: { b: 1 } } }, { a: { b: 1, c: 2 }, d: 3 });
    no({ contains: { a: { b: 2 } } }, { a: { b: 1 } });
    no({ contains: { a: 1 } }, null);
    no({ contains: 'x' }, undefined);
  });

  test('oneOf uses deep equality', () => {
    ok({ oneOf: ['a', 0, null] }, 0);
    ok({ oneOf: [{ a: 1 }] }, { a: 1 });
    no({ oneOf: ['a', 'b'] }, 'c', /one of/);
    no({ oneOf: [0] }, '0');
  });

  test('type names null and array apart from object', () => {
    ok({ type: 'null' }, null);
    no({ type: 'object' }, null, /expected a object, got null/);
    ok({ type: 'array' }, []);
    no({ type: 'object' }, []);
    ok({ type: 'object' }, {});
    ok({ type: 'number' }, 0);
    ok({ type: 'string' }, '');
    ok({ type: 'boolean' }, false);
    no({ type: 'string' }, undefined);
  });

  test('numeric bounds are inclusive or strict as named, and only hold of numbers', () => {
    ok({ gt: 0 }, 1);
    no({ gt: 0 }, 0, /gt 0/);
    ok({ gte: 0 }, 0);
    no({ gte: 0 }, -1);
    ok({ lt: 10 }, 9.5);
    no({ lt: 10 }, 10);
    ok({ lte: 10 }, 10);
    no({ lte: 10 }, 10.01);
    ok({ gte: 200, lt: 300 }, 204);
    no({ gte: 200, lt: 300 }, 300);
    no({ gte: 0 }, '5', /got "5"/);
    no({ lt: 1 }, null);
  });

  test('length: a number or a matcher, of strings and arrays only', () => {
    ok({ length: 3 }, 'abc');
    ok({ length: 2 }, [1, 2]);
    no({ length: 3 }, [1, 2], /length 2/);
    ok({ length: { gte: 1 } }, ['x']);
    no({ length: { gte: 1 } }, []);
    ok({ length: 0 }, '');
    no({ length: 1 }, { length: 1 }, /with a length/);
    no({ length: 0 }, undefined);
  });

  test('not inverts a matcher (scalar or object)', () => {
    ok({ not: 'error' }, 'ok');
    no({ not: 'error' }, 'error', /expected not "error"/);
    ok({ not: { exists: true } }, undefined);
    no({ not: { exists: true } }, 0);
    ok({ not: { contains: 'fail' } }, 'passed');
    no({ not: { equals: null } }, null);
    ok({ not: null }, 0);
  });

  test('every key given must hold', () => {
    ok({ type: 'string', startsWith: 'a', length: 3, not: 'abd' }, 'abc');
    no({ type: 'string', startsWith: 'a', length: 3, not: 'abc' }, 'abc');
    no({ exists: true, type: 'number', gte: 0 }, -1);
  });

  test('matcherRegexes finds nested regexes for load-time checks', () => {
    assert.deepEqual(matcherRegexes({ regex: 'a', not: { regex: 'b' }, length: { regex: 'c' } }).sort(), [
      'a',
      'b',
      'c',
    ]);
    assert.deepEqual(matcherRegexes('plain'), []);
  });
});

describe('getPath', { concurrency: true }, () => {
  const v = { a: { b: [{ c: 1 }, { c: 0, d: null }] }, x: { y: '' }, arr: [[10, 20]] };

  test('a.b[0].c and friends', () => {
    assert.equal(getPath(v, 'a.b[0].c'), 1);
    assert.equal(getPath(v, 'a.b[1].c'), 0);
    assert.equal(getPath(v, 'a.b.1.c'), 0);
    assert.equal(getPath(v, 'a.b[1].d'), null);
    assert.equal(getPath(v, 'x.y'), '');
    assert.equal(getPath(v, 'arr[0][1]'), 20);
    assert.deepEqual(getPath(v, 'a.b[0]'), { c: 1 });
  });

  test('missing parts are undefined, never a throw', () => {
    assert.equal(getPath(v, 'a.b[2].c'), undefined);
    assert.equal(getPath(v, 'a.b[1].d.e'), undefined);
    assert.equal(getPath(v, 'nope.deeper'), undefined);
    assert.equal(getPath(null, 'a'), undefined);
    assert.equal(getPath('str', 'length'), undefined);
  });

  test('inherited properties are not fields', () => {
    assert.equal(getPath({}, 'constructor'), undefined);
    assert.equal(getPath({ a: {} }, 'a.toString'), undefined);
    assert.equal(getPath([1, 2], 'length'), 2); // own property of an array
  });

  test('"", "." and "$" name the whole value', () => {
    assert.equal(getPath(v, ''), v);
    assert.equal(getPath(v, '.'), v);
    assert.equal(getPath(v, '$'), v);
  });

  test('splitPath', () => {
    assert.deepEqual(splitPath('a.b[0].c'), ['a', 'b', '0', 'c']);
    assert.deepEqual(splitPath('items[12]'), ['items', '12']);
  });
});
