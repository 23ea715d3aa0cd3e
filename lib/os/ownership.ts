// Whether a file or folder is this user's alone: for files wsgate finds by itself (a gates file in the
// current folder runs commands; a `.wsgate` folder receives evidence), which another local user could
// have planted in a folder they may write to.
import type { Stats } from 'node:fs';

/** This user's id; -1 where the platform has none (Windows), where ownership is not checked. */
export const uid = (): number => process.getuid?.() ?? -1;
const gid = () => process.getgid?.() ?? -1;

/** Another user owns it (never true where the platform has no user ids). */
export function ownedByOther(st: Pick<Stats, 'uid'>): boolean {
  return uid() >= 0 && st.uid !== uid();
}

/**
 * Others may write it: other-writable, or group-writable by a group that is not this user's own. A
 * folder group-writable by the user's own group (the usual umask 002 with one private group per user)
 * is not shared with anyone.
 */
export function othersMayWrite(st: Stats): boolean {
  if (uid() < 0) return false;
  return (st.mode & 0o002) !== 0 || ((st.mode & 0o020) !== 0 && st.gid !== gid());
}

/** Why `what` is not this user's alone, or undefined when it is. */
export function notOwnProblem(what: string, st: Stats): string | undefined {
  if (uid() < 0) return undefined;
  if (ownedByOther(st)) return `${what} belongs to another user (uid ${st.uid})`;
  if (othersMayWrite(st)) return `${what} can be written by other users (mode ${(st.mode & 0o7777).toString(8)})`;
  return undefined;
}
