// Manual gate sign-off: a person confirms a gate of a run whose automated checks passed. Sign-offs
// append to a ledger beside gates.yaml (meant to be committed), each tied to the run's evidence digest
// and the digest of the gates file that ran, so `status` can tell stale and tampered records.
// What a digest proves is integrity: the evidence files are unchanged since the manifest was
// written. Anyone able to edit them can also write a new manifest, so only with WSGATE_SIGNING_KEY_FILE
// (lib/evidence/signing.ts) does a record also show that it was made by someone holding the key. The latest
// state of a gate is decided by run start times read from the runs' own evidence, never by the dates
// a ledger line claims.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { evidenceDigest, fileMatchesManifest, MANIFEST, verifyEvidence } from '../evidence/writer.ts';
import type { GateResult, RunResult } from '../evidence/results.ts';
import { checkSignature, sign, SIGNATURE_FILE, type Signature, type SignatureCheck } from '../evidence/signing.ts';
import { appendFileNoFollow } from '../evidence/safe-write.ts';

export interface SignoffEntry {
  gate: string;
  runId: string;
  /** When the sign-off was made (shown to people; never used to order runs). */
  date: string;
  /** When the signed run started, from its result.json. */
  runStartedAt?: string;
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
  /** HMAC of the entry without this field, when WSGATE_SIGNING_KEY_FILE was set. */
  signature?: Signature;
}

export type GateState =
  | 'passed'
  | 'failed'
  | 'awaiting sign-off'
  | 'signed off'
  | 'stale'
  | 'tampered'
  | 'unsigned'
  | 'not checked'
  | 'not run';

/** One line for people: what a sign-off record can and cannot show. */
export function proofNote(key: string | undefined): string {
  return key
    ? 'the evidence digest shows the files are unchanged since the run wrote them, and the HMAC signatures (WSGATE_SIGNING_KEY_FILE) that the run and this record were made by a holder of the key; --by is a name, not an identity'
    : 'the evidence digest shows the files are unchanged since the manifest was written (integrity), not who made the run (authenticity): whoever can edit the evidence can rewrite the manifest; set WSGATE_SIGNING_KEY_FILE to sign runs and sign-offs';
}

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
        const e = JSON.parse(l) as SignoffEntry;
        return e && typeof e === 'object' && typeof e.gate === 'string' ? [e] : [];
      } catch {
        return [];
      }
    });
}

export function readRun(runDir: string): RunResult {
  const run = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as RunResult;
  if (!run || typeof run !== 'object' || !Array.isArray(run.gates) || typeof run.startedAt !== 'string')
    throw new Error('not a wsgate result');
  return run;
}

export interface RunRecord {
  dir: string;
  run: RunResult;
}

/**
 * Every readable run under the runs folders, oldest first by start time. A run whose result.json
 * cannot be read or parsed is skipped with a warning: one broken folder must not hide the others.
 */
export function listRuns(runsDirs: string | string[], warn: (message: string) => void = () => undefined): RunRecord[] {
  const out: RunRecord[] = [];
  for (const runsDir of [runsDirs].flat()) {
    let names: string[];
    try {
      names = readdirSync(runsDir);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      const dir = path.join(runsDir, n);
      try {
        if (!statSync(dir).isDirectory() || !existsSync(path.join(dir, 'result.json'))) continue;
        out.push({ dir, run: readRun(dir) });
      } catch (e) {
        warn(`skipped ${dir}: its result.json cannot be read (${(e as Error).message})`);
      }
    }
  }
  return out.sort((a, b) => (a.run.startedAt < b.run.startedAt ? -1 : a.run.startedAt > b.run.startedAt ? 1 : 0));
}

/** The run's manifest signature, checked against the key. */
export function manifestSignature(dir: string, key: string): SignatureCheck {
  let sig: unknown;
  try {
    sig = JSON.parse(readFileSync(path.join(dir, SIGNATURE_FILE), 'utf8'));
  } catch {
    return existsSync(path.join(dir, SIGNATURE_FILE)) ? 'invalid' : 'missing';
  }
  try {
    return checkSignature(key, readFileSync(path.join(dir, MANIFEST)), sig);
  } catch {
    return 'invalid';
  }
}

