// The HTML report opened in a real headless browser (Debian's chromium: `apt-get install chromium`),
// so its scripts run; the assertions read the DOM the browser rendered.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { htmlReport } from '../../lib/reporters/html.ts';
import type { RunResult } from '../../lib/evidence/results.ts';
import {
  FAIL_GATES,
  FAULTS,
  PASS_GATES,
  failedChecks,
  tempDir,
  transcript,
  wsgateRun,
  type CliRun,
} from './helpers.ts';
import { whyFailed } from '../../lib/evidence/describe-failure.ts';

function findChromium(): string | undefined {
  const names = process.env.CHROMIUM ? [process.env.CHROMIUM] : ['chromium', 'chromium-browser'];
  for (const n of names) {
    if (n.includes('/')) {
      if (existsSync(n)) return n;
      continue;
    }
    for (const dir of (process.env.PATH ?? '').split(path.delimiter))
      if (dir && existsSync(path.join(dir, n))) return path.join(dir, n);
  }
  return undefined;
}

/** The DOM after the page's scripts ran, as chromium serializes it. */
async function renderedDom(file: string): Promise<string> {
  const bin = findChromium();
  assert.ok(
    bin,
    'chromium is not installed: the HTML report test needs a real headless browser. Install it with `apt-get install -y chromium` (Debian) or set CHROMIUM=/path/to/chromium.',
  );
  const profile = await tempDir('wsgate-chromium-');
  try {
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--dump-dom',
      pathToFileURL(file).href,
    ];
    return await new Promise<string>((resolve, reject) =>
      execFile(bin, args, { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 }, (e, stdout, stderr) =>
        e ? reject(new Error(`chromium failed: ${e.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Text as the HTML serializer writes it inside an element. */
const serialized = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\u00a0/g, '&nbsp;');

function assertNoNetwork(html: string): void {
  assert.doesNotMatch(
    html,
    /\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\//i,
    'no src/href to another host',
  );
  assert.doesNotMatch(html, /url\(\s*["']?\s*(?:https?:)?\/\//i, 'no CSS url() to another host');
  assert.doesNotMatch(html, /@import|<link\b|<iframe\b/i);
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;|<meta http-equiv="Content-Security-Policy" content="default-src 'none'/,
  );
}

async function checkRun(run: CliRun, file: string, dom: string): Promise<string> {
  const html = await readFile(file, 'utf8');
  assertNoNetwork(html);
  assert.match(dom, /<html[^>]* data-ready="1"/, 'the page script ran');
  for (const g of run.result.gates) {
    assert.ok(dom.includes(`<span class="gate-id">${serialized(g.id)}</span>`), `gate ${g.id}`);
    for (const s of g.steps) assert.ok(dom.includes(serialized(s.label)), `step ${g.id} / ${s.label}`);
  }
  const lines = await transcript(run.out);
  const frames = lines.filter((l) => l.dir !== 'event');
  assert.ok(frames.length > 0, 'the run has a transcript');
  for (const f of frames)
    assert.ok(dom.includes(serialized(f.text)), `frame ${f.conn} ${f.dir}: ${f.text.slice(0, 80)}`);
  const events = lines.filter((l) => l.dir === 'event');
  assert.ok(events.length >= 2, 'the transcript records sockets opening and closing');
  assert.ok(
    dom.includes('<pre class="event">socket opened</pre>'),
    'an open is shown as an event, not as an empty frame',
  );
  assert.ok(dom.includes(`<b id="frame-count">${frames.length}</b>`), 'the script counted every frame');
  return dom;
}

describe('html reporter', () => {
  let pass: CliRun;
  let fail: CliRun;
  let passDom: Promise<string>;
  let failDom: Promise<string>;
  const passFile = () => path.join(pass.dir, 'wsgate-report.html');
  const failFile = () => path.join(fail.dir, 'out', 'report.html');
  before(async () => {
    [pass, fail] = await Promise.all([
      wsgateRun(() => [...PASS_GATES, '--reporter', 'html']),
      wsgateRun((dir) => [...FAIL_GATES, '--reporter', `html:${path.join(dir, 'out', 'report.html')}`], {
        faults: FAULTS,
      }),
    ]);
    // Both pages render at once; each test awaits its own (a missing chromium fails that test).
    passDom = renderedDom(passFile());
    failDom = renderedDom(failFile());
    passDom.catch(() => undefined);
    failDom.catch(() => undefined);
  });
  after(async () => {
    await pass?.cleanup();
    await fail?.cleanup();
  });

  test('a passing run: wsgate-report.html shows every gate, step and transcript frame, and needs no network', async () => {
    assert.equal(pass.code, 0, pass.stderr);
    const dom = await checkRun(pass, passFile(), await passDom);
    assert.match(dom, /class="verdict s-passed">PASS</);
    assert.ok(dom.includes('<h2>Timings</h2>'));
  });

  test('a failing run: the failed check as an expected-vs-actual diff', async () => {
    assert.equal(fail.code, 1, fail.stderr);
    const dom = await checkRun(fail, failFile(), await failDom);
    assert.match(dom, /class="verdict s-failed">FAIL</);
    for (const { gate, check } of failedChecks(fail.result)) {
      const section = dom.slice(dom.indexOf(`id="gate-${gate.id}"`));
      assert.ok(section.includes(serialized(check.name)), `check ${check.name}`);
      assert.match(section, /class="dl d-del">- /);
      assert.match(section, /class="dl d-ins">\+ /);
      const exp = typeof check.expected === 'string' ? check.expected : JSON.stringify(check.expected, null, 2);
      const act = typeof check.actual === 'string' ? check.actual : JSON.stringify(check.actual, null, 2);
      const textOnly = section.replace(/<\/?mark>/g, '');
      assert.ok(textOnly.includes(serialized(exp.split('\n')[0]!)), `expected ${exp}`);
      assert.ok(textOnly.includes(serialized(act.split('\n')[0]!)), `actual ${act}`);
      const why = whyFailed(check);
      if (why) assert.ok(section.includes(`<div class="why">${serialized(why)}</div>`), `why of ${check.name}`);
    }
  });

  test('untrusted server text cannot inject markup or script; huge and empty inputs still render', async () => {
    const evil = `</pre></script><script>document.documentElement.setAttribute('data-pwned','1')</script><img src=x onerror="document.documentElement.setAttribute('data-pwned','2')"> "quoted" 'single' \u0001`;
    const r: RunResult = {
      schemaVersion: 1,
      runId: '<b>run</b>',
      startedAt: '2024-01-01T00:00:00.000Z',
      ms: 10,
      url: 'ws://x/"><script>',
      project: '',
      gatesFile: 'g.yaml',
      status: 'failed',
      exitCode: 1,
      warnings: [evil],
      totals: { gates: 1, passed: 0, failed: 1, pending: 0, skipped: 0, checks: 1, checksFailed: 1 },
      gates: [
        {
          id: `g"${evil}`,
          title: evil,
          status: 'failed',
          ms: 1,
          loc: { file: 'g.yaml', line: 1, col: 1 },
          steps: [
            {
              kind: 'send',
              label: evil,
              status: 'failed',
              ms: 1,
              loc: { file: 'g.yaml', line: 2, col: 1 },
              note: evil,
              timings: [{ name: evil, ms: 5, budgetMs: 1, passed: false }],
              checks: [
                {
                  name: evil,
                  expected: { a: evil, b: [1, 2] },
                  actual: { a: 'x'.repeat(300_000), b: [1, 3] },
                  passed: false,
                  loc: { file: 'g.yaml', line: 3, col: 1 },
                },
              ],
              lastMessages: [{ conn: evil, seq: 1, at: 0, text: evil }],
            },
          ],
        },
      ],
    };
    const lines = [
      { at: '2024-01-01T00:00:00.001Z', conn: evil, dir: 'in' as const, step: `g"${evil}#1`, seq: 0, text: evil },
      { at: 'not a date', conn: 'main', dir: 'out' as const, step: '', text: 'y'.repeat(1_000_000) },
    ];
    const dir = await tempDir();
    try {
      const file = path.join(dir, 'evil.html');
      await writeFile(file, htmlReport(r, undefined, { lines, dropped: 3, unreadable: 1, missing: false }));
      const html = await readFile(file, 'utf8');
      assertNoNetwork(html);
      assert.ok(html.length < 2_000_000, `huge values are cut (${html.length} chars)`);
      assert.equal(html.match(/<script>/g)?.length, 1, "only the report's own script element");
      const dom = await renderedDom(file);
      assert.match(dom, /data-ready="1"/);
      assert.doesNotMatch(dom, /data-pwned="/, 'no injected script ran');
      assert.doesNotMatch(dom, /<img/);
      assert.ok(dom.includes('&lt;img src=x onerror="document.documentElement'), 'shown as text');
      assert.ok(dom.includes('3 further frames are not shown'));
      const empty = path.join(dir, 'empty.html');
      await writeFile(
        empty,
        htmlReport({} as RunResult, undefined, { lines: [], dropped: 0, unreadable: 0, missing: true }),
      );
      const emptyDom = await renderedDom(empty);
      assert.match(emptyDom, /No gates were run/);
      assert.match(emptyDom, /data-ready="1"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
