// Writing a file the user named (a report, a merged result, the sign-off ledger) without writing
// through a symbolic link: a `wsgate-report.html` link planted in a shared folder turned its target
// into the report. A link is refused; a regular file is replaced whole (a temp file renamed over it,
// so a hard link to someone else's file is not written through either).
// node's fs on purpose, not fs-extra: the replacement must be one rename over the old file (fs-extra's
// move with overwrite removes the target first, leaving a moment with no file), and both writes must
// open with O_NOFOLLOW and, for the temp file, O_EXCL, which only an explicit open can ask for.
import { closeSync, constants, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export class SymlinkRefused extends Error {
  constructor(readonly file: string) {
    super(`${file} is a symbolic link; wsgate does not write through links (remove it, or name another file)`);
  }
}

function refuseLink(file: string): void {
  try {
    if (lstatSync(file).isSymbolicLink()) throw new SymlinkRefused(file);
  } catch (e) {
    if (e instanceof SymlinkRefused) throw e;
    // Absent: nothing to refuse.
  }
}

/** Replaces `file` with `text` (creating it), never following a link at `file`. Throws on failure. */
export function writeFileNoFollow(file: string, text: string | Buffer, mode = 0o644): void {
  refuseLink(file);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    const buf = typeof text === 'string' ? Buffer.from(text) : text;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Appends to `file` (creating it), refusing when `file` is a symbolic link. */
export function appendFileNoFollow(file: string, text: string, mode = 0o644): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, mode);
  try {
    const buf = Buffer.from(text);
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
  } finally {
    closeSync(fd);
  }
}
