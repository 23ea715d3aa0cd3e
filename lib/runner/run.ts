// Runs loaded gates in order: a variable scope and a fresh set of connections per gate, steps in
// order until one fails (the rest of that gate is skipped; --bail skips the rest of the run),
// every connection and started process reaped at the end of its gate or run.
import type { LoadedGate, LoadedGates, LoadedStep } from '../gates/model.ts';
import { STEPS } from '../../steps/index.ts';
import type { StepDefinition } from './step-api.ts';
import type { CheckInput, EvidenceSink, Member, RunSettings, StartedProcess, StepContext } from './context.ts';
import { VarScope, UnknownVariable, refsIn, substitute } from '../util/vars.ts';
import { Kinds } from '../matching/kinds.ts';
import {
  SKIPPED_BY_FLAG,
  gateStatus,
  stepStatus,
  type CheckResult,
  type GateResult,
  type RunResult,
  type StepResult,
  type Timing,
} from '../evidence/results.ts';
import { takeSnapshot } from './snapshot.ts';
import { OUTSIDE_VARS, makeOutside, outsideFrom, removeLinksInto, removeOutside } from './outside.ts';
import {
  WscatConnection,
  wscatArgs,
  type ConnectionErrorCode,
  type ConnectionEvent,
  type Frame,
  type SendMeta,
} from '../wscat/connection.ts';

import { describeClose } from '../matching/exchange.ts';
import type { WscatPool } from '../wscat/pool.ts';
import { stopTree } from '../os/process.ts';
import { budgetOf, parseDuration } from '../gates/duration.ts';
import type { Reporter } from '../reporters/types.ts';
import { bufferReporters, reportNow } from '../reporters/dispatch.ts';
import { EXIT } from '../errors.ts';
import type { Budget } from '../gates/common-schema.ts';
import type { FrameSummary } from '../evidence/results.ts';
import { Secrets } from '../evidence/secrets.ts';
import { describeFailure } from '../evidence/describe-failure.ts';
import type { ProtocolWatch, GateProtocolWatch } from '../protocol/watch.ts';
import type { RunModel } from '../model-api/in-run.ts';

/** Failures that say the target cannot be opened at all (not that one connection was unlucky). */
const DEAD_CODES = new Set<ConnectionErrorCode>(['REFUSED', 'DNS', 'TLS', 'HTTP_STATUS', 'TIMEOUT', 'CLOSED']);

export interface RunOptions {
  gates: LoadedGates;
  url: string;
  project: string;
  runId: string;
  only?: string[];
  /** Gates left out by --skip-gate: reported as skipped, with the reason. */
  skip?: string[];
  bail: boolean;
  timeoutScale: number;
  /** Multiplies every latency budget (a shared or slow machine); default 1. */
  budgetScale?: number;
  /** The server runs in this process (the embedded reference server): its CPU waiting is wsgate's too. */
  /** The embedded server's process: the time it waited for a CPU is the machine's, not the server's. */
  serverPid?: number;
  cliVars: Record<string, string>;
  verbose: boolean;
  interactive: boolean;
  ask?: (q: string) => Promise<string>;
  reporters: Reporter[];
  evidence: EvidenceSink;
  /** Redacts secrets from everything reporters see. */
  secrets?: Secrets;
  /** Pre-opened connections; none = every connect spawns wscat then. */
  pool?: WscatPool;
  /** Gates run at once (default 1). Above 1, gateProject gives each concurrent gate its own folder. */
  parallel?: number;
  gateProject?: (gateId: string) => Promise<string>;
  shard?: Shard;
  /** Validates every frame against the protocol file and counts coverage. */
  protocol?: ProtocolWatch;
  /** The model API stand-in the run hosts: ${MODEL_URL}, the started backends' environment, model steps. */
  model?: RunModel;
  signal: AbortSignal;
  /** The harness's folder outside PATH for escape probes (`${OUTSIDE}`); made by runGates when a gate uses it. */
  outside?: string;
}

