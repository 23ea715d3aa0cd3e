// The verify step's YAML form, label and load-time checks (its run code: steps/verify.ts).
import { z } from 'zod';
import { Duration, FieldMatchers, Matcher } from '../../lib/gates/common-schema.ts';
import { defineStepSchema, type LoadProblem } from '../../lib/gates/step-schema.ts';

export const JsonLinesCheck = z
  .strictObject({
    new: z
      .boolean()
      .optional()
      .describe(
        'Judge only the lines appended since the gate began (the bytes there at its start must be unchanged); without count, at least one is required',
      ),
    count: Matcher.optional().describe('Matcher for how many lines are judged (e.g. 1, or {gte: 2})'),
    some: FieldMatchers.optional().describe('At least one line where every field matcher holds'),
    every: FieldMatchers.optional().describe('Every line: each field matcher holds'),
    last: FieldMatchers.optional().describe('The last line: each field matcher holds'),
  })
  // `jsonl: {}` would pass any file that exists (the loader says so with a hint; this is for editors).
  .meta({ minProperties: 1 })
  .describe(
    'JSON Lines: each line parsed as JSON (a line that is not JSON fails, named by its number), then matchers over the lines',
  );

export type JsonLinesInput = z.infer<typeof JsonLinesCheck>;
const JSONL_KEYS = Object.keys(JsonLinesCheck.shape);

export const FileCheck = z.strictObject({
  file: z.string().describe('Path, relative to the project folder'),
  exists: z.boolean().optional().describe('Default true'),
  content: Matcher.optional().describe('Matcher for the whole text'),
  json: FieldMatchers.optional().describe('Field matchers on the parsed JSON content'),
  jsonl: JsonLinesCheck.optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
    .optional()
    .describe('sha256 of the exact bytes, for files that are not small text (binary, large)'),
  changed: z.boolean().optional().describe('Created or modified since the gate began'),
});

export const DirCheck = z.strictObject({
  dir: z.string().describe('Directory, relative to the project folder'),
  listing: z
    .unknown()
    .describe("A server's listing claim (JSON array, object or lines) that must name exactly the real entries"),
  recursive: z.boolean().optional(),
});

export const GitCheck = z
  .strictObject({
    clean: z.boolean().optional(),
    status: z
      .unknown()
      .optional()
      .describe("A server's git status claim: must name every changed path and no unchanged one"),
    lastMessage: Matcher.optional().describe('Matcher for `git log -1` message'),
    headMoved: z.boolean().optional().describe('HEAD differs from the start of the gate'),
  })
  // `git: {}` would pass with no check at all (the loader says so with a hint; this is for editors).
  .meta({ minProperties: 1 });

const GIT_KEYS = Object.keys(GitCheck.shape);
/** What `exists: false` makes verifyFile skip: it returns as soon as the file is absent. */
const FILE_READS = ['content', 'json', 'jsonl', 'sha256', 'changed'] as const;

export const VerifyParams = z.union([FileCheck, DirCheck, z.strictObject({ git: GitCheck })]);

export const verifySchema = defineStepSchema({
  schema: z.strictObject({
    verify: VerifyParams,
    wait: Duration.optional().describe(
      'Keep re-checking (with backoff) up to this long, for servers that write after replying',
    ),
    name: z.string().optional(),
  }),
  labelShowsValues: true,
  label: (p) => {
    const v = p.verify;
    if ('file' in v) return `verify file ${v.file}`;
    if ('dir' in v) return `verify listing of ${v.dir}`;
    return `verify git ${Object.keys(v.git).join(', ')}`;
  },
  loadProblems: (p) => {
    const v = p.verify;
    const out: LoadProblem[] = [];
    if ('git' in v && Object.keys(v.git).length === 0)
      out.push({
        path: ['verify', 'git'],
        atKey: true,
        title: 'verify git: {} checks nothing',
        hint: `give at least one of ${GIT_KEYS.join(', ')} (e.g. \`git: {clean: true}\`)`,
      });
    if ('file' in v && v.jsonl !== undefined && Object.keys(v.jsonl).length === 0)
      out.push({
        path: ['verify', 'jsonl'],
        atKey: true,
        title: 'verify jsonl: {} checks nothing (a file with any lines passes)',
        hint: `give at least one of ${JSONL_KEYS.join(', ')} (e.g. \`jsonl: {new: true}\`: a line appended during the gate)`,
      });
    if ('file' in v && v.exists === false) {
      for (const k of FILE_READS) {
        if (v[k] !== undefined)
          out.push({
            path: ['verify', k],
            atKey: true,
            title: `verify file: ${k} is never checked with exists: false (an absent file has nothing to read)`,
            hint: `remove \`${k}\` (exists: false checks only that the file is absent), or remove \`exists: false\` to check ${k}`,
          });
      }
    }
    return out;
  },
});
