import { trimEndOf, type Plan } from './planner.ts';
import type { ToolCall, ToolOutcome } from './tools/types.ts';

export const TOOL_PATTERNS_HINT =
  "Create a X file with 'Y', Read X, List files, Search for 'P', Run `cmd`, Git status, Git diff, Stage X, Commit with message 'M', Git log";

export function introText(p: Plan, text: string): string {
  if (p.kind === 'chat') {
    return `You said: "${text.trim()}". No tool needed for that, so here is a plain answer from the reference server.`;
  }
  if (p.kind === 'unmapped') {
    return `I could not map that instruction to a tool. Instructions I understand: ${TOOL_PATTERNS_HINT}.`;
  }
  const tools = p.calls.map((c) => c.tool).join(' then ');
  return `Sure, I will handle that with ${tools}. Working on it now.`;
}

function countLines(text: string): number {
  return text === '' ? 0 : text.replace(/\n$/, '').split('\n').length;
}

function summarize(call: ToolCall, outcome: ToolOutcome): string {
  if (!outcome.ok) return `${call.tool} failed: ${outcome.error}`;
  const r = outcome.result;
  switch (call.tool) {
    case 'write_file':
    case 'git_add':
      return r;
    case 'read_file':
      return `Read ${Buffer.byteLength(r, 'utf8')} bytes from ${String(call.input.path)}`;
    case 'list_files':
      return `Found ${countLines(r)} entries in ${String(call.input.path ?? '.')}`;
    case 'search_files':
      return r === '' ? 'No matches found' : `Found ${countLines(r)} matching lines`;
    case 'execute_command': {
      const exit = /exit code (\S+)$/.exec(r);
      return `Ran \`${String(call.input.command)}\`${exit ? ` (exit code ${exit[1]})` : ''}`;
    }
    case 'git_status':
      return r === '' ? 'The working tree is clean' : `${countLines(r)} paths have changes`;
    case 'git_diff':
      return r === '' ? 'There are no differences' : `The diff has ${countLines(r)} lines`;
    case 'git_commit':
      return `Committed: ${r.split('\n')[0]}`;
    case 'git_log':
      return `Showing ${countLines(r)} commits`;
  }
}

// Summaries quote client text (a command, a path): trimmed by a loop, not by /[.\s]*$/, which rescans.
const isSentenceEnd = (c: string) => c === '.' || /\s/.test(c);

export function closingText(p: Plan, outcomes: Array<[ToolCall, ToolOutcome]>): string {
  if (p.kind !== 'tools') return 'Let me know if you want me to change a file or run a command.';
  return outcomes.map(([call, outcome]) => `${trimEndOf(summarize(call, outcome), isSentenceEnd)}.`).join(' ');
}

/**
 * Cuts text into word-aligned pieces whose concatenation is exactly the text, so a client that joins
 * content_delta values rebuilds the reply byte for byte.
 */
export function splitIntoPieces(text: string, minPieces: number): string[] {
  // Leading blanks join the first word; matching them in the pattern (\s*\S+) would rescan a long blank run.
  const lead = text.length - text.trimStart().length;
  const words = text.slice(lead).match(/\S+\s*/g) ?? [''];
  words[0] = text.slice(0, lead) + words[0];
  const count = Math.max(minPieces, Math.min(words.length, Math.ceil(words.length / 4)));
  const size = Math.max(1, Math.ceil(words.length / count));
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += size) pieces.push(words.slice(i, i + size).join(''));
  return pieces;
}

export function countWords(text: string): number {
  return (text.match(/\S+/g) ?? []).length;
}