export function httpUrlOf(wsUrl: string): string {
  try {
    const u = new URL(wsUrl);
    return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
  } catch {
    return wsUrl;
  }
}

export function baseScope(
  o: Pick<RunOptions, 'gates' | 'url' | 'project' | 'runId' | 'cliVars' | 'model' | 'outside'>,
): VarScope {
  const scope = new VarScope();
  for (const [k, v] of Object.entries(o.cliVars)) scope.set(k, v);
  scope.set('URL', o.url);
  scope.set('HTTP_URL', httpUrlOf(o.url));
  scope.set('PROJECT', o.project);
  scope.set('RUN_ID', o.runId);
  if (o.model) scope.set('MODEL_URL', o.model.url);
  // The folder wsgate was started in: a relative `cwd:` is PATH's, so a backend beside the user is `${CWD}/…`.
  scope.set('CWD', process.cwd());
  if (o.outside !== undefined) {
    scope.set('OUTSIDE', o.outside);
    scope.set('OUTSIDE_REL', outsideFrom(o.project, o.outside));
  }
  // `vars:` values may use other variables (the loader refused unknown names and cycles); a --var of
  // the same name wins over the file's value.
  const fileVars = o.gates.vars;
  const resolving = new Set<string>();
  const resolveVar = (name: string): unknown => {
    if (!Object.hasOwn(fileVars, name) || Object.hasOwn(o.cliVars, name)) return undefined;
    const own = scope.lookup(name);
    if (own.found) return own.value;
    if (resolving.has(name)) throw new UnknownVariable(name);
    resolving.add(name);
    const value = substitute(fileVars[name], (ref) => {
      if (Object.hasOwn(fileVars, ref) && !Object.hasOwn(o.cliVars, ref))
        return { found: true, value: resolveVar(ref) };
      return scope.lookup(ref);
    });
    scope.set(name, value);
    return value;
  };
  for (const name of Object.keys(fileVars)) resolveVar(name);
  return scope;
}

export interface Shard {
  index: number;
  total: number;
}

/** The gates a shard runs: every Nth gate in file order, so every machine computes the same split. */
export function shardGates<T>(gates: T[], shard: Shard | undefined): T[] {
  return shard ? gates.filter((_, i) => i % shard.total === shard.index - 1) : gates;
}

/** Totals, status and exit code of a list of gate results (a run, or merged shards). */
export function summarise(
  gates: GateResult[],
  interrupted: boolean,
): Pick<RunResult, 'status' | 'exitCode' | 'totals'> {
  const checks = gates.flatMap((g) => g.steps.flatMap((s) => s.checks));
  const failed = gates.some((g) => g.status === 'failed');
  const crashed = gates.some((g) => g.steps.some((s) => s.harnessError !== undefined));
  // A gate not checked is no failure of the server: the run's status and exit code ignore it here
  // (--require-checked turns it into exit 4, see applyRunRules).
  return {
    status: interrupted ? 'interrupted' : failed ? 'failed' : 'passed',
    exitCode: interrupted ? EXIT.interrupted : crashed ? EXIT.harness : failed ? EXIT.failed : EXIT.passed,
    totals: {
      gates: gates.length,
      passed: gates.filter((g) => g.status === 'passed').length,
      failed: gates.filter((g) => g.status === 'failed').length,
      pending: gates.filter((g) => g.status === 'pending').length,
      skipped: gates.filter((g) => g.status === 'skipped').length,
      unchecked: gates.filter((g) => g.status === 'unchecked').length,
      checks: checks.length,
      checksFailed: checks.filter((c) => !c.passed).length,
    },
  };
}

