// http: one request with node's client against a real node `http` server: status, JSON matchers,
// body, captures, latency budgets, refused connections and deadlines.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import { spawnChild, stopTree } from '../../lib/os/process.ts';
import { runGatesYaml } from '../helpers/run-gates.ts';
import { closedPort, httpServer, lineOf, oneGate, Recorder } from '../helpers/servers.ts';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A tiny REST server: /health, POST/GET /api/sessions, /slow (answers after 200 ms), /text, /hang. */
async function api(t: TestContext, opts: { unhealthy?: boolean } = {}) {
  const seen = new Recorder<Seen>();
  const sessions = new Map<string, unknown>();
  const h = await httpServer(t, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (req.url === '/health')
        return opts.unhealthy
          ? json(503, { status: 'unhealthy' })
          : json(200, { status: 'healthy', uptime: 0, checks: [{ name: 'db', ok: true }] });
      if (req.url === '/api/sessions' && req.method === 'POST') {
        const id = `s${sessions.size + 1}`;
        sessions.set(id, JSON.parse(body));
        return json(201, { session: { id, ...(JSON.parse(body) as object) } });
      }
      const m = /^\/api\/sessions\/(\w+)$/.exec(req.url!);
      if (m && req.method === 'GET')
        return sessions.has(m[1]!) ? json(200, { session: { id: m[1] } }) : json(404, { error: 'not found' });
      if (req.url === '/slow') return void setTimeout(() => json(200, { ok: true }), 200);
      if (req.url === '/slow1s') return void setTimeout(() => json(200, { ok: true }), 1000);
      if (req.url === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('plain words');
      }
      if (req.url === '/hang') return; // never answers
      json(404, { error: 'no route' });
    });
  });
  // ${HTTP_URL} is derived from the ws URL: same host and port over http.
  return { ...h, wsUrl: h.url.replace('http:', 'ws:') + '/ws', seen };
}

