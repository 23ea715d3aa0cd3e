// Manual gate sign-off: a person confirms a gate of a run whose automated checks passed. Sign-offs
// append to a ledger beside gates.yaml (meant to be committed), each tied to the run's evidence digest
// and the digest of the gates file that ran, so `status` can tell stale and tampered records.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { evidenceDigest, verifyEvidence } from './evidence.ts';
import type { GateResult, RunResult } from './results.ts';

export interface SignoffEntry {
  gate: string;
  runId: string;
  date: string;
  tester: string;
  durationMs: number;
  verdict: 'signed-off';
  automated: GateResult['status'];
  manualConfirmed: string[];
  evidenceDigest: string;
  evidenceDir: string;
  gatesDigest: string;
  serverUrl: string;
  notes: string;
}

export type GateState = 'passed' | 'failed' | 'awaiting sign-off' | 'signed off' | 'stale' | 'tampered' | 'not run';

export function sha256Text(text: string | Buffer): string {
  return 'sha256:' + createHash('sha256').update(text).digest('hex');
}

/** `gates.yaml` → `gates.signoff.jsonl` beside it. */
export function ledgerPathFor(gatesFile: string): string {
  const base = path.basename(gatesFile).replace(/\.ya?ml$/i, '');
  return path.join(path.dirname(gatesFile), `${base}.signoff.jsonl`);
}

export function readLedger(file: string): SignoffEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as SignoffEntry];
      } catch {
        return [];
      }
    });
}

export function readRun(runDir: string): RunResult {
  return JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as RunResult;
}

/** Run folders under a runs directory, oldest first (their names start with an ISO time). */
export function listRuns(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .map((n) => path.join(runsDir, n))
    .filter((p) => statSync(p).isDirectory() && existsSync(path.join(p, 'result.json')))
    .sort();
}

export type SignoffOutcome = { ok: true; entry: SignoffEntry; ledger: string } | { ok: false; reason: string };

export function signoff(runDir: string, gateId: string, tester: string, notes: string, now = new Date()): SignoffOutcome {
  if (!existsSync(path.join(runDir, 'result.json'))) return { ok: false, reason: `${runDir} is not a wsgate run folder (no result.json)` };
  const integrity = verifyEvidence(runDir);
  if (!integrity.ok) return { ok: false, reason: `the evidence of this run was changed after it was written: ${integrity.problems.join('; ')}` };
  const run = readRun(runDir);
  const gate = run.gates.find((g) => g.id === gateId);
  if (!gate) return { ok: false, reason: `gate "${gateId}" is not in run ${run.runId} (it ran: ${run.gates.map((g) => g.id).join(', ')})` };
  if (gate.status === 'failed') {
    const step = gate.steps.find((s) => s.status === 'failed');
    return { ok: false, reason: `gate "${gateId}" failed in run ${run.runId}${step ? ` at step "${step.label}"` : ''}: fix it and run the whole gate again before signing off` };
  }
  if (gate.status === 'skipped') return { ok: false, reason: `gate "${gateId}" did not run in run ${run.runId} (skipped)` };
  const resolved = path.join(runDir, 'gates.resolved.yaml');
  const entry: SignoffEntry = {
    gate: gateId,
    runId: run.runId,
    date: now.toISOString(),
    tester,
    durationMs: gate.ms,
    verdict: 'signed-off',
    automated: gate.status,
    manualConfirmed: gate.steps.filter((s) => s.kind === 'manual' && s.status === 'pending').map((s) => s.label),
    evidenceDigest: evidenceDigest(runDir),
    evidenceDir: path.resolve(runDir),
    gatesDigest: sha256Text(readFileSync(resolved)),
    serverUrl: run.url,
    notes,
  };
  const ledger = ledgerPathFor(run.gatesFile);
  appendFileSync(ledger, JSON.stringify(entry) + '\n');
  return { ok: true, entry, ledger };
}

export interface GateStatusRow {
  gate: string;
  title: string;
  state: GateState;
  detail: string;
}

export function gateStates(gatesFile: string, gates: { id: string; title: string }[], runsDir: string): GateStatusRow[] {
  const currentDigest = sha256Text(readFileSync(gatesFile));
  const ledger = readLedger(ledgerPathFor(gatesFile));
  const runs = listRuns(runsDir).map((dir) => ({ dir, run: readRun(dir) })).filter((r) => path.resolve(r.run.gatesFile) === path.resolve(gatesFile));
  return gates.map((g) => {
    const last = [...runs].reverse().find((r) => r.run.gates.some((x) => x.id === g.id && x.status !== 'skipped'));
    const sign = [...ledger].reverse().find((e) => e.gate === g.id);
    const runGate = last?.run.gates.find((x) => x.id === g.id);
    // A run made after the sign-off speaks for the gate now; otherwise the sign-off does.
    const runIsNewer = last !== undefined && (!sign || last.run.startedAt > sign.date);
    if (sign && !runIsNewer) {
      if (!existsSync(path.join(sign.evidenceDir, 'manifest.json')) || evidenceDigest(sign.evidenceDir) !== sign.evidenceDigest || !verifyEvidence(sign.evidenceDir).ok) {
        return { gate: g.id, title: g.title, state: 'tampered', detail: `evidence of run ${sign.runId} no longer matches its digest` };
      }
      if (sign.gatesDigest !== currentDigest) return { gate: g.id, title: g.title, state: 'stale', detail: `gates file changed since ${sign.tester} signed off on ${sign.date.slice(0, 10)}` };
      return { gate: g.id, title: g.title, state: 'signed off', detail: `by ${sign.tester} on ${sign.date.slice(0, 10)}, run ${sign.runId}` };
    }
    if (!last || !runGate) return { gate: g.id, title: g.title, state: 'not run', detail: '' };
    if (runGate.status === 'failed') return { gate: g.id, title: g.title, state: 'failed', detail: `run ${last.run.runId}` };
    if (runGate.status === 'pending') return { gate: g.id, title: g.title, state: 'awaiting sign-off', detail: `run ${last.run.runId}: wsgate signoff ${last.dir} --gate ${g.id} --by NAME` };
    return { gate: g.id, title: g.title, state: 'passed', detail: `run ${last.run.runId}` };
  });
}