export async function runGates(o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const settings: RunSettings = {
    timeoutScale: o.timeoutScale,
    budgetScale: o.budgetScale ?? 1,
    ...(o.serverPid !== undefined ? { serverPid: o.serverPid } : {}),
    defaultTimeoutMs: o.gates.defaults.timeoutMs,
    // A protocol file knows its kinds (JSON-RPC's method/result/error, reply ids) unless the gates file names a field.
    kinds:
      o.gates.defaults.typeField === undefined && o.protocol
        ? o.protocol.protocol.kinds
        : Kinds.byField(o.gates.defaults.typeField ?? 'type'),
    deadTargets: new Map(),
    nonJson: o.gates.defaults.nonJson,
    verbose: o.verbose,
    interactive: o.interactive,
    ...(o.ask ? { ask: o.ask } : {}),
    ...(o.model ? { model: o.model } : {}),
    signal: o.signal,
  };
  const runProcesses: StartedProcess[] = [];
  // Made only when some gate names it, removed at the end of the run whatever a server wrote into it.
  const wantsOutside = [o.gates.vars, ...o.gates.gates.flatMap((g) => g.steps.map((s) => s.params))].some((p) =>
    refsIn(p).some((r) => (OUTSIDE_VARS as readonly string[]).includes(r)),
  );
  const made = o.outside === undefined && wantsOutside ? makeOutside(o.project, o.runId) : undefined;
  if (made !== undefined) o = { ...o, outside: made };
  const chosen = o.only?.length ? o.gates.gates.filter((g) => o.only!.includes(g.id)) : o.gates.gates;
  const selected = shardGates(chosen, o.shard);
  const results = new Map<LoadedGate, GateResult>();
  // Each selected gate's result, awaited by the gates that need it (a needed gate that is not selected,
  // by --gate or --shard, is judged where it runs: it does not hold anything here).
  const finished = new Map<string, { promise: Promise<GateResult>; resolve(r: GateResult): void }>();
  for (const g of selected) {
    let resolve!: (r: GateResult) => void;
    finished.set(g.id, { promise: new Promise<GateResult>((r) => (resolve = r)), resolve });
  }
  let stop = false;
  try {
    const runOne = async (gate: LoadedGate, project: string, reporters: Reporter[]) => {
      let r: GateResult;
      const blocked = await blockedBy(gate, finished);
      if (o.skip?.includes(gate.id)) {
        r = skippedGate(gate, SKIPPED_BY_FLAG);
        reportSkipped(reporters, r);
      } else if (stop || o.signal.aborted)
        r = skippedGate(gate, o.signal.aborted ? 'interrupted' : 'skipped after an earlier failure (--bail)');
      else if (blocked) {
        r = skippedGate(gate, blocked);
        reportSkipped(reporters, r);
      } else {
        try {
          r = await runGate(gate, { ...o, project, reporters }, settings, runProcesses);
        } finally {
          removeLinksInto(project, o.outside);
        }
      }
      results.set(gate, r);
      finished.get(gate.id)!.resolve(r);
      if (r.status === 'failed' && o.bail) stop = true;
    };
    const parallel = Math.max(1, o.parallel ?? 1);
    if (parallel === 1) {
      for (const gate of selected) await runOne(gate, o.project, o.reporters);
    } else {
      // Concurrent gates must not share a project folder and its git repo: each gets a fresh one of
      // its own; `serial: true` gates (and the gates that need one) run afterwards, one at a time, on
      // the real project folder. A gate waits for the gates it needs, which come earlier in the queue.
      const serial = serialClosure(selected);
      const concurrent = selected.filter((g) => !serial.has(g.id));
      const queue = [...concurrent];
      const worker = async () => {
        for (let gate = queue.shift(); gate; gate = queue.shift()) {
          const folder = await o.gateProject!(gate.id);
          // Reporters see each gate as one block, in the order gates finish.
          const buffered = bufferReporters(o.reporters);
          await runOne(gate, folder, buffered.reporters);
          buffered.flush();
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, concurrent.length) }, worker));
      for (const gate of selected.filter((g) => serial.has(g.id))) await runOne(gate, o.project, o.reporters);
    }
    await Promise.all(runProcesses.map((p) => stopTree(p.child)));
  } finally {
    removeLinksInto(o.project, o.outside);
    removeOutside(made);
  }
  const gates = selected.map((g) => results.get(g) ?? skippedGate(g, 'interrupted'));
  return {
    schemaVersion: 1,
    runId: o.runId,
    startedAt,
    ms: Math.round(performance.now() - started),
    url: o.url,
    project: o.project,
    gatesFile: o.gates.file,
    ...summarise(gates, o.signal.aborted),
    gates,
    warnings: [],
    ...(o.shard ? { shard: o.shard } : {}),
    ...(o.protocol ? { coverage: o.protocol.coverage.report() } : {}),
  };
}

