// What went wrong in a failed check, as data: a kind and the facts of that kind. Code decides on the
// kind (a gate that failed only on budgets, failures grouped in the summary); the words for people are
// made from it in one place (describe-failure.ts), never parsed back.

export type Failure =
  /**
   * An expected message never came: the wait ran out of time, or the connection closed first. With
   * `toTime`, the message was the end of a budget's span (everything else arrived).
   */
  | { kind: 'missing'; what: string; ended: 'timeout' | 'closed'; close?: string; toTime?: boolean }
  /** The list's last message (`last`) ended the exchange, and `what`, listed before it, never followed. */
  | { kind: 'late'; what: string; last: string }
  /** Both came, in the wrong order: `then` arrived before `first`. */
  | { kind: 'order'; first: string; then: string }
  /** A frame the step forbids (`forbid`, or a `none` for `forMs`) arrived. */
  | { kind: 'forbidden'; what: string; forMs?: number }
  | { kind: 'nonJson' }
  /** A field of a message, response or file does not hold its matcher (`field` is the whole path). */
  | { kind: 'field'; field: string; expected: unknown }
  | { kind: 'capture'; variable: string; path: string }
  /** Fewer pieces were collected than the minimum. */
  | { kind: 'count'; what: string; min: number }
  /** A text (file content, body, output, collected text, listing) differs from the one expected. */
  | { kind: 'content'; subject: string }
  /** Over a latency budget (a gate that failed only on budgets still serves the gates that need it). */
  | { kind: 'budget'; budgetMs: number }
  /** The connection was closed (or lost) where the step needed it open. */
  | { kind: 'closed'; conn: string; close: string }
  /** A close the step asked for did not happen as asked. */
  | { kind: 'close'; detail: 'not closed' | 'code' | 'reason'; expected?: unknown; actual?: unknown }
  /** A connection or request could not be made, or (`refusal`) one that must be refused was accepted. */
  | { kind: 'connect'; target: string; error?: string; refusal?: boolean }
  | { kind: 'status'; request: string; expected: unknown; actual: unknown }
  /** A command or backend: did not start, did not end in time, did not get ready, or exited otherwise. */
  | {
      kind: 'exit';
      command: string;
      detail: 'exit code' | 'not started' | 'timeout' | 'not ready';
      expected?: unknown;
      actual?: unknown;
    }
  /** A file or folder is not as asked: present/absent, changed or not, readable, inside the project. */
  | {
      kind: 'file';
      path: string;
      want: 'exists' | 'absent' | 'changed' | 'unchanged' | 'readable' | 'small' | 'json' | 'inside' | 'directory';
    }
  | { kind: 'git'; want: 'repository' | 'clean' | 'dirty' | 'status' | 'message' | 'head moved' | 'head unchanged' }
  /** A value the step was given cannot be used as written (a command line, a duration, a missing file). */
  | { kind: 'input'; what: string }
  | { kind: 'distinct'; variable: string }
  | { kind: 'manual'; question: string }
  /** A soak's rounds: `exchanges` failed, `connections` cut, or `memory` grew. */
  | { kind: 'soak'; detail: 'exchanges' | 'connections' | 'memory' }
  /** A check on what the backend sent the model stand-in. */
  | { kind: 'model'; what: string }
  /** A frame breaks the protocol file: `message` is its kind, `path` the field, `rule` the schema keyword. */
  | { kind: 'protocol'; direction: 'sent' | 'received'; message?: string; path: string; rule: string };

export type FailureKind = Failure['kind'];
