// The connections a run will open, read from a loaded gates file before anything runs: what the wscat
// pool may open ahead. Options are resolved as the connect step resolves them; what only a capture
// can fill, and a connect that must be refused, are left out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadGatesText } from '../lib/gates/load.ts';
import { connectPlan } from '../lib/runner/connect-plan.ts';
import { baseScope } from '../lib/runner/run.ts';

const YAML = `version: 1
vars: {TEAM: qa}
gates:
  - id: g1
    title: one
    steps:
      - connect: main
      - connect: {name: cp, url: "\${URL}/ocpp/\${GATE_ID}", headers: {X-Team: "\${TEAM}"}, subprotocols: [ocpp1.6], count: 3}
      - send: {type: hello}
        on: cp
        expect: [{type: welcome, capture: {sid: sid}}]
      - connect: {name: later, headers: {X-Session: "\${sid}"}}
      - connect: {name: anon, refused: {status: 401}}
  - id: g2
    title: two
    steps:
      - soak: {connections: 4, rounds: 1, steps: [{send: {type: ping}, expect: [{type: pong}]}]}
`;

test('each connect and soak of the gates, resolved; captures and refusals left out', () => {
  const loaded = loadGatesText(YAML, '/tmp/x/gates.yaml', { cliVars: {} });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  const url = 'ws://127.0.0.1:9';
  const scope = baseScope({ gates: loaded.gates, url, project: '/tmp/p', runId: 'r', cliVars: {} });
  const plan = connectPlan(loaded.gates.gates, scope, url, 5000);
  assert.deepEqual(plan, [
    { opts: { url, openTimeoutMs: 5000 }, count: 1 },
    {
      opts: { url: `${url}/ocpp/g1`, openTimeoutMs: 5000, headers: { 'X-Team': 'qa' }, subprotocols: ['ocpp1.6'] },
      count: 3,
    },
    { opts: { url, openTimeoutMs: 5000 }, count: 4 },
  ]);
  assert.deepEqual(connectPlan([], scope, url, 5000), [], 'no gate run: nothing opened ahead');
});
