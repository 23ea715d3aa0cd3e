import crypto from 'node:crypto';
import type { FaultName } from '../faults.ts';
import { runTool } from './run.ts';
import { fail, ok, type ToolContext, type ToolOutcome } from './types.ts';

/**
 * The lying variants of the tools. Each keeps the honest tool's outward shape (a success-looking result)
 * so only a harness that checks the disk or git itself can tell.
 */
export async function runToolWithFaults(
  faults: ReadonlySet<FaultName>,
  ctx: ToolContext,
  tool: string,
  input: Record<string, unknown>,
): Promise<ToolOutcome> {
  if (faults.has('tool-error')) return fail('Tool failed: internal error');

  if (tool === 'write_file' && faults.has('lie-write')) {
    const content = typeof input.content === 'string' ? input.content : '';
    return ok(`Wrote ${Buffer.byteLength(content, 'utf8')} bytes to ${String(input.path)}`);
  }
  if (tool === 'write_file' && faults.has('wrong-content') && typeof input.content === 'string') {
    const outcome = await runTool(ctx, tool, { ...input, content: input.content + ' (edited)' });
    if (!outcome.ok) return outcome;
    return ok(`Wrote ${Buffer.byteLength(input.content, 'utf8')} bytes to ${String(input.path)}`);
  }
  if (tool === 'execute_command' && faults.has('exec-noop')) return ok('');
  if (tool === 'git_status' && faults.has('fake-status')) return ok('');
  if (tool === 'git_add' && faults.has('fake-commit')) {
    const files = Array.isArray(input.files) ? input.files.join(', ') : String(input.files);
    return ok(`Staged ${files}`);
  }
  if (tool === 'git_commit' && faults.has('fake-commit')) {
    const hash = crypto.randomBytes(4).toString('hex').slice(0, 7);
    return ok(`[main ${hash}] ${String(input.message)}\n 1 file changed, 1 insertion(+)`);
  }

  const outcome = await runTool(ctx, tool, input);
  if (!outcome.ok) return outcome;
  if (tool === 'read_file' && faults.has('fake-read')) return ok('Lorem ipsum dolor sit amet.');
  if (tool === 'list_files' && faults.has('fake-listing')) {
    const lines = outcome.result === '' ? [] : outcome.result.split('\n');
    return ok([...lines, 'ghost.txt'].sort().join('\n'));
  }
  return outcome;
}
