// lib/evidence/writer.ts on a real run: the transcript holds every frame with the step it travelled in, the
// observations hold what verify saw, and the manifest catches any later change to the folder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { startReferenceServer } from '../reference-server/index.ts';
import { runGatesYaml } from './helpers/run-gates.ts';
import { scratch } from './helpers/cli.ts';
import { buildManifest, evidenceDigest, verifyEvidence } from '../lib/evidence/writer.ts';

const scr = scratch(after);

const GATES = `version: 1
gates:
  - id: ev
    title: evidence
    steps:
      - connect: main
      - send: {type: init_session, projectPath: "\${PROJECT}"}
        expect: [{type: session_initialized}]
      - send: {type: message, content: "Create a ev.txt file with 'evidence'"}
        expect: [{type: tool_result, where: {tool: write_file}}, {type: message_complete}]
      - verify: {file: ev.txt, content: evidence}
`;

test('transcript, observations and manifest of a real run', async () => {
  const server = scr.server(
    await startReferenceServer({ port: 0, root: scr.dir(), dataDir: scr.dir(), allowAnyProject: true }),
  );
  const run = await runGatesYaml(GATES, { url: server.url });
  assert.equal(run.result.status, 'passed');
  const dir = run.evidenceDir;

  const lines = readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { at: string; conn: string; dir: string; step: string; text: string });
  const out = lines.filter((l) => l.dir === 'out');
  assert.deepEqual(
    out.map((l) => [l.step, JSON.parse(l.text).type]),
    [
      ['ev#2', 'init_session'],
      ['ev#3', 'message'],
    ],
    'each sent frame names the step that sent it',
  );
  const incoming = lines.filter((l) => l.dir === 'in');
  assert.equal(incoming[0]!.step, 'ev#1', 'the welcome arrives during the connect step');
  assert.ok(incoming.some((l) => l.step === 'ev#3' && JSON.parse(l.text).type === 'message_complete'));
  assert.ok(
    lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(l.at) && l.conn === 'main'),
    'millisecond timestamps',
  );

  const obs = readFileSync(path.join(dir, 'observations.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const seen = obs.find((o) => o.step === 'ev#4');
  assert.equal(seen.data.content, 'evidence');
  assert.equal(seen.data.sha256, createHash('sha256').update('evidence').digest('hex'));

  // The manifest hashes every file; the digest is the manifest's own hash.
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(
    manifest.files.map((f: { path: string }) => f.path).sort(),
    buildManifest(dir, 'test')
      .files.map((f) => f.path)
      .sort(),
  );
  assert.equal(
    evidenceDigest(dir),
    'sha256:' +
      createHash('sha256')
        .update(readFileSync(path.join(dir, 'manifest.json')))
        .digest('hex'),
  );
  assert.deepEqual(verifyEvidence(dir), { ok: true, problems: [] });

  appendFileSync(path.join(dir, 'transcript.jsonl'), '{}\n');
  assert.deepEqual(verifyEvidence(dir).problems, ['transcript.jsonl changed']);
  writeFileSync(path.join(dir, 'extra.txt'), 'x');
  assert.ok(verifyEvidence(dir).problems.includes('extra.txt is not in the manifest'));
  rmSync(path.join(dir, 'observations.jsonl'));
  assert.ok(verifyEvidence(dir).problems.includes('observations.jsonl is missing'));
});