function entrySignature(e: SignoffEntry, key: string): SignatureCheck {
  const { signature, ...unsigned } = e;
  return checkSignature(key, JSON.stringify(unsigned), signature);
}

export type SignoffOutcome = { ok: true; entry: SignoffEntry; ledger: string } | { ok: false; reason: string };

export function signoff(
  runDir: string,
  gateId: string,
  tester: string,
  notes: string,
  now = new Date(),
  key?: string,
): SignoffOutcome {
  if (!existsSync(path.join(runDir, 'result.json')))
    return { ok: false, reason: `${runDir} is not a wsgate run folder (no result.json)` };
  const integrity = verifyEvidence(runDir);
  if (!integrity.ok)
    return {
      ok: false,
      reason: `the evidence of this run was changed after it was written: ${integrity.problems.join('; ')}`,
    };
  if (key) {
    const sig = manifestSignature(runDir, key);
    if (sig === 'missing')
      return {
        ok: false,
        reason:
          'this run is not signed (it ran without WSGATE_SIGNING_KEY_FILE); with a key set, only runs signed with it can be signed off',
      };
    if (sig === 'invalid')
      return {
        ok: false,
        reason:
          "the run's manifest signature does not verify with WSGATE_SIGNING_KEY_FILE: its evidence was rewritten after the run, or another key signed it",
      };
  }
  let run: RunResult;
  try {
    run = readRun(runDir);
  } catch (e) {
    return { ok: false, reason: `${runDir}/result.json cannot be read (${(e as Error).message})` };
  }
  const gate = run.gates.find((g) => g.id === gateId);
  if (!gate)
    return {
      ok: false,
      reason: `gate "${gateId}" is not in run ${run.runId} (it ran: ${run.gates.map((g) => g.id).join(', ')})`,
    };
  if (gate.status === 'failed') {
    const step = gate.steps.find((s) => s.status === 'failed');
    return {
      ok: false,
      reason: `gate "${gateId}" failed in run ${run.runId}${step ? ` at step "${step.label}"` : ''}: fix it and run the whole gate again before signing off`,
    };
  }
  if (gate.status === 'skipped')
    return { ok: false, reason: `gate "${gateId}" did not run in run ${run.runId} (skipped)` };
  const resolved = path.join(runDir, 'gates.resolved.yaml');
  const entry: SignoffEntry = {
    gate: gateId,
    runId: run.runId,
    date: now.toISOString(),
    runStartedAt: run.startedAt,
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
  if (key) entry.signature = sign(key, JSON.stringify(entry));
  const ledger = ledgerPathFor(run.gatesFile);
  try {
    appendFileNoFollow(ledger, JSON.stringify(entry) + '\n');
  } catch (e) {
    return {
      ok: false,
      reason: `cannot append to ${ledger} (${(e as NodeJS.ErrnoException).code === 'ELOOP' ? 'it is a symbolic link' : (e as Error).message})`,
    };
  }
  return { ok: true, entry, ledger };
}

export interface GateStatusRow {
  gate: string;
  title: string;
  state: GateState;
  detail: string;
}

interface Candidate {
  rec: RunRecord;
  entry?: SignoffEntry;
}

export function gateStates(
  gatesFile: string,
  gates: { id: string; title: string }[],
  runsDirs: string | string[],
  key?: string,
  warn: (message: string) => void = () => undefined,
): GateStatusRow[] {
  const currentDigest = sha256Text(readFileSync(gatesFile));
  const ledger = readLedger(ledgerPathFor(gatesFile));
  const runs = listRuns(runsDirs, warn).filter(
    (r) => path.resolve(String(r.run.gatesFile)) === path.resolve(gatesFile),
  );
  // The run a sign-off names, read from its own evidence folder (its start time orders it).
  const signedRuns = new Map<string, RunRecord | null>();
  const runOf = (e: SignoffEntry): RunRecord | null => {
    const dir = path.resolve(String(e.evidenceDir));
    if (!signedRuns.has(dir)) {
      let rec: RunRecord | null = runs.find((r) => path.resolve(r.dir) === dir) ?? null;
      if (!rec) {
        try {
          rec = { dir, run: readRun(dir) };
        } catch {
          rec = null;
        }
      }
      signedRuns.set(dir, rec && rec.run.runId === e.runId ? rec : null);
    }
    return signedRuns.get(dir)!;
  };
  return gates.map((g) => {
    const row = (state: GateState, detail: string): GateStatusRow => ({ gate: g.id, title: g.title, state, detail });
    const candidates: Candidate[] = runs
      .filter((r) => r.run.gates.some((x) => x.id === g.id && x.status !== 'skipped'))
      .map((rec) => ({ rec }));
    let orphan: SignoffEntry | undefined;
    for (const e of ledger.filter((x) => x.gate === g.id)) {
      const rec = runOf(e);
      if (!rec) {
        orphan = e;
        continue;
      }
      const c = candidates.find((x) => path.resolve(x.rec.dir) === path.resolve(rec.dir));
      if (c) c.entry = e;
      else candidates.push({ rec, entry: e });
    }
    // Newest by the run's own start time; a ledger line cannot move a run forward.
    const newest = candidates.reduce<Candidate | undefined>(
      (best, c) => (!best || c.rec.run.startedAt >= best.rec.run.startedAt ? c : best),
      undefined,
    );
    if (!newest)
      return orphan
        ? row('tampered', `evidence of run ${orphan.runId} (signed off by ${orphan.tester}) is missing or unreadable`)
        : row('not run', '');
    const { rec, entry } = newest;
    const runId = rec.run.runId;
    if (key) {
      const sig = manifestSignature(rec.dir, key);
      if (sig === 'missing')
        return row(
          'unsigned',
          `run ${runId} was made without WSGATE_SIGNING_KEY_FILE: its result cannot be told from a forged one`,
        );
      if (sig === 'invalid')
        return row('tampered', `the manifest signature of run ${runId} does not verify with WSGATE_SIGNING_KEY_FILE`);
    }
    if (entry) {
      if (key) {
        const sig = entrySignature(entry, key);
        if (sig === 'missing')
          return row(
            'unsigned',
            `the sign-off of run ${runId} by ${entry.tester} is not signed with WSGATE_SIGNING_KEY_FILE`,
          );
        if (sig === 'invalid')
          return row('tampered', `the sign-off of run ${runId} does not verify with WSGATE_SIGNING_KEY_FILE`);
      }
      if (
        !existsSync(path.join(rec.dir, MANIFEST)) ||
        evidenceDigest(rec.dir) !== entry.evidenceDigest ||
        !verifyEvidence(rec.dir).ok
      ) {
        return row('tampered', `evidence of run ${runId} no longer matches its digest`);
      }
      if (entry.gatesDigest !== currentDigest)
        return row(
          'stale',
          `gates file changed since ${entry.tester} signed off on ${String(entry.date).slice(0, 10)}`,
        );
      return row('signed off', `by ${entry.tester} on ${String(entry.date).slice(0, 10)}, run ${runId}`);
    }
    if (!fileMatchesManifest(rec.dir, 'result.json'))
      return row('tampered', `result.json of run ${runId} no longer matches its manifest`);
    const runGate = rec.run.gates.find((x) => x.id === g.id)!;
    if (runGate.status === 'failed') return row('failed', `run ${runId}`);
    if (runGate.status === 'pending')
      return row('awaiting sign-off', `run ${runId}: wsgate signoff ${rec.dir} --gate ${g.id} --by NAME`);
    // A gate whose premise wsgate could not establish is no pass.
    if (runGate.status === 'unchecked')
      return row(
        'not checked',
        `run ${runId}: ${runGate.steps.find((st) => st.status === 'unchecked')?.note ?? 'a premise did not hold'}`,
      );
    return row('passed', `run ${runId}`);
  });
}
