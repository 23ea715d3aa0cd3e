// `wsgate model` as a process, as scripts use it: the first stdout line names the URL, a placeholder key
// is accepted, model.jsonl is written, SIGTERM ends it with exit 0; a non-loopback --host and a gates
// file with a misspelled model: key are refused before anything listens. Also measures the stand-in's
// own time per request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { spawnChild, stopTree } from '../../lib/os/process.ts';
import { BIN, cliResult, tempDir } from '../helpers/cli.ts';
import { startModelServer } from '../../lib/model-api/server.ts';
import { scriptOf } from '../../lib/model-api/rules.ts';
import { DEFAULT_MODEL_SECTION } from '../../lib/model-api/default-rules.ts';

async function firstLine(child: ReturnType<typeof spawnChild>, ms: number): Promise<string> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no first line within ${ms} ms; stderr: ${err}`)), ms);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before its first line; stderr: ${err}`));
    });
  });
}

test('wsgate model: first line "listening http://127.0.0.1:PORT", any key, model.jsonl, SIGTERM → exit 0', async (t) => {
  const dir = tempDir('wsgate-model-cli-');
  t.after(() => dir.remove());
  const log = path.join(dir.path, 'model.jsonl');
  const child = spawnChild(process.execPath, [BIN, 'model', '--port', '0', '--log', log], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  t.after(() => stopTree(child, 2000));
  const line = await firstLine(child, 30_000);
  const m = /^listening (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
  assert.ok(m, `first line: ${line}`);
  assert.ok(Number(m[2]) > 0);
  const url = m[1]!;
  // The default rules: the messages of wsgate's own default gates.
  const a = await new Anthropic({ apiKey: 'test', baseURL: url, maxRetries: 0 }).messages.create({
    model: 'x',
    max_tokens: 50,
    tools: [{ name: 'write_file', input_schema: { type: 'object' } }],
    messages: [{ role: 'user', content: "Create a test.txt file with 'Test content'" }],
  });
  assert.deepEqual(a.content.find((b) => b.type === 'tool_use')?.input, { path: 'test.txt', content: 'Test content' });
  const o = await new OpenAI({ apiKey: 'test', baseURL: `${url}/v1`, maxRetries: 0 }).chat.completions.create({
    model: 'x',
    messages: [{ role: 'user', content: 'Hello! Please introduce yourself.' }],
  });
  assert.match(o.choices[0]!.message.content ?? '', /stand-in/);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await Promise.race([
    exited,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no exit within 10 s of SIGTERM')), 10_000)),
  ])) as [number | null];
  assert.equal(code, 0);
  const records = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { api: string; rule: number | null; declaredTools: string[] });
  assert.deepEqual(
    records.map((r) => r.api),
    ['anthropic', 'openai'],
  );
  assert.deepEqual(records[0]!.declaredTools, ['write_file']);
});

test('wsgate model --host 0.0.0.0 is refused (exit 2) without --allow-remote', async () => {
  const r = await cliResult(['model', '--host', '0.0.0.0', '--port', '0'], { timeoutMs: 30_000 });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a loopback address/);
  assert.equal(r.stdout, '');
});

test('wsgate model --gates: a misspelled key of model: is a load error with did-you-mean', async (t) => {
  const dir = tempDir('wsgate-model-gates-');
  t.after(() => dir.remove());
  const file = path.join(dir.path, 'gates.yaml');
  writeFileSync(
    file,
    'version: 1\nmodel:\n  rules:\n    - wehn: {user: hi}\n      text: hello\ngates:\n  - id: g\n    title: t\n    steps: [{connect: main}]\n',
  );
  const r = await cliResult(['model', '--gates', file, '--port', '0'], { timeoutMs: 30_000 });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /gates\.yaml:4:\d+: .*unknown key "wehn"/);
  assert.match(r.stderr, /did you mean "when"\?/);
});

test("the stand-in's own time per request (loopback, pace 0), through each SDK", async (t) => {
  const server = await startModelServer({ script: scriptOf(DEFAULT_MODEL_SECTION) });
  t.after(() => server.close());
  const anthropic = new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
  const openai = new OpenAI({ apiKey: 'test', baseURL: `${server.url}/v1`, maxRetries: 0 });
  const n = 100;
  const measure = async (one: () => Promise<unknown>) => {
    await one();
    const start = performance.now();
    for (let i = 0; i < n; i++) await one();
    return (performance.now() - start) / n;
  };
  const tools = [{ name: 'write_file', input_schema: { type: 'object' as const } }];
  const content = "Create a test.txt file with 'Test content'";
  const aStream = await measure(() =>
    anthropic.messages
      .stream({ model: 'x', max_tokens: 50, tools, messages: [{ role: 'user', content }] })
      .finalMessage(),
  );
  const oStream = await measure(async () => {
    for await (const _ of await openai.chat.completions.create({
      model: 'x',
      stream: true,
      messages: [{ role: 'user', content: 'Hello' }],
    }));
  });
  const served = server.log.records.filter((r) => r.timing).map((r) => r.timing!.totalMs);
  const inServer = served.reduce((a, b) => a + b, 0) / served.length;
  t.diagnostic(
    `per request, client round trip: anthropic stream ${aStream.toFixed(2)} ms, openai stream ${oStream.toFixed(2)} ms; inside the stand-in ${inServer.toFixed(2)} ms`,
  );
  // Generous: two shared cores; the number is reported above, this only catches a pathological stand-in.
  assert.ok(aStream < 500 && oStream < 500, `${aStream} / ${oStream} ms per request`);
});

test('wsgate model: a bad --ttft, --tokens-per-second or --port is a usage error naming the flag', async () => {
  for (const [args, message] of [
    [['--ttft', 'soon'], /--ttft expects milliseconds/],
    [['--tokens-per-second=-3'], /--tokens-per-second expects a number >= 0/],
    [['--port', '70000'], /--port needs a port from 0 to 65535/],
  ] as const) {
    const r = await cliResult(['model', ...args], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});
