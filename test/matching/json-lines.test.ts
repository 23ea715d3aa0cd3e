// JSON Lines on real bytes: line numbers, a final newline, CRLF, empty and broken lines, where the lines
// appended after a start size begin (a line cut mid-write at the start counts as new), nearest misses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jsonLines, lineMisses, missText, nearestLine, newLinesStart } from '../../lib/matching/json-lines.ts';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('json lines', () => {
  test('each line parsed, numbered from 1 in the whole file; a final newline adds no line; CRLF is one line end', () => {
    const lines = jsonLines(b('{"a":1}\r\n[2]\n"é"\n'));
    assert.deepEqual(
      lines.map((l) => [l.line, l.value]),
      [
        [1, { a: 1 }],
        [2, [2]],
        [3, 'é'],
      ],
    );
    assert.deepEqual(jsonLines(b('')), []);
  });

  test('a line that is not JSON, or empty, carries its number and why', () => {
    const lines = jsonLines(b('{"a":1}\n{"a":\n\n7'));
    assert.deepEqual(
      lines.map((l) => [l.line, l.error !== undefined]),
      [
        [1, false],
        [2, true],
        [3, true],
        [4, false],
      ],
    );
    assert.equal(lines[2]!.error, 'an empty line');
  });

  test('the lines after a start size: on a line boundary, mid-line (that line is new), none, and the numbering', () => {
    const bytes = b('{"n":1}\n{"n":2}\n{"n":3}\n');
    assert.equal(newLinesStart(bytes, 0), 0);
    assert.equal(newLinesStart(bytes, 8), 8);
    assert.equal(newLinesStart(bytes, 12), 8, 'a line half written at the start was finished during the gate');
    assert.deepEqual(
      jsonLines(bytes, newLinesStart(bytes, 16)).map((l) => [l.line, l.value]),
      [[3, { n: 3 }]],
    );
    assert.deepEqual(jsonLines(bytes, newLinesStart(bytes, bytes.length)), []);
    // Multi-byte characters before the start: offsets are bytes, line numbers still right.
    const wide = b('{"s":"ééé"}\n{"n":2}\n');
    assert.deepEqual(
      jsonLines(wide, newLinesStart(wide, 15)).map((l) => l.line),
      [2],
    );
  });

  test('misses name the field and why; the nearest line is the one with fewest misses, the latest on a tie', () => {
    const fields = { type: 'Start', 'meter.kwh': { gt: 0 } };
    assert.deepEqual(lineMisses(fields, { type: 'Start', meter: { kwh: 3 } }), []);
    const misses = lineMisses(fields, { type: 'Stop', meter: { kwh: 0 } });
    assert.match(
      missText(4, misses),
      /^line 4: type: expected "Start", got "Stop"[^;]*; meter\.kwh: expected gt 0, got 0$/,
    );
    const lines = jsonLines(b('{"type":"Stop"}\n{"type":"Start","meter":{"kwh":0}}\n{"type":"Other"}\nbad\n'));
    assert.equal(nearestLine(fields, lines)!.line, 2);
    assert.equal(nearestLine(fields, jsonLines(b('bad\n'))), undefined);
  });
});
