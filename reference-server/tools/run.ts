import { executeCommandTool } from './exec.ts';
import { listFilesTool, readFileTool, searchFilesTool, writeFileTool } from './files.ts';
import { gitAddTool, gitCommitTool, gitDiffTool, gitLogTool, gitStatusTool } from './git.ts';
import { TOOL_NAMES, ToolError, fail, ok, type ToolContext, type ToolName, type ToolOutcome } from './types.ts';

type ToolImpl = (ctx: ToolContext, input: Record<string, unknown>) => Promise<string>;

const IMPLEMENTATIONS: Record<ToolName, ToolImpl> = {
  read_file: readFileTool,
  write_file: writeFileTool,
  list_files: listFilesTool,
  search_files: searchFilesTool,
  execute_command: executeCommandTool,
  git_status: gitStatusTool,
  git_diff: gitDiffTool,
  git_add: gitAddTool,
  git_commit: gitCommitTool,
  git_log: gitLogTool,
};

export function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

/** Runs one tool honestly; every failure becomes an outcome so a reply can always finish. */
export async function runTool(ctx: ToolContext, tool: string, input: unknown): Promise<ToolOutcome> {
  if (!isToolName(tool)) return fail(`Unknown tool: ${tool}`);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail('Invalid parameters: input must be an object');
  }
  try {
    return ok(await IMPLEMENTATIONS[tool](ctx, input as Record<string, unknown>));
  } catch (error) {
    if (error instanceof ToolError) return fail(error.message);
    return fail(`${tool} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
