// Every way the reference server can be told to misbehave. The harness's self-test walks this registry,
// so a fault that is listed here but not implemented would make that self-test lie.
export const FAULTS = {
  'lie-write': { description: 'write_file reports success but writes nothing' },
  'wrong-content': { description: 'write_file writes the content with " (edited)" appended' },
  'no-tool-events': { description: 'tools run but no tool_execution/tool_result is sent' },
  'no-tool-result': { description: 'tool_execution is sent and the tool runs, but no tool_result follows' },
  'tool-error': { description: 'every tool_result is the error "Tool failed: internal error"; nothing runs' },
  'no-session': { description: 'init_session is ignored: no reply at all' },
  'bad-session-id': { description: 'session ids look like sess-1 instead of UUIDs (resume still works)' },
  'fake-listing': { description: 'list_files adds a line ghost.txt that does not exist' },
  'fake-read': { description: 'read_file returns Lorem ipsum instead of the file content' },
  'exec-noop': { description: 'execute_command returns an empty result without running anything' },
  'fake-commit': { description: 'git_add does nothing and git_commit claims a commit it never made' },
  'fake-status': { description: 'git_status always claims a clean tree (empty string)' },
  'no-complete': { description: 'message_complete is never sent' },
  slow: { description: 'every reply to a client message is delayed by slowMs (default 6000 ms)' },
  'crash-mid-stream': { description: 'a chat reply closes the socket with 1011 after two content_delta' },
  'drop-on-error': { description: 'invalid JSON closes the connection with 1008 instead of an error reply' },
  'no-pong': { description: 'application-level ping messages are ignored' },
  unhealthy: { description: 'GET /health answers 503 {"status":"unhealthy"}' },
  'refuse-after': { description: 'refuse-after=N: upgrades after the first N connections get HTTP 503' },
  leak: { description: 'every message received keeps a 1 MB buffer that is never freed: memory grows per message' },
  garbage: { description: 'a non-JSON text frame follows the welcome and precedes every reply' },
  'pretty-json': { description: 'LEGAL: every frame is pretty-printed, multi-line JSON' },
  chatty: { description: 'LEGAL: extra banner, server_notice and empty content_delta messages' },
} as const;

export type FaultName = keyof typeof FAULTS;

export interface ParsedFaults {
  names: FaultName[];
  /** Only meaningful when names includes 'refuse-after'. */
  refuseAfter: number | undefined;
}

export function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(FAULTS, name);
}

const PARAM_SEPARATOR = /^refuse-after\s*[=:\s]\s*(.*)$/;

function parseCount(text: string): number {
  // A typo such as refuse-after=two must fail loudly: silently refusing at 0 would fake a result.
  if (!/^\d+$/.test(text.trim())) {
    throw new Error(`Fault refuse-after needs a non-negative integer, got "${text}"`);
  }
  return Number(text.trim());
}

/**
 * Accepts names as given on a command line or in options. The refuse-after count may be glued on
 * (refuse-after=3, refuse-after:3, "refuse-after 3") or be the next list item (["refuse-after", "3"]).
 */
export function parseFaults(list: readonly string[]): ParsedFaults {
  const names = new Set<FaultName>();
  let refuseAfter: number | undefined;
  for (let i = 0; i < list.length; i++) {
    const raw = list[i]!.trim();
    if (raw === '') continue;
    const withParam = PARAM_SEPARATOR.exec(raw);
    if (withParam) {
      names.add('refuse-after');
      refuseAfter = parseCount(withParam[1]!);
      continue;
    }
    if (!isFaultName(raw)) {
      throw new Error(`Unknown fault "${raw}". Valid faults: ${Object.keys(FAULTS).join(', ')}`);
    }
    names.add(raw);
    if (raw === 'refuse-after') {
      const next = list[i + 1];
      if (next === undefined || !/^\d+$/.test(next.trim())) {
        throw new Error('Fault refuse-after needs a count: refuse-after=N');
      }
      refuseAfter = parseCount(next);
      i++;
    }
  }
  return { names: [...names], refuseAfter };
}
