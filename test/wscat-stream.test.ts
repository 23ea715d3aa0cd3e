// Pure tests of WscatStreamParser: it is fed text in the exact format wscat 6.1.0 writes to a piped
// stdout (docs/wscat.md): each message + "\n", readline prompts "> " glued in front,
// "Received ping/pong (data: ...)" lines from -P.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WscatStreamParser, type StreamItem } from '../lib/wscat/stream.ts';

interface Fed {
  items: StreamItem[];
  parser: WscatStreamParser;
}

/** Feed chunks (after granting prompt credits); end() unless told not to. */
function feed(chunks: readonly string[], opts: { credits?: number; end?: boolean; opening?: boolean } = {}): Fed {
  const items: StreamItem[] = [];
  const parser = new WscatStreamParser((i) => items.push(i));
  if (opts.credits) parser.addPromptCredits(opts.credits);
  // After the first probe pong the driver knows the exact count; `opening` keeps the parser before it.
  if (!opts.opening) parser.removePromptCredits(0);
  for (const c of chunks) parser.push(c);
  if (opts.end !== false) parser.end();
  return { items, parser };
}

const frame = (text: string): StreamItem => {
  try {
    return { kind: 'frame', text, json: JSON.parse(text), isJson: true };
  } catch {
    return { kind: 'frame', text, json: undefined, isJson: false };
  }
};
const textFrame = (text: string): StreamItem => ({ kind: 'frame', text, json: undefined, isJson: false });

