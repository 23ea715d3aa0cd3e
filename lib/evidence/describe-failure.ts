// The words for a typed failure: the only place they are made. Every reporter and result.json's
// `cause` take them from here; code that decides anything reads the failure's kind, never these words.
import type { CheckResult } from './results.ts';
import type { Failure } from './failure.ts';

/** A value inside a sentence: JSON, kept short. */
function value(v: unknown): string {
  const s = v === undefined ? '(absent)' : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

const COMPARE: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** A matcher as a reader says it: `format uuid`, `absent`, `> 0`, `"stopped"`. */
function matcherWords(m: unknown, depth = 0): string {
  if (m === null || typeof m !== 'object' || Array.isArray(m) || depth > 3) return value(m);
  const parts = Object.entries(m as Record<string, unknown>).map(([k, v]) => {
    if (k === 'format') return `format ${String(v)}`;
    if (k === 'regex') return `matching /${String(v)}/`;
    if (k === 'absent' || k === 'exists') return (k === 'absent') === (v === true) ? 'absent' : 'present';
    if (k === 'type') return Array.isArray(v) ? `a ${v.join(' or ')}` : `a ${String(v)}`;
    if (k === 'oneOf') return `one of ${value(v)}`;
    if (k === 'length') return `length ${matcherWords(v, depth + 1)}`;
    if (k === 'not') return `not ${matcherWords(v, depth + 1)}`;
    if (k === 'equals') return value(v);
    if (k === 'contains') return `containing ${value(v)}`;
    if (k === 'startsWith') return `starting with ${value(v)}`;
    if (k in COMPARE) return `${COMPARE[k]} ${value(v)}`;
    return `${k} ${value(v)}`;
  });
  return parts.join(' and ');
}

const FILE_WORDS: Record<Extract<Failure, { kind: 'file' }>['want'], string> = {
  exists: 'does not exist',
  absent: 'exists',
  changed: 'was not written during the gate',
  unchanged: 'was written during the gate',
  readable: 'cannot be read',
  small: 'is too large to read',
  json: 'is not valid JSON',
  inside: 'is outside the project folder',
  directory: 'is not a readable directory',
};

const GIT_WORDS: Record<Extract<Failure, { kind: 'git' }>['want'], string> = {
  repository: 'the project is not a git repository',
  clean: 'the git working tree is dirty',
  dirty: 'the git working tree is clean',
  status: 'the git status the server claims differs from the real one',
  message: 'the last commit message is not the one expected',
  'head moved': 'HEAD did not move',
  'head unchanged': 'HEAD moved',
};

const SOAK_WORDS: Record<Extract<Failure, { kind: 'soak' }>['detail'], string> = {
  exchanges: 'exchanges failed during the soak',
  connections: 'connections did not last the soak',
  memory: "the server's memory grew beyond its limit during the soak",
};

/** What went wrong, in one line, with no number that differs from one occurrence to the next. */
export function describeFailure(f: Failure): string {
  switch (f.kind) {
    case 'missing':
      // "no error arrived", never "no error": a missing `error` message must not read as good news.
      if (f.ended === 'closed') return `${f.close ?? 'the connection closed'} before ${f.what}`;
      return `no ${f.what} arrived${f.toTime ? ' to time the budget by' : ''}`;
    case 'late':
      return `${f.last} ended the exchange without ${f.what}`;
    case 'order':
      return `${f.then} arrived before ${f.first}`;
    case 'forbidden':
      return f.forMs === undefined ? `${f.what} arrived` : `${f.what} arrived within the ${f.forMs} ms it must not`;
    case 'nonJson':
      return 'a frame that is not JSON arrived';
    case 'field':
      return `${f.field}: expected ${matcherWords(f.expected)}`;
    case 'capture':
      return `nothing to capture into ${f.variable}: no field ${f.path}`;
    case 'count':
      return `fewer than ${f.min} ${f.what}`;
    case 'content':
      return `${f.subject} is not the one expected`;
    case 'budget':
      return 'over its latency budget';
    case 'closed':
      return f.close;
    case 'close':
      if (f.detail === 'code')
        return `closed with ${f.actual === undefined ? 'no code' : value(f.actual)} instead of ${value(f.expected)}`;
      if (f.detail === 'reason') return `close reason ${value(f.actual)} instead of ${value(f.expected)}`;
      return 'the server did not close the connection';
    case 'connect':
      return f.refusal
        ? `a connection to ${f.target} that must be refused opened`
        : `${f.target} could not be reached${f.error ? `: ${f.error}` : ''}`;
    case 'status':
      return `${f.request} answered ${value(f.actual)} instead of ${value(f.expected)}`;
    case 'exit':
      if (f.detail === 'not started') return `${f.command} did not start`;
      if (f.detail === 'timeout') return `${f.command} did not end within its timeout`;
      if (f.detail === 'not ready') return `${f.command} did not get ready`;
      return `${f.command} exited with ${value(f.actual)} instead of ${value(f.expected)}`;
    case 'file':
      return `${f.path} ${FILE_WORDS[f.want] ?? `is not as expected (${f.want})`}`;
    case 'git':
      return GIT_WORDS[f.want] ?? `git: ${f.want}`;
    case 'input':
      return f.what;
    case 'distinct':
      return `${f.variable} is not different on every connection`;
    case 'manual':
      return `a person did not confirm: ${f.question}`;
    case 'soak':
      return SOAK_WORDS[f.detail] ?? `soak: ${f.detail}`;
    case 'model':
      return f.what;
    case 'protocol':
      return `a ${f.direction} ${f.message ?? 'message'} breaks the protocol${f.path ? ` at ${f.path}` : ''} (${f.rule})`;
    default:
      // A result written by another version may hold a kind this one does not know.
      return `failed (${String((f as { kind?: unknown }).kind)})`;
  }
}

/**
 * What a failure is about, beside its kind: failures with the same kind and subject are one defect
 * seen in several places (the summary's "failures by cause" counts them once per gate).
 */
export function failureSubject(f: Failure): string {
  switch (f.kind) {
    case 'missing':
    case 'late':
    case 'count':
    case 'forbidden':
    case 'model':
    case 'input':
      return f.what;
    case 'order':
      return `${f.then} before ${f.first}`;
    case 'field':
      return f.field;
    case 'capture':
    case 'distinct':
      return f.variable;
    case 'content':
      return f.subject;
    case 'budget':
      return '';
    case 'closed':
      return f.close;
    case 'close':
      return f.detail;
    case 'connect':
      return `${f.target}${f.refusal ? ' refusal' : ''}`;
    case 'status':
      return f.request;
    case 'exit':
      return `${f.command} ${f.detail}`;
    case 'file':
      return `${f.path} ${f.want}`;
    case 'git':
      return f.want;
    case 'manual':
      return f.question;
    case 'soak':
      return f.detail;
    case 'protocol':
      return `${f.direction} ${f.message ?? ''} ${f.path} ${f.rule}`;
    default:
      return '';
  }
}

/**
 * Why a failed check failed, for a reporter: the matcher's own reason when it gave one (it names the
 * value: "expected format uuid, got …"), else the failure's words.
 */
export function whyFailed(c: CheckResult): string | undefined {
  return c.reason ?? (c.failure ? describeFailure(c.failure) : c.cause);
}
