// Reading a gates file from disk before any parsing: a missing file, a folder, a binary or oversized
// file, or text that is not UTF-8 each become one clear error instead of a parser's confusion.
import { readFileSync, statSync } from 'node:fs';
import type { HarnessError } from '../errors.ts';

export const MAX_GATES_BYTES = 2 * 1024 * 1024;

export function readGatesText(file: string): { text: string } | { error: HarnessError } {
  const where = { file, line: 1, col: 1 };
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      error: {
        code: 'GATES_FILE',
        title: code === 'ENOENT' ? `gates file not found: ${file}` : `cannot read gates file ${file} (${code})`,
        hint: 'pass --gates FILE, or run from a folder that has gates.yaml',
        loc: where,
      },
    };
  }
  if (st.isDirectory())
    return {
      error: {
        code: 'GATES_FILE',
        title: `${file} is a directory, not a gates file`,
        hint: 'pass the YAML file itself, e.g. --gates dir/gates.yaml',
        loc: where,
      },
    };
  if (st.size > MAX_GATES_BYTES)
    return {
      error: {
        code: 'GATES_FILE',
        title: `gates file is ${(st.size / 1048576).toFixed(1)} MB; the limit is ${MAX_GATES_BYTES / 1048576} MB`,
        hint: 'split it, or check that this is the right file',
        loc: where,
      },
    };
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    return {
      error: {
        code: 'GATES_FILE',
        title: `cannot read gates file ${file} (${(e as NodeJS.ErrnoException).code})`,
        loc: where,
      },
    };
  }
  const nul = buf.indexOf(0);
  if (nul >= 0)
    return {
      error: {
        code: 'GATES_FILE',
        title: `${file} is a binary file (NUL byte at offset ${nul}), not YAML`,
        loc: where,
      },
    };
  const text = buf.toString('utf8');
  if (text.includes('\uFFFD'))
    return { error: { code: 'GATES_FILE', title: `${file} is not valid UTF-8 text`, loc: where } };
  return { text };
}