/** result.json keeps each failure in words too, for readers that do not know the kinds. */
function withCauses(checks: CheckResult[]): void {
  for (const c of checks) if (!c.passed && c.failure && c.cause === undefined) c.cause = describeFailure(c.failure);
}

/** Checks found after a step ran (protocol violations) join its result and its status. */
function addChecks(result: StepResult, extra: CheckResult[]): void {
  if (!extra.length) return;
  result.checks.push(...extra);
  if (extra.some((c) => !c.passed) && result.status !== 'skipped') result.status = 'failed';
}

/** Why a gate cannot run: a gate it needs (and that runs here) failed on a functional check or was skipped. */
async function blockedBy(
  gate: LoadedGate,
  finished: Map<string, { promise: Promise<GateResult> }>,
): Promise<string | undefined> {
  for (const id of gate.needs) {
    const f = finished.get(id);
    if (!f) continue;
    const r = await f.promise;
    if (r.status === 'skipped') return `needs ${id}, which did not run${r.note ? ` (${r.note})` : ''}`;
    // A gate that failed only on latency budgets still does its job for the gates that need it.
    const functional = r.steps.some((s) => s.checks.some((c) => !c.passed && c.failure?.kind !== 'budget'));
    if (r.status === 'failed' && functional) return `needs ${id}, which failed`;
  }
  return undefined;
}

/** Serial gates and every gate that needs one, directly or not. */
function serialClosure(gates: LoadedGate[]): Set<string> {
  const out = new Set(gates.filter((g) => g.serial).map((g) => g.id));
  for (const g of gates) if (g.needs.some((n) => out.has(n))) out.add(g.id);
  return out;
}

/** A gate that does not run still shows in the live report, with why. */
function reportSkipped(reporters: Reporter[], r: GateResult): void {
  for (const rep of reporters) {
    reportNow([rep], 'onGateStart', { id: r.id, title: r.title });
    reportNow([rep], 'onGateEnd', r);
  }
}

function skippedGate(gate: LoadedGate, why: string): GateResult {
  return {
    id: gate.id,
    title: gate.title,
    status: 'skipped',
    note: why,
    ms: 0,
    loc: gate.loc,
    steps: gate.steps.map((s) => ({
      kind: s.kind,
      label: s.label,
      status: 'skipped',
      checks: [],
      ms: 0,
      loc: s.loc,
      note: why,
    })),
  };
}

/** What the gate's steps want recorded at its start: files to compare later, and whether git HEAD. */
function watched(gate: LoadedGate, scope: VarScope): { files: string[]; head: boolean } {
  const files: string[] = [];
  let head = false;
  for (const s of gate.steps) {
    const def = STEPS[s.kind] as unknown as StepDefinition;
    for (const f of def.watches?.(s.params) ?? []) {
      if (refsIn(f).every((r) => scope.lookup(r).found)) files.push(scope.resolve(f));
    }
    head ||= def.watchesHead?.(s.params) ?? false;
  }
  return { files, head };
}

