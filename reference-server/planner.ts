import type { ToolCall } from './tools/types.ts';

// Every pattern here runs on text a client chose (up to the chat cap), so each must be linear-time: no
// two quantifiers that can both take the same run of characters (`\s+X?\s*`, `(.+?)\s*$`), no unanchored
// pattern whose every start rescans the rest, and no `([\s\S]*)\1` tried once per earlier occurrence.
// test/reference-server/planner.test.ts times the shapes that used to take seconds.

export type Plan =
  | { kind: 'tools'; calls: ToolCall[] }
  /** Reads like an instruction but matches no pattern: the reply says so instead of guessing. */
  | { kind: 'unmapped' }
  | { kind: 'chat' };

// A path is a quoted string or one run of non-blanks.
const PATH = String.raw`("[^"]+"|'[^']+'|[^\s'"]+)`;
const isTrailingPunctuation = (c: string) => '.,!?;:'.includes(c);

/** `text` without the run of matching characters at its end; a loop, because `/[…]+$/` rescans the run from every start. */
export function trimEndOf(text: string, drop: (char: string) => boolean): string {
  let end = text.length;
  while (end > 0 && drop(text[end - 1]!)) end--;
  return text.slice(0, end);
}

function cleanPath(token: string): string {
  const quoted = /^(['"])(.*)\1$/.exec(token);
  if (quoted) return quoted[2]!;
  // "Read notes.txt." ends a sentence; "." and ".." stay paths.
  const stripped = trimEndOf(token, isTrailingPunctuation);
  return /[^.]/.test(stripped) ? stripped : token;
}

function splitFileList(text: string): string[] {
  const tokens = text.match(/"[^"]+"|'[^']+'|[^\s,]+/g) ?? [];
  return tokens.map(cleanPath).filter((t) => t !== '' && !/^(and|the|files?)$/i.test(t));
}

type Rule = (text: string) => ToolCall[] | undefined;

const COMMIT_START = /^(?:please\s+)?(?:git\s+)?commit\b/i;
const WITH_MESSAGE = /\bwith\s+(?:the\s+)?(?:commit\s+)?message\s+(['"])/gi;

/**
 * ``Commit … with message 'M'``: M runs from the first quote after "with message" on the commit's line to
 * the matching quote that ends the text (then only blanks and one . or !). Done in two linear steps: one
 * regex tried at every "with message" would rescan the rest of the text each time.
 */
function commitMessage(t: string): string | undefined {
  const start = COMMIT_START.exec(t);
  if (!start) return undefined;
  let end = t.length;
  if (end > 0 && (t[end - 1] === '.' || t[end - 1] === '!')) end--;
  end = t.slice(0, end).trimEnd().length;
  const closing = t[end - 1];
  if (closing !== "'" && closing !== '"') return undefined;
  const newline = t.indexOf('\n', start[0].length);
  const lineEnd = newline < 0 ? t.length : newline;
  WITH_MESSAGE.lastIndex = start[0].length;
  for (let m = WITH_MESSAGE.exec(t); m && m.index < lineEnd; m = WITH_MESSAGE.exec(t)) {
    const open = m.index + m[0].length;
    if (m[1] === closing && open <= end - 1) return t.slice(open, end - 1);
  }
  return undefined;
}

const rules: Rule[] = [
  // Commit first: "Commit the new file with message 'x'" also contains words other rules react to.
  (t) => {
    const message = commitMessage(t);
    if (message === undefined) return undefined;
    return [
      { tool: 'git_add', input: { files: ['.'] } },
      { tool: 'git_commit', input: { message } },
    ];
  },
  (t) => {
    const m = new RegExp(
      String.raw`^(?:please\s+)?(?:create|make|write)\s+(?:an?\s+|the\s+)?(?:new\s+)?(?:file\s+(?:called\s+|named\s+)?)?${PATH}(?:\s+file)?\s+(?:with|containing)\s+(?:the\s+)?(?:(?:content|text)\s*)?(['"])([\s\S]*)\2\s*[.!]?$`,
      'i',
    ).exec(t);
    // "Create a file with 'x'" names no file; taking "file" as the name would invent one.
    if (!m || /^(?:file|a|an|the|new)$/i.test(cleanPath(m[1]!))) return undefined;
    return [{ tool: 'write_file', input: { path: cleanPath(m[1]!), content: m[3] } }];
  },
  (t) => {
    const m = new RegExp(
      String.raw`^(?:please\s+)?write\s+(['"])([\s\S]*)\1\s+(?:in)?to\s+(?:the\s+)?(?:file\s+)?${PATH}\s*$`,
      'i',
    ).exec(t);
    if (!m) return undefined;
    return [{ tool: 'write_file', input: { path: cleanPath(m[3]!), content: m[2] } }];
  },
  (t) => {
    const m = /^(?:please\s+)?(?:run|execute|exec)\b[^`]*`([^`]+)`\s*[.!]?$/i.exec(t);
    return m ? [{ tool: 'execute_command', input: { command: m[1] } }] : undefined;
  },
  (t) => {
    const m =
      /^(?:git\s+log|show(?:\s+me)?\s+the\s+(?:git\s+)?log|show(?:\s+me)?\s+the\s+(?:last|latest|recent)\s+(\d+)\s+commits?)\b/i.exec(
        t,
      );
    if (!m) return undefined;
    return [{ tool: 'git_log', input: { count: m[1] ? Number(m[1]) : 10 } }];
  },
  (t) => {
    const m = new RegExp(
      String.raw`^(?:git\s+diff|show(?:\s+me)?\s+the\s+(staged\s+)?diff)(\s+--staged|\s+--cached)?(?:\s+(?:(?:of|for)\s+)?${PATH})?\s*$`,
      'i',
    ).exec(t);
    if (!m) return undefined;
    const input: Record<string, unknown> = {};
    if (m[1] || m[2]) input.staged = true;
    if (m[3] && cleanPath(m[3]) !== '') input.file = cleanPath(m[3]);
    return [{ tool: 'git_diff', input }];
  },
  (t) => (/\bgit\s+status\b/i.test(t) ? [{ tool: 'git_status', input: {} }] : undefined),
  (t) => {
    // The text is trimmed: no trailing blanks to leave out of the capture.
    const m = /^(?:please\s+)?(?:stage|git\s+add)\s+(\S.*)$/i.exec(t);
    if (!m) return undefined;
    const all = /^(?:all|everything|\.|all\s+(?:files|changes))[.!]?$/i.test(m[1]!);
    const files = all ? ['.'] : splitFileList(m[1]!);
    return files.length > 0 ? [{ tool: 'git_add', input: { files } }] : undefined;
  },
  (t) => {
    const m = new RegExp(
      String.raw`^(?:please\s+)?(?:list|show(?:\s+me)?)\s+(?:all\s+)?(?:the\s+)?files(\s+recursively)?(?:\s+in\s+(?:the\s+)?(?:folder\s+|directory\s+)?${PATH})?(\s+recursively)?\s*[.!]?$`,
      'i',
    ).exec(t);
    if (!m) return undefined;
    const input: Record<string, unknown> = { path: m[2] ? cleanPath(m[2]) : '.' };
    if (m[1] || m[3]) input.recursive = true;
    return [{ tool: 'list_files', input }];
  },
  (t) => {
    const m = new RegExp(
      String.raw`^(?:please\s+)?(?:search|grep|find)\s+(?:for\s+)?(['"])(.+?)\1(?:\s+in\s+${PATH})?\s*[.!]?$`,
      'i',
    ).exec(t);
    if (!m) return undefined;
    return [{ tool: 'search_files', input: { pattern: m[2], path: m[3] ? cleanPath(m[3]) : '.' } }];
  },
  (t) => {
    const m = new RegExp(
      String.raw`^(?:please\s+)?(?:read|show(?:\s+me)?|cat|open)\s+(?:the\s+)?(?:contents?\s+of\s+)?(?:the\s+)?(?:file\s+)?${PATH}\s*$`,
      'i',
    ).exec(t);
    return m ? [{ tool: 'read_file', input: { path: cleanPath(m[1]!) } }] : undefined;
  },
];

const INSTRUCTION_VERBS =
  /^(?:please\s+)?(?:create|delete|remove|rename|move|copy|write|make|edit|modify|update|run|execute|commit|stage|read|list|search)\b/i;

/** Deterministic stand-in for a model: the same text always yields the same tool calls. */
export function plan(text: string): Plan {
  const trimmed = text.trim();
  for (const rule of rules) {
    const calls = rule(trimmed);
    if (calls) return { kind: 'tools', calls };
  }
  return INSTRUCTION_VERBS.test(trimmed) ? { kind: 'unmapped' } : { kind: 'chat' };
}
