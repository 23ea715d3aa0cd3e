import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { optionLines, readOptions, usageOptions, UsageError } from '../../reference-server/argv.ts';

const TABLE = {
  port: { name: 'port', value: 'N', help: 'the port' },
  fault: { name: 'fault', value: 'NAME', repeatable: true, help: 'a fault;\nrepeatable' },
  slowMs: { name: 'slow-ms', value: 'MS', help: 'a delay' },
  help: { name: 'help', short: 'h', help: 'print this help' },
};

function refusal(argv: string[]): string {
  try {
    readOptions(TABLE, argv);
  } catch (error) {
    assert.ok(error instanceof UsageError);
    return error.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('the serve command line', () => {
  test('reads values, lists and switches by long name, and keeps positionals', () => {
    const { values, positionals } = readOptions(TABLE, ['--port', '0', '--fault', 'a', '--fault=b', '-h', 'extra']);
    assert.deepEqual({ ...values }, { port: '0', fault: ['a', 'b'], help: true });
    assert.deepEqual(positionals, ['extra']);
  });

  test('a refused line is one sentence of ours: unknown (with the nearest name), missing or ambiguous value, value on a switch', () => {
    assert.equal(refusal(['--slow-sm', '1']), "unknown option '--slow-sm' (did you mean --slow-ms?)");
    assert.equal(refusal(['--zzzzzzzz']), "unknown option '--zzzzzzzz'");
    assert.equal(refusal(['-x']), "unknown option '-x'");
    assert.equal(refusal(['--port']), '--port needs a value');
    assert.equal(
      refusal(['--port', '-1']),
      '--port needs a value, but the next argument "-1" starts with "-" (write --port=-1 if it is the value)',
    );
    assert.equal(refusal(['--help=yes']), '--help takes no value');
  });

  test('usage and help are in table order, descriptions from column 22 with continuations aligned', () => {
    assert.equal(usageOptions(TABLE), '[--port N] [--fault NAME]... [--slow-ms MS] [--help]');
    assert.equal(
      optionLines(TABLE),
      [
        '  --port N            the port',
        '  --fault NAME        a fault;',
        '                      repeatable',
        '  --slow-ms MS        a delay',
        '  -h, --help          print this help',
      ].join('\n'),
    );
  });
});