describe('WscatStreamParser', () => {
  test('single-line JSON frames, objects and arrays, several in one chunk', () => {
    const { items } = feed(['{"type":"welcome","n":1}\n[1,2,{"a":null}]\n{"b":"c"}\n'], { end: false });
    assert.deepEqual(items, [
      { kind: 'frame', text: '{"type":"welcome","n":1}', json: { type: 'welcome', n: 1 }, isJson: true },
      { kind: 'frame', text: '[1,2,{"a":null}]', json: [1, 2, { a: null }], isJson: true },
      { kind: 'frame', text: '{"b":"c"}', json: { b: 'c' }, isJson: true },
    ]);
  });

  test('a frame is emitted as soon as its line is complete, not at end()', () => {
    const items: StreamItem[] = [];
    const p = new WscatStreamParser((i) => items.push(i));
    p.push('{"a":1}');
    assert.equal(items.length, 0, 'no newline yet: the frame may continue');
    p.push('\n');
    assert.deepEqual(items, [frame('{"a":1}')]);
    p.push('plain');
    p.push(' text\n');
    assert.deepEqual(items, [frame('{"a":1}'), textFrame('plain text')]);
  });

  test('pretty-printed multi-line JSON is one frame', () => {
    const a = {
      type: 'state',
      items: [
        { id: 1, tags: ['x', 'y'] },
        { id: 2, tags: [] },
      ],
      nested: { deep: { deeper: [[1], [2, [3]]] } },
    };
    const b = [{ k: 'v' }, [1, 2]];
    const textA = JSON.stringify(a, null, 2);
    const textB = JSON.stringify(b, null, '\t');
    assert.ok(textA.split('\n').length > 10, 'the fixture really spans lines');
    const { items } = feed([`${textA}\n${textB}\n{"after":true}\n`], { end: false });
    assert.deepEqual(items, [
      { kind: 'frame', text: textA, json: a, isJson: true },
      { kind: 'frame', text: textB, json: b, isJson: true },
      frame('{"after":true}'),
    ]);
  });

  test('strings holding braces, brackets, escaped quotes and backslashes do not confuse the depth count', () => {
    const values = [
      { s: '}}]]{{[[', q: 'say "hi" {', b: 'back\\', bq: '\\"', t: 'tab\there' },
      { s: '{"not":"real"}' },
      ['"]', '\\', '}'],
      { nl: 'line1\nline2' }, // escaped \n in JSON text: still one line
    ];
    for (const v of values) {
      for (const text of [JSON.stringify(v), JSON.stringify(v, null, 2)]) {
        const { items } = feed([`${text}\n{"next":1}\n`], { end: false });
        assert.deepEqual(items, [{ kind: 'frame', text, json: v, isJson: true }, frame('{"next":1}')], text);
      }
    }
  });

  test('chunk boundaries at every offset give the same items as one chunk', () => {
    const pretty = JSON.stringify({ a: [1, { b: '}{' }], s: 'q\\"x', e: {} }, null, 2);
    // Prompts are granted as credits: this stream has 3 of them ("> > " and "> ").
    const stream = [
      '{"type":"welcome"}\n',
      `${pretty}\n`,
      '> > Received pong (data: "wsgate-probe-4")\n',
      'plain text line\n',
      '> [1,"]",2]\n',
      '{broken\n',
      '{"ok":true}\n',
      'Received ping (data: "srv")\n',
      '\n', // an empty text frame
      '{"last":"no newline"}',
    ].join('');
    const expected: StreamItem[] = [
      frame('{"type":"welcome"}'),
      frame(pretty),
      { kind: 'pong', data: 'wsgate-probe-4' },
      textFrame('plain text line'),
      frame('[1,"]",2]'),
      textFrame('{broken'),
      frame('{"ok":true}'),
      { kind: 'ping', data: 'srv' },
      textFrame(''),
      frame('{"last":"no newline"}'),
    ];
    assert.deepEqual(feed([stream], { credits: 3 }).items, expected);
    for (let i = 0; i <= stream.length; i++) {
      const { items, parser } = feed([stream.slice(0, i), stream.slice(i)], { credits: 3 });
      assert.deepEqual(
        items,
        expected,
        `split at ${i}: ${JSON.stringify(stream.slice(Math.max(0, i - 10), i))}|${JSON.stringify(stream.slice(i, i + 10))}`,
      );
      assert.equal(parser.pendingPrompts, 0, `split at ${i}`);
    }
    // And one character at a time.
    assert.deepEqual(feed([...stream], { credits: 3 }).items, expected);
    // Three-way splits over the pretty frame and the prompts around it.
    const region = stream.indexOf('> > ') + 6;
    for (let i = 0; i < region; i += 3) {
      for (let j = i; j <= region; j += 2) {
        const { items } = feed([stream.slice(0, i), stream.slice(i, j), stream.slice(j)], { credits: 3 });
        assert.deepEqual(items, expected, `split at ${i},${j}`);
      }
    }
  });

  test('prompt glue "> " is stripped when a prompt is owed, and piled prompts are counted', () => {
    const one = feed(['> {"a":1}\n'], { credits: 1 });
    assert.deepEqual(one.items, [frame('{"a":1}')]);
    assert.equal(one.parser.pendingPrompts, 0);

    const piled = feed(['> > > {"a":1}\n'], { credits: 3 });
    assert.deepEqual(piled.items, [frame('{"a":1}')]);
    assert.equal(piled.parser.pendingPrompts, 0);

    // Prompts written before any message: consumed, and the credits are used up.
    const early = feed(['> > ', '{"b":2}\n> '], { credits: 5, end: false });
    assert.deepEqual(early.items, [frame('{"b":2}')]);
    assert.equal(early.parser.pendingPrompts, 2);

    // A prompt split from its space by a chunk boundary.
    const split = feed(['>', ' hello\n'], { credits: 1 });
    assert.deepEqual(split.items, [textFrame('hello')]);
  });

  test('before the first pong, "> " is a prompt only where a frame, a prompt or a pong line follows', () => {
    // Credits may include probes wscat dropped before the socket opened: a text frame keeps its "> ".
    const text = feed(['> welcome\n'], { credits: 3, opening: true });
    assert.deepEqual(text.items, [textFrame('> welcome')]);
    const glued = feed(['> {"type":"connected"}\n> > Received pong (data: "p")\n'], { credits: 3, opening: true });
    assert.deepEqual(glued.items, [frame('{"type":"connected"}'), { kind: 'pong', data: 'p' }]);
    assert.equal(glued.parser.pendingPrompts, 0);
    // Once the count is exact, any owed "> " is a prompt.
    glued.parser.addPromptCredits(1);
    glued.parser.removePromptCredits(0);
    glued.parser.push('> hello\n');
    assert.deepEqual(glued.items.at(-1), textFrame('hello'));
  });

  test('a frame that really starts with "> " is kept intact when no prompt is owed', () => {
    assert.deepEqual(feed(['> not a prompt\n']).items, [textFrame('> not a prompt')]);
    assert.deepEqual(feed(['> {"a":1}\n']).items, [textFrame('> {"a":1}')]);
    // One prompt owed, then a frame starting with "> ": only the owed prompt is removed.
    const mixed = feed(['> > not a prompt\n'], { credits: 1 });
    assert.deepEqual(mixed.items, [textFrame('> not a prompt')]);
    assert.equal(mixed.parser.pendingPrompts, 0);
    // After a JSON frame, at a frame boundary, with no credit.
    assert.deepEqual(feed(['{"a":1}\n> quoted\n']).items, [frame('{"a":1}'), textFrame('> quoted')]);
    // ">" not followed by a space is never a prompt.
    assert.deepEqual(feed(['>>x\n'], { credits: 1 }).items, [textFrame('>>x')]);
  });

  test('"Received pong/ping (data: ...)" lines become pong/ping items', () => {
    const { items } = feed(
      ['Received pong (data: "x")\n> Received ping (data: "")\nReceived pong (data: "a b\\"c")\n'],
      { credits: 1, end: false },
    );
    assert.deepEqual(items, [
      { kind: 'pong', data: 'x' },
      { kind: 'ping', data: '' },
      { kind: 'pong', data: 'a b\\"c' },
    ]);
    // Near misses are ordinary text frames.
    assert.deepEqual(feed(['Received pong (data: x)\nreceived ping (data: "x")\n']).items, [
      textFrame('Received pong (data: x)'),
      textFrame('received ping (data: "x")'),
    ]);
  });

  test('non-JSON text lines, including ones that look a little like JSON', () => {
    const lines = [
      'hello world',
      '  indented',
      'null',
      '42',
      '"a string"',
      '{}x',
      '[1,2] trailing',
      '{"a":1}{"b":2}',
      'ünïcödé ✓',
    ];
    const { items } = feed([lines.map((l) => l + '\n').join('')], { end: false });
    assert.deepEqual(
      items,
      lines.map((l) => textFrame(l)),
    );
  });

  test('a broken JSON-looking line does not swallow the valid frame after it', () => {
    for (const broken of [
      '{broken',
      '[1, 2',
      '{"a": {"b": 1}',
      '{"unterminated',
      '{"key": "value',
      '["a\\"',
      '{"esc\\',
    ]) {
      const items: StreamItem[] = [];
      const p = new WscatStreamParser((i) => items.push(i));
      p.push(`${broken}\n`);
      p.push('{"valid":true}\n');
      p.push('after\n');
      // Without end(): a live connection must see the valid frame while wscat is still running.
      assert.deepEqual(items, [textFrame(broken), frame('{"valid":true}'), textFrame('after')], broken);
    }
    // Also when the valid frame follows a prompt.
    const { items } = feed(['{broken\n> {"valid":true}\n'], { credits: 1, end: false });
    assert.deepEqual(items, [textFrame('{broken'), frame('{"valid":true}')]);
  });

  test('end() flushes a frame without a trailing newline', () => {
    const json = feed(['{"a":', '1}'], { end: false });
    assert.deepEqual(json.items, []);
    json.parser.end();
    assert.deepEqual(json.items, [frame('{"a":1}')]);

    assert.deepEqual(feed(['tail text']).items, [textFrame('tail text')]);
    assert.deepEqual(feed(['{"a":1}\n> '], { credits: 1 }).items, [frame('{"a":1}')], 'a final prompt is not a frame');
    // An unfinished structure at exit is reported line by line as text.
    assert.deepEqual(feed(['{\n  "a": 1,\n  "b"']).items, [textFrame('{'), textFrame('  "a": 1,'), textFrame('  "b"')]);
    // end() twice emits nothing more.
    const twice = feed(['x']);
    twice.parser.end();
    assert.deepEqual(twice.items, [textFrame('x')]);
  });

  test('removePromptCredits takes back credits and never goes below zero', () => {
    const items: StreamItem[] = [];
    const p = new WscatStreamParser((i) => items.push(i));
    p.addPromptCredits(5);
    p.removePromptCredits(3);
    assert.equal(p.pendingPrompts, 2);
    p.push('> > > kept\n');
    assert.deepEqual(items, [textFrame('> kept')]);
    assert.equal(p.pendingPrompts, 0);
    p.addPromptCredits(1);
    p.removePromptCredits(10);
    assert.equal(p.pendingPrompts, 0);
    p.push('> {"a":1}\n');
    assert.deepEqual(items, [textFrame('> kept'), textFrame('> {"a":1}')]);
  });

  test('bytesSeen counts every character pushed', () => {
    const { parser } = feed(['ab', '{"c":1}\n', '> '], { credits: 1 });
    assert.equal(parser.bytesSeen, 2 + 8 + 2);
  });
});
