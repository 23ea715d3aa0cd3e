// lib/util/vars.ts, pure: ${NAME} substitution that keeps a whole reference's type, layered scopes,
// env.NAME, and unknown variables as a typed error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refsIn, substitute, substituteRaw, UnknownVariable, VarScope, type Lookup } from '../lib/util/vars.ts';

const from =
  (o: Record<string, unknown>): Lookup =>
  (n) =>
    n in o ? { found: true, value: o[n] } : { found: false };

describe('substitute', { concurrency: true }, () => {
  test('a value that is exactly one reference keeps its type', () => {
    const obj = { a: [1, 2] };
    assert.equal(substitute('${N}', from({ N: 0 })), 0);
    assert.equal(substitute('${B}', from({ B: false })), false);
    assert.equal(substitute('${Z}', from({ Z: null })), null);
    assert.equal(substitute('${O}', from({ O: obj })), obj);
  });

  test('references inside longer strings are interpolated; objects become JSON', () => {
    assert.equal(substitute('id=${ID}!', from({ ID: 'abc' })), 'id=abc!');
    assert.equal(substitute('${A}${B}', from({ A: 1, B: 2 })), '12');
    assert.equal(substitute('x ${O}', from({ O: { k: 1 } })), 'x {"k":1}');
    assert.equal(substitute('plain $ {X} and $X', from({})), 'plain $ {X} and $X');
  });

  test('nested arrays and objects, keys included', () => {
    const out = substitute({ '${K}': ['${V}', { deep: 'p/${V}' }], n: 3 }, from({ K: 'key', V: 'val' }));
    assert.deepEqual(out, { key: ['val', { deep: 'p/val' }], n: 3 });
  });

  test('an unknown variable throws UnknownVariable naming it', () => {
    assert.throws(
      () => substitute('${NOPE}', from({})),
      (e: unknown) => e instanceof UnknownVariable && e.variable === 'NOPE' && /\$\{NOPE\}/.test(e.message),
    );
    assert.throws(
      () => substitute({ a: ['pre ${MISSING} post'] }, from({})),
      (e: unknown) => e instanceof UnknownVariable && e.variable === 'MISSING',
    );
  });

  test('refsIn lists every reference, in keys too', () => {
    assert.deepEqual(refsIn({ a: '${X} and ${env.HOME}', '${K}': ['${Y}'] }).sort(), ['K', 'X', 'Y', 'env.HOME']);
    assert.deepEqual(refsIn(42), []);
  });
});

describe('VarScope', { concurrency: true }, () => {
  test('later layers win and a child does not write into its parent', () => {
    const base = new VarScope();
    base.set('A', 'base');
    base.set('B', 'base');
    const child = base.child();
    child.set('A', 'child');
    assert.equal(child.resolve('${A}/${B}'), 'child/base');
    assert.equal(base.resolve('${A}'), 'base');
    assert.deepEqual(base.lookup('C'), { found: false });
  });

  test('a value set on the parent after the child was made is seen by the child', () => {
    const base = new VarScope();
    const child = base.child();
    base.set('LATE', 1);
    assert.equal(child.resolve('${LATE}'), 1);
  });

  test('env.NAME reads the given environment', () => {
    const s = new VarScope([new Map()], { WSGATE_T: 'yes' });
    assert.equal(s.resolve('${env.WSGATE_T}'), 'yes');
    assert.throws(() => s.resolve('${env.NOT_SET_HERE}'), UnknownVariable);
  });

  test('a variable whose value is undefined is still found (captured absent value)', () => {
    const s = new VarScope();
    s.set('U', undefined);
    assert.deepEqual(s.lookup('U'), { found: true, value: undefined });
  });
});

describe('substituteRaw', { concurrency: true }, () => {
  const vars: Lookup = (n) =>
    n === 'x' ? { found: true, value: 'a"b\\c\n' } : n === 'obj' ? { found: true, value: { k: 1 } } : { found: false };
  test('escapes a value inside a JSON string (after escaped quotes too), splices it outside, and says the line claims JSON', () => {
    const r = substituteRaw('{"s": "pre \\"${x}\\" post", "o": ${obj}}', vars);
    assert.equal(r.claimsJson, true);
    assert.deepEqual(JSON.parse(r.text), { s: 'pre "a"b\\c\n" post', o: { k: 1 } });
  });
  test('a line that is not JSON, or is one reference, is substituted as before and claims nothing', () => {
    assert.deepEqual(substituteRaw('{broken "${x}"', vars), { text: '{broken "a"b\\c\n"', claimsJson: false });
    assert.deepEqual(substituteRaw('${obj}', vars), { text: '{"k":1}', claimsJson: false });
    assert.throws(() => substituteRaw('["${nope}"]', vars), UnknownVariable);
  });
});

describe('the \\${ escape', { concurrency: true }, () => {
  const vars = from({ X: 'value', Q: 'has \\${X} inside' });
  test('\\${ is a literal ${, in plain and raw JSON substitution, and is no reference', () => {
    assert.equal(substitute('a \\${X} and ${X}', vars), 'a ${X} and value');
    assert.equal(substitute('\\${env.SECRET}', vars), '${env.SECRET}');
    assert.deepEqual(refsIn('\\${A} ${B}'), ['B']);
    assert.equal(substitute('${Q}!', vars), 'has \\${X} inside!', 'a value holding \\${ is not unescaped');
    assert.deepEqual(JSON.parse(substituteRaw('{"t": "\\${X} ${X}"}', vars).text), { t: '${X} value' });
  });
});