/** Text with every variable it names that is set here filled in (a label, a title); the rest left as written. */
function fillKnown(text: string, vars: VarScope): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_.]*)\}/g, (whole, name: string) => {
    const r = vars.lookup(name);
    return r.found ? (typeof r.value === 'string' ? r.value : JSON.stringify(r.value)) : whole;
  });
}

/** A step's parameters with every variable that is set filled into their strings (for a label). */
function fillKnownDeep(value: unknown, vars: VarScope, depth = 0): unknown {
  if (typeof value === 'string') return fillKnown(value, vars);
  if (value === null || typeof value !== 'object' || depth > 50) return value;
  if (Array.isArray(value)) return value.map((x) => fillKnownDeep(x, vars, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, fillKnownDeep(x, vars, depth + 1)]));
}

/** Frames no step of the gate consumed, per connection: listed in the evidence (result.json). */
function unconsumedFrames(connections: Map<string, Member[]>): GateResult['unconsumed'] {
  const out: NonNullable<GateResult['unconsumed']> = [];
  for (const m of [...connections.values()].flat()) {
    const left = m.conn.inbox;
    if (!left.length && !m.conn.dropped) continue;
    const frames: FrameSummary[] = left.slice(0, 20).map((f) => ({
      conn: m.label,
      seq: f.seq,
      at: f.at,
      text: f.text.length > 500 ? f.text.slice(0, 500) + '…' : f.text,
    }));
    out.push({ conn: m.label, count: left.length, ...(m.conn.dropped ? { dropped: m.conn.dropped } : {}), frames });
  }
  return out.length ? out : undefined;
}

/**
 * Why a step cannot run, when something it needs is missing: a variable no earlier step set, a
 * connection that never opened, or one whose close an earlier failed check already named. A step whose
 * inputs are all there runs, whatever failed before it: independent defects each get their own check.
 */
function missingInput(
  step: LoadedStep,
  def: StepDefinition,
  vars: VarScope,
  connections: Map<string, Member[]>,
  failedConnects: Map<string, number>,
  earlier: StepResult[],
): { note: string; unchecked?: boolean } | undefined {
  const missing = [...new Set(refsIn(step.params))].find((r) => !vars.lookup(r).found);
  if (missing !== undefined) {
    // Nothing failed before, so nothing of the server's kept the value from being set: it is one that
    // only the user can give (an optional capture found nothing), or one a step that did not run (a model
    // step without a stand-in) would have set. The step is not checked: were it skipped, a gate of passed
    // and skipped steps would count as passed on a premise never established.
    if (!earlier.some((s) => s.status === 'failed'))
      return { note: `not checked: needs \${${missing}} (give --var ${missing}=VALUE)`, unchecked: true };
    return {
      note: `not run: needs \${${missing}}, which no earlier step of this gate set (its capture failed or its step did not run)`,
    };
  }
  if (step.kind === 'connect') return undefined;
  for (const name of def.uses?.(step.params) ?? []) {
    const members = connections.get(name);
    if (!members) {
      const at = failedConnects.get(name);
      // A connect not even tried (its target failed to open in an earlier gate) established nothing:
      // with no failure in this gate, what needs it is not checked, lest the gate pass on its other steps.
      if (at !== undefined && earlier[at]?.status === 'skipped' && !earlier.some((s) => s.status === 'failed'))
        return {
          note: `not checked: connection ${name} was not tried (step ${at + 1}: ${earlier[at]?.note ?? 'skipped'})`,
          unchecked: true,
        };
      if (at !== undefined) return { note: `not run: connection ${name} did not open (step ${at + 1})` };
      continue;
    }
    if (step.kind === 'close') continue; // a close step judges the close itself
    const gone = members.every(
      (m) => m.conn.closed && m.closeReported && (step.kind === 'send' || m.conn.inbox.length === 0),
    );
    if (gone)
      return {
        note: `not run: connection ${name} is closed (${describeClose(members[0]!)}), as an earlier step reported`,
      };
  }
  return undefined;
}

