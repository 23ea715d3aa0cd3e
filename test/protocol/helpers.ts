// Protocol files written for one test (the shipped ones with edits): the text goes to a temp folder
// removed after the test.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProtocol, PACKAGE_ROOT, type LoadProtocolResult, type Protocol } from '../../lib/protocol/index.ts';

export function shippedFile(name: string): string {
  return path.join(PACKAGE_ROOT, 'protocol', `${name}.asyncapi.yaml`);
}

/** The shipped file's text with each `from` replaced by its `to` (each `from` must be there). */
export function shippedText(name: string, ...edits: [string, string][]): string {
  let text = readFileSync(shippedFile(name), 'utf8');
  for (const [from, to] of edits) {
    assert.ok(text.includes(from), `${name} contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

export function loadText(
  t: { after(fn: () => void): void },
  text: string,
  name = 'p.asyncapi.yaml',
): LoadProtocolResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsgate-protocol-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return loadProtocol(file);
}

export function loadOk(t: { after(fn: () => void): void }, text: string): Protocol {
  const r = loadText(t, text);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors, null, 2));
  return r.protocol;
}
