export const TOOL_NAMES = [
  'read_file',
  'write_file',
  'list_files',
  'search_files',
  'execute_command',
  'git_status',
  'git_diff',
  'git_add',
  'git_commit',
  'git_log',
] as const;

export type ToolName = (typeof TOOL_NAMES)[number];

export interface ToolCall {
  tool: ToolName;
  input: Record<string, unknown>;
}

export type ToolOutcome = { ok: true; result: string } | { ok: false; error: string };

export interface ToolContext {
  projectPath: string;
  execTimeoutMs: number;
  /** Lets the server kill commands still running when it closes. */
  onChildStart?: (kill: () => void) => () => void;
}

/** Thrown inside tools for failures whose message is meant for the client as-is. */
export class ToolError extends Error {}

export function ok(result: string): ToolOutcome {
  return { ok: true, result };
}

export function fail(error: string): ToolOutcome {
  return { ok: false, error };
}

export function stringParam(input: Record<string, unknown>, name: string, fallback?: string): string {
  const value = input[name];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new ToolError(`Missing parameter: ${name}`);
  }
  if (typeof value !== 'string') throw new ToolError(`Invalid parameter: ${name} must be a string`);
  if (value === '' && fallback === undefined) throw new ToolError(`Missing parameter: ${name}`);
  return value === '' ? (fallback as string) : value;
}
