// Which default gate and step must catch each fault of the reference server.
// docs/agent-backend.md carries the same table; test/fault-matrix.test.ts checks both.

/**
 * A fault the default gates are not meant to catch: `gatesFile` names where its catcher lives and
 * `pending` says why the matrix does not run it yet. It still needs its README row, so it cannot be
 * forgotten, and the matrix reports it as skipped, never as caught.
 */
export interface ElsewhereRow {
  gate: string;
  step: string;
  gatesFile: string;
  pending: string;
}

export const FAULT_MATRIX: Record<string, { gate: string; step: string } | ElsewhereRow | 'passes'> = {
  'lie-write': { gate: 'write-file', step: "test.txt holds exactly 'Test content', written in this gate" },
  'wrong-content': { gate: 'write-file', step: "test.txt holds exactly 'Test content', written in this gate" },
  'no-tool-events': {
    gate: 'write-file',
    step: 'write_file: tool_execution, tool_result without error, message_complete',
  },
  'no-tool-result': {
    gate: 'write-file',
    step: 'write_file: tool_execution, tool_result without error, message_complete',
  },
  'tool-error': { gate: 'write-file', step: 'write_file: tool_execution, tool_result without error, message_complete' },
  'no-session': { gate: 'session-init', step: 'send init_session' },
  'bad-session-id': { gate: 'session-init', step: 'send init_session' },
  'fake-listing': { gate: 'list-files', step: 'verify listing of .' },
  'fake-read': { gate: 'read-file', step: "read_file returns the file's content" },
  'exec-noop': { gate: 'execute-command', step: 'verify file wsgate-exec.txt' },
  'fake-commit': { gate: 'git-commit', step: 'verify git lastMessage, headMoved' },
  'fake-status': { gate: 'git-status', step: 'verify git status' },
  'no-complete': { gate: 'chat-stream', step: 'expect content_delta pieces, message_complete' },
  slow: { gate: 'session-init', step: 'send init_session' },
  'crash-mid-stream': { gate: 'chat-stream', step: 'expect content_delta pieces, message_complete' },
  'drop-on-error': { gate: 'error-recovery', step: 'send raw "{this is not json"' },
  'no-pong': { gate: 'ping', step: 'send ping' },
  unhealthy: { gate: 'health', step: 'http GET ${HTTP_URL}/health' },
  'refuse-after': { gate: 'write-file', step: 'connect main' },
  garbage: { gate: 'session-init', step: 'send init_session' },
  leak: {
    gate: 'soak',
    step: 'memory growth',
    gatesFile: 'examples',
    pending:
      'the soak memory check catches it (gate memory-under-stress in examples/ci-gates.yaml; test/steps/soak.test.ts runs it against --fault leak); the default gates are too short to see memory grow',
  },
  'pretty-json': 'passes',
  chatty: 'passes',
};

/** How the matrix starts a fault that takes a parameter. */
export const FAULT_ARGS: Record<string, string> = { 'refuse-after': 'refuse-after=3' };

/**
 * Extra CLI options per fault. Which gate meets refuse-after depends on how many connections were
 * opened before it, and pre-opened spares shift that count with timing: count them exactly.
 */
export const FAULT_CLI: Record<string, string[]> = { 'refuse-after': ['--no-pool'] };