async function runGate(
  gate: LoadedGate,
  o: RunOptions,
  settings: RunSettings,
  runProcesses: StartedProcess[],
): Promise<GateResult> {
  const started = performance.now();
  const secrets = o.secrets ?? new Secrets();
  const watch = o.protocol?.forGate();
  const current = { stepId: `${gate.id}#1` };
  const vars = baseScope(o).child();
  vars.set('GATE_ID', gate.id);
  const title = fillKnown(gate.title, vars);
  reportNow(o.reporters, 'onGateStart', { id: gate.id, title });
  const w = watched(gate, vars);
  const snapshot = await takeSnapshot(o.project, w.files, w.head);
  const connections = new Map<string, Member[]>();
  const failedConnects = new Map<string, number>();
  const gateProcesses: StartedProcess[] = [];
  const disposeAll = () => Promise.all([...connections.values()].flat().map((m) => m.conn.dispose()));
  const onAbort = () => void disposeAll();
  o.signal.addEventListener('abort', onAbort);
  const steps: StepResult[] = [];
  let bailedAt: number | null = null;
  let unconsumed: GateResult['unconsumed'];
  try {
    for (let i = 0; i < gate.steps.length; i++) {
      const step = gate.steps[i]!;
      const def = STEPS[step.kind] as unknown as StepDefinition;
      // A name the author wrote is filled in; a generated label is made from the values the step runs
      // with only where its kind says so (what a send sent, which file a verify read).
      const named = (step.params as { name?: unknown }).name !== undefined;
      const label = named
        ? fillKnown(step.label, vars)
        : def.labelShowsValues
          ? def.label(fillKnownDeep(step.params, vars))
          : step.label;
      const skip = (note: string, status: 'skipped' | 'unchecked' = 'skipped') => {
        const r: StepResult = { kind: step.kind, label, status, checks: [], ms: 0, loc: step.loc, note };
        steps.push(r);
        reportNow(o.reporters, 'onStepEnd', gate.id, secrets.redactDeep(r));
      };
      if (o.signal.aborted) {
        skip('interrupted');
        continue;
      }
      if (bailedAt !== null) {
        skip(`not run: step ${bailedAt + 1} failed (--bail)`);
        continue;
      }
      const missing = missingInput(step, def, vars, connections, failedConnects, steps);
      if (missing) {
        skip(missing.note, missing.unchecked ? 'unchecked' : 'skipped');
        continue;
      }
      current.stepId = `${gate.id}#${i + 1}`;
      const ctx = makeContext({
        gate,
        step,
        index: i,
        o,
        settings,
        vars,
        snapshot,
        connections,
        processes: gateProcesses,
        runProcesses,
        secrets,
        watch,
        current,
        earlier: steps,
      });
      const t0 = performance.now();
      reportNow(o.reporters, 'onStepStart', gate.id, secrets.redact(label));
      let result: StepResult;
      try {
        result = await def.run(step.params, ctx);
      } catch (e) {
        if (e instanceof UnknownVariable) {
          skip(`not run: needs \${${e.variable}}, which no earlier step set for this connection`);
          continue;
        }
        // A crash of wsgate's own code says nothing about the server: no check, and the run exits 3.
        result = ctx.result([], {
          status: 'failed',
          note: 'wsgate itself failed in this step (a bug: please report it with the evidence folder)',
          harnessError: (e as Error).stack ?? String(e),
        });
      }
      result.label = label;
      result.ms = Math.round(performance.now() - t0);
      if (watch) addChecks(result, watch.drain(step.loc));
      withCauses(result.checks);
      if (o.signal.aborted && result.status !== 'passed') {
        // Checks cut short by the interruption say nothing about the server.
        result.status = 'skipped';
        result.note = 'interrupted';
        result.checks = result.checks.filter((c) => c.passed);
        delete result.lastMessages;
      }
      steps.push(result);
      if (result.observations) o.evidence.observe(ctx.stepId, result.label, result.observations);
      const shown = secrets.redactDeep(result);
      reportNow(o.reporters, 'onStepEnd', gate.id, shown);
      if (step.kind === 'connect')
        for (const name of def.uses?.(step.params) ?? [])
          if (!connections.get(name)?.length) failedConnects.set(name, i);
      if (result.status === 'failed' && o.bail) bailedAt = i;
    }
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    unconsumed = unconsumedFrames(connections);
    await disposeAll();
    // Frames that arrived after the last step ended still count against it.
    const last = steps.findLast((s) => s.status !== 'skipped');
    if (watch && last) {
      addChecks(last, watch.drain(last.loc));
      withCauses(last.checks);
    }
    for (const p of gateProcesses) if (p.stopAt !== 'gate') runProcesses.push(p);
    await Promise.all(gateProcesses.filter((p) => p.stopAt === 'gate').map((p) => stopTree(p.child)));
  }
  const result: GateResult = {
    id: gate.id,
    title,
    status: gateStatus(steps),
    steps,
    ms: Math.round(performance.now() - started),
    loc: gate.loc,
    ...(unconsumed ? { unconsumed } : {}),
  };
  if (o.signal.aborted && result.status !== 'failed') result.status = 'skipped';
  const shown = secrets.redactDeep(result);
  reportNow(o.reporters, 'onGateEnd', shown);
  return shown;
}

