// forbid:/none: selectors that no server message of the protocol can match are refused at their
// line: under tRPC a `forbid: [complete]` (a GraphQL habit) could never fail. Kinds a protocol admits
// for any name (JSON-RPC methods, OCPP actions) are accepted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadGatesText } from '../../lib/gates/load.ts';
import { runCli } from '../helpers/cli.ts';

const gates = (protocol: string, steps: string, head = '') =>
  `version: 1\nprotocol: ${protocol}\n${head}gates:\n  - id: g\n    title: g\n    steps:\n      - connect: main\n${steps}`;

/** The problems loading finds: [line, title] of each, none when the file loads. */
function check(protocol: string, steps: string, head = '') {
  const l = loadGatesText(gates(`wsgate:${protocol}`, steps, head), path.join(os.tmpdir(), 'gates.yaml'));
  return l.ok ? [] : l.errors.map((e) => [e.loc?.line, e.title]);
}

test('a forbid or none of a kind the protocol has no server message of is refused at its line; described kinds pass', () => {
  // A GraphQL habit under tRPC: tRPC's server sends started/data/stopped/error, never next or complete.
  const sub =
    '      - send: {id: 1, method: subscription, params: {path: x}}\n        expect: [{type: started}, {none: {type: next, where: {id: 1}}, for: 100ms}]\n        forbid: [complete, error]\n';
  assert.deepEqual(check('trpc', sub), [
    [9, 'none: next: no server message of trpc.asyncapi.yaml is of kind next, so this check can never fail'],
    [10, 'forbid: complete: no server message of trpc.asyncapi.yaml is of kind complete, so this check can never fail'],
  ]);
  assert.deepEqual(
    check(
      'trpc',
      '      - send: {id: 1, method: query, params: {path: x}}\n        expect: [{type: data}]\n        forbid: [error, {where: {id: 2}}]\n',
    ),
    [],
  );
  assert.deepEqual(
    check(
      'jsonrpc',
      '      - send: {jsonrpc: "2.0", id: 1, method: add}\n        expect: [{type: result}, {none: chat.message, for: 100ms}]\n        forbid: [error]\n',
    ),
    [],
    'any method is a kind JSON-RPC admits',
  );
  assert.deepEqual(
    check('trpc', sub, 'defaults: {typeField: kind}\n'),
    [],
    'a file that names its own type field reads kinds from it',
  );
});

test('wsgate run refuses such a file before connecting (exit 2), naming the line', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-selectors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'gates.yaml');
  writeFileSync(
    file,
    gates(
      'wsgate:trpc',
      '      - send: {id: 1, method: query, params: {path: x}}\n        expect: [{type: data}]\n        forbid: [complete]\n',
    ),
  );
  const r = await runCli(['ws://127.0.0.1:9/', dir, '--gates', file, '--out', path.join(dir, 'ev')]);
  assert.equal(r.exitCode, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /gates\.yaml:10:\d+.*forbid: complete: no server message of trpc\.asyncapi\.yaml is of kind complete/s,
  );
});

test('wsgate run --list and wsgate model --gates refuse such a file too (exit 2): the check is part of loading', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-selectors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'gates.yaml');
  writeFileSync(
    file,
    gates(
      'wsgate:trpc',
      '      - send: {id: 1, method: query, params: {path: x}}\n        expect: [{type: data}]\n        forbid: [complete]\n',
    ),
  );
  const list = await runCli(['--list', '--gates', file]);
  assert.equal(list.exitCode, 2, list.stdout + list.stderr);
  assert.match(list.stderr, /gates\.yaml:10:\d+.*forbid: complete: no server message/s);
  // The model stand-in would otherwise serve until stopped: a refused file ends it at once.
  const model = await runCli(['model', '--gates', file, '--port', '0'], { timeoutMs: 30_000 });
  assert.equal(model.exitCode, 2, model.stdout + model.stderr);
  assert.match(model.stderr, /forbid: complete: no server message/);
});
