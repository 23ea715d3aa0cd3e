import { spawn } from 'node:child_process';
import { minimalEnv } from './child-env.ts';
import { ToolError, stringParam, type ToolContext } from './types.ts';

const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Runs `sh -c` in its own process group so a timeout can kill everything the command started, not only
 * the shell; stdout and stderr are interleaved in arrival order, as a terminal would show them.
 */
export function executeCommandTool(ctx: ToolContext, input: Record<string, unknown>): Promise<string> {
  const command = stringParam(input, 'command');
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd: ctx.projectPath,
      env: minimalEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let timedOut = false;
    let settled = false;

    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const untrack = ctx.onChildStart?.(killGroup) ?? (() => {});
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, ctx.execTimeoutMs);

    const collect = (chunk: Buffer) => {
      if (size >= MAX_OUTPUT_BYTES) {
        truncated = true;
        return;
      }
      const room = MAX_OUTPUT_BYTES - size;
      if (chunk.length > room) truncated = true;
      const kept = chunk.subarray(0, room);
      chunks.push(kept);
      size += kept.length;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);

    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      untrack();
      outcome();
    };
    child.on('error', (error) => finish(() => reject(new ToolError(`Could not run command: ${error.message}`))));
    child.on('close', (code, signal) =>
      finish(() => {
        let output = Buffer.concat(chunks).toString('utf8');
        if (truncated) output += '\n[output truncated at 1 MB]';
        if (timedOut) {
          reject(new ToolError(`Command timed out after ${ctx.execTimeoutMs} ms\n${output}`.trimEnd()));
          return;
        }
        const status = code ?? (signal ? `signal ${signal}` : 'unknown');
        if (code !== 0) output += `${output === '' || output.endsWith('\n') ? '' : '\n'}exit code ${status}`;
        resolve(output);
      }),
    );
  });
}
