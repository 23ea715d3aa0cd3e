// A stand-in started in this process for one test, closed after it; its rules written as a gates
// file's model: section would write them.
import type { TestContext } from 'node:test';
import type { ModelSectionInput } from '../../lib/gates/model-section.ts';
import { scriptOf } from '../../lib/model-api/rules.ts';
import { startModelServer, type ModelServer } from '../../lib/model-api/server.ts';

export async function standIn(t: TestContext, section: ModelSectionInput, logFile?: string): Promise<ModelServer> {
  const server = await startModelServer({ script: scriptOf(section), ...(logFile ? { logFile } : {}) });
  t.after(() => server.close());
  return server;
}

export const WRITE_RULE = {
  name: 'write',
  when: { user: { regex: "Create an? (?<path>\\S+) file with '(?<content>[^']*)'" } },
  text: 'Creating it.',
  call: { tool: 'write_file', input: { path: '$<path>', content: '$<content>' } },
  then: { text: 'Created $<path>.' },
};

export const READ_RULE = {
  name: 'read',
  when: { user: { regex: '^Read (?<path>\\S+)' } },
  call: { tool: 'read_file', input: { path: '$<path>' } },
  then: { text: 'Read it.' },
  requireToolResult: { contains: 'Test content' },
};

/** A long input, so its JSON streams in several pieces. */
export const LONG_CONTENT = 'Test content that is long enough to be split into several partial JSON pieces';

/** Two tools called at once (parallel tool use). */
export const TWO_CALLS_RULE = {
  name: 'two',
  when: { user: { contains: 'both' } },
  call: [
    { tool: 'write_file', input: { path: 'a.txt', content: LONG_CONTENT } },
    { tool: 'read_file', input: { path: 'b.txt' } },
  ],
  then: { text: 'Both done.' },
};