/** Everything a step's context is built from: one gate's resources at one step. */
interface ContextParts {
  gate: LoadedGate;
  step: LoadedStep;
  index: number;
  o: RunOptions;
  settings: RunSettings;
  vars: VarScope;
  snapshot: Awaited<ReturnType<typeof takeSnapshot>>;
  connections: Map<string, Member[]>;
  processes: StartedProcess[];
  runProcesses: StartedProcess[];
  secrets: Secrets;
  watch: GateProtocolWatch | undefined;
  current: { stepId: string };
  /** The gate's step results so far (a step's premise may rest on them). */
  earlier: StepResult[];
}

function makeContext(parts: ContextParts): StepContext {
  const {
    gate,
    step,
    index,
    o,
    settings,
    vars,
    snapshot,
    connections,
    processes,
    runProcesses,
    secrets,
    watch,
    current,
    earlier,
  } = parts;
  const stepId = `${gate.id}#${index + 1}`;
  const started = performance.now();
  const check = (c: CheckInput): CheckResult => ({
    name: c.name,
    expected: c.expected,
    actual: c.actual,
    passed: c.passed,
    loc: c.loc ?? step.loc,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    ...(c.warning ? { warning: c.warning } : {}),
    ...(!c.passed && c.failure ? { failure: c.failure } : {}),
  });
  return {
    gateId: gate.id,
    stepId,
    stepNumber: index + 1,
    loc: step.loc,
    locOf: step.locOf,
    vars,
    project: o.project,
    url: o.url,
    earlier: [...earlier],
    settings,
    snapshot,
    evidence: o.evidence,
    connections,
    processes,
    startedProcesses: () => [...runProcesses, ...processes],
    secrets,
    progress: (text) => reportNow(o.reporters, 'onStepProgress', gate.id, secrets.redact(text)),
    timeoutMs: (d) =>
      Math.max(1, Math.round((d !== undefined ? parseDuration(d) : settings.defaultTimeoutMs) * settings.timeoutScale)),
    async openConnection(name, label, opts, refusalExpected = false) {
      const hooks = {
        onFrameIn: (f: Frame) => {
          o.evidence.frameIn(label, f, stepIdNow());
          if (watch && f.isJson) watch.received(label, f.json, f.text);
          reportNow(o.reporters, 'onFrame', label, 'in', secrets.redact(f.text));
        },
        onFrameOut: (text: string, at: number, meta: SendMeta) => {
          o.evidence.frameOut(label, text, at, stepIdNow());
          watch?.sent(label, text, meta);
          reportNow(o.reporters, 'onFrame', label, 'out', secrets.redact(text));
        },
        onStderr: (text: string) => o.evidence.stderr(`wscat ${label}`, text),
        onEvent: (ev: ConnectionEvent, at: number) => o.evidence.event(label, ev, at, stepIdNow()),
      };
      // A target that could not be opened at all is judged once: later connects to it are not tried.
      const key = JSON.stringify(wscatArgs(opts));
      const dead = settings.deadTargets.get(key);
      if (dead)
        return {
          ok: false,
          error: {
            code: 'NOT_TRIED',
            message: `not tried: ${opts.url} could not be opened at ${dead.where} (${dead.why})`,
            stderr: '',
            exitCode: null,
            ms: 0,
          },
        };
      const res = o.pool ? await o.pool.acquire(label, opts, hooks) : await WscatConnection.open(label, opts, hooks);
      if (!res.ok) {
        if (DEAD_CODES.has(res.error.code) && !refusalExpected)
          settings.deadTargets.set(key, {
            where: `gate ${gate.id}, step ${index + 1} (${step.label})`,
            why: `${res.error.code}: ${res.error.message}`,
          });
        return res;
      }
      const member: Member = { conn: res.conn, vars: vars.child(), label };
      const list = connections.get(name);
      if (list) {
        // Connecting again under a name replaces that connection (closed or not): the replaced one is
        // ended here, since only connections still listed are disposed at the end of the gate.
        const keep = list.filter((m) => m.conn.isOpen && m.label !== label);
        for (const m of list) if (!keep.includes(m)) void m.conn.dispose();
        connections.set(name, [...keep, member]);
      } else connections.set(name, [member]);
      return { ok: true, member };
    },
    result(checks, extra = {}) {
      return {
        kind: step.kind,
        label: step.label,
        status: extra.status ?? stepStatus(checks),
        checks,
        ms: extra.ms ?? Math.round(performance.now() - started),
        loc: step.loc,
        ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'status' && k !== 'ms')),
      };
    },
    check,
    timing(name, ms, budget, loc, stall) {
      const b = budgetOf(budget as Budget | undefined, settings.budgetScale);
      const waited = stall?.waitedMs ?? 0;
      // Over budget, but no more than wsgate's own processes spent waiting for a CPU meanwhile: the
      // machine, not the server, may have made it late. That is no verdict either way.
      const unmeasurable = b !== undefined && !b.soft && ms > b.ms && ms - waited <= b.ms;
      const timing: Timing = {
        name,
        ms,
        passed: b ? ms <= b.ms || unmeasurable : true,
        ...(b ? { budgetMs: b.ms, soft: b.soft } : {}),
        ...(stall ? { stalledMs: waited } : {}),
        ...(unmeasurable ? { unmeasurable: true } : {}),
      };
      if (!b) return { timing };
      if (unmeasurable) {
        return {
          timing,
          check: check({
            name: `latency within ${b.ms} ms: not measurable`,
            expected: `<= ${b.ms} ms`,
            actual: `${ms} ms, of which wsgate's own processes waited ${waited} ms for a CPU (a busy machine): no verdict`,
            passed: true,
            ...(loc ? { loc } : {}),
            warning: true,
          }),
        };
      }
      const over = ms > b.ms;
      const actual = stall ? `${ms} ms (wsgate waited ${waited} ms for a CPU)` : `${ms} ms`;
      return {
        timing,
        check: check({
          name: `latency within ${b.ms} ms${b.soft ? ' (soft)' : ''}`,
          expected: `<= ${b.ms} ms`,
          actual,
          passed: !over || b.soft,
          ...(loc ? { loc } : {}),
          warning: over && b.soft,
          failure: { kind: 'budget', budgetMs: b.ms },
        }),
      };
    },
  };
  /** Frames are attributed to the step running when they travel, not the one that opened the connection. */
  function stepIdNow() {
    return current.stepId;
  }
}