describe('http', { concurrency: true }, () => {
  test('status, json matchers and captures pass on a healthy server; the capture is used later', async (t) => {
    const s = await api(t);
    const yaml = oneGate(`
      - http: GET \${HTTP_URL}/health
        status: 200
        json: {status: healthy, uptime: {equals: 0}, "checks[0].ok": true}
        budget: 2s
      - http: {method: POST, url: "\${HTTP_URL}/api/sessions", json: {projectPath: "\${PROJECT}"}, headers: {X-Test: "1"}}
        status: 201
        capture: {sid: session.id, sessionPath: session.projectPath}
      - http: "\${HTTP_URL}/api/sessions/\${sid}"
        json: {session.id: "\${sid}"}
      - http: GET \${HTTP_URL}/text
        body: {equals: "plain words"}
    `);
    const r = await runGatesYaml(yaml, { url: s.wsUrl });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const post = s.seen.items[1]!;
    assert.equal(post.method, 'POST');
    assert.equal(post.body, JSON.stringify({ projectPath: r.project }));
    assert.equal(post.headers['content-type'], 'application/json');
    assert.equal(post.headers['x-test'], '1');
    assert.equal(s.seen.items[2]!.url, '/api/sessions/s1');
    assert.equal(r.steps[0]!.timings![0]!.passed, true);
  });

  test('\\${ in a URL and a body is a literal ${, as in sends; a plain ${x} next to it is still substituted', async (t) => {
    const s = await api(t);
    const yaml = oneGate(
      `
      - http: {method: POST, url: "\${HTTP_URL}/lit/\\\\\${x}/\${x}", body: 'price \\\${x} is \${x}'}
        status: 404
    `,
      'vars: {x: "7"}\n',
    );
    const r = await runGatesYaml(yaml, { url: s.wsUrl });
    assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    const seen = s.seen.items[0]!;
    assert.equal(decodeURIComponent(seen.url), '/lit/${x}/7');
    assert.equal(seen.body, 'price ${x} is 7');
  });

  test('a wrong status fails at the status line; the default (2xx) at the http line', async (t) => {
    const s = await api(t, { unhealthy: true });
    const yaml = oneGate(`
      - http: GET \${HTTP_URL}/health
        status: 200   # STATUS
    `);
    const r = await runGatesYaml(yaml, { url: s.wsUrl });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks.length, 1);
    assert.equal(r.failedChecks[0]!.actual, 503);
    assert.equal(r.failedChecks[0]!.failure?.kind, 'status');
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# STATUS'));

    const def = oneGate(`
      - http: GET \${HTTP_URL}/api/sessions/nope   # DEFAULT
    `);
    const r2 = await runGatesYaml(def, { url: s.wsUrl });
    assert.equal(r2.result.status, 'failed');
    assert.equal(r2.failedChecks[0]!.actual, 404);
    assert.deepEqual(r2.failedChecks[0]!.expected, { gte: 200, lt: 300 });
    assert.equal(r2.failedChecks[0]!.loc.line, lineOf(def, '# DEFAULT'));
  });

  test('a json mismatch fails at its key; a non-JSON body fails the JSON check', async (t) => {
    const s = await api(t);
    const yaml = oneGate(`
      - http: GET \${HTTP_URL}/health
        json:
          status: healthy
          uptime: {gt: 0}   # UPTIME
      - http: GET \${HTTP_URL}/text
        json: {status: ok}
    `);
    const r = await runGatesYaml(yaml, { url: s.wsUrl });
    assert.equal(r.result.status, 'failed');
    assert.deepEqual(
      r.failedChecks.map((c) => c.name),
      ['response uptime', 'response body is JSON'],
      'the second request runs after the first failed: it needs nothing from it',
    );
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# UPTIME'));

    const text = oneGate(`
      - http: GET \${HTTP_URL}/text
        json: {status: ok}   # NOTJSON
    `);
    const r2 = await runGatesYaml(text, { url: s.wsUrl });
    assert.equal(r2.failedChecks[0]!.name, 'response body is JSON');
    assert.equal(r2.failedChecks[0]!.actual, 'plain words');
    assert.equal(r2.failedChecks[0]!.loc.line, lineOf(text, '# NOTJSON'));
  });

  test('a capture of an absent field fails', async (t) => {
    const s = await api(t);
    const yaml = oneGate(`
      - http: GET \${HTTP_URL}/health
        capture: {token: auth.token}   # CAPTURE
    `);
    const r = await runGatesYaml(yaml, { url: s.wsUrl });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks[0]!.name, 'capture token from auth.token');
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# CAPTURE'));
  });

  describe('budget', { concurrency: true }, () => {
    test('a server that answers after 200 ms fails a 50ms budget', async (t) => {
      const s = await api(t);
      const yaml = oneGate(`
        - http: GET \${HTTP_URL}/slow
          budget: 50ms   # BUDGET
      `);
      const r = await runGatesYaml(yaml, { url: s.wsUrl });
      assert.equal(r.result.status, 'failed');
      assert.equal(r.failedChecks.length, 1);
      assert.equal(r.failedChecks[0]!.name, 'latency within 50 ms');
      assert.deepEqual(r.failedChecks[0]!.failure, { kind: 'budget', budgetMs: 50 });
      assert.ok(Number.parseInt(String(r.failedChecks[0]!.actual), 10) >= 190);
      assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# BUDGET'));
    });

    test('a soft budget passes with a warning', async (t) => {
      const s = await api(t);
      const yaml = oneGate(`
        - http: GET \${HTTP_URL}/slow
          budget: {max: 50ms, soft: true}
      `);
      const r = await runGatesYaml(yaml, { url: s.wsUrl });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
      const w = r.steps[0]!.checks.filter((c) => c.warning);
      assert.equal(w.length, 1);
      assert.equal(w[0]!.name, 'latency within 50 ms (soft)');
    });

    test("the embedded server's CPU wait counts as wsgate's: an http step's stall includes the server process's", async (t) => {
      if (!existsSync(`/proc/${process.pid}/schedstat`)) return t.skip('no /proc/PID/schedstat here');
      const s = await api(t);
      // Four busy processes on one CPU: each waits for it about three quarters of the time. One of them
      // stands for the embedded server (a process of its own), starved while the request is served.
      const hogs = Array.from({ length: 4 }, () =>
        spawnChild('taskset', ['-c', '0', process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' }),
      );
      t.after(() => Promise.all(hogs.map((h) => stopTree(h, 2000))));
      const yaml = oneGate(`
        - http: {method: POST, url: "\${HTTP_URL}/slow1s"}
          budget: 600ms
      `);
      const waitedNs = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
      const harnessBefore = waitedNs(process.pid);
      const r = await runGatesYaml(yaml, { url: s.wsUrl, serverPid: hogs[0]!.pid! });
      const harnessMs = (waitedNs(process.pid) - harnessBefore) / 1e6;
      const stalled = r.steps[0]!.timings?.[0]?.stalledMs ?? 0;
      // The harness alone waited at most harnessMs over the whole run: a step stall above it has the server's in it.
      assert.ok(
        stalled > harnessMs,
        `the step's stall (${stalled} ms) includes the server's, not only the harness's (${Math.round(harnessMs)} ms over the whole run)`,
      );
      const timing = r.steps[0]!.checks.find((c) => c.name.startsWith('latency within 600 ms'));
      assert.ok(timing !== undefined, 'the budget was judged');
    });

    test('a fast server meets its budget', async (t) => {
      const s = await api(t);
      const yaml = oneGate(`
        - http: GET \${HTTP_URL}/health
          budget: 3s
      `);
      const r = await runGatesYaml(yaml, { url: s.wsUrl });
      assert.equal(r.result.status, 'passed', JSON.stringify(r.failedChecks));
    });
  });

  test('a refused connection fails the "answers" check', async () => {
    const port = await closedPort();
    const yaml = oneGate(`
      - http: GET \${HTTP_URL}/health   # REFUSED
    `);
    const r = await runGatesYaml(yaml, { url: `ws://127.0.0.1:${port}/ws` });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks.length, 1);
    assert.match(r.failedChecks[0]!.name, /answers$/);
    assert.match(String(r.failedChecks[0]!.actual), /ECONNREFUSED/);
    assert.equal(r.failedChecks[0]!.loc.line, lineOf(yaml, '# REFUSED'));
  });

  test('no answer within the deadline fails', async (t) => {
    const s = await api(t);
    const yaml = oneGate(`
      - http: GET \${HTTP_URL}/hang
        within: 300ms
    `);
    const r = await runGatesYaml(yaml, { url: s.wsUrl });
    assert.equal(r.result.status, 'failed');
    assert.equal(r.failedChecks[0]!.actual, 'no answer within 300 ms');
    assert.ok(r.steps[0]!.ms < 2000, `${r.steps[0]!.ms} ms`);
  });
});
