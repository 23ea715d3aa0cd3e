// The data and log folders hold what the server remembers (sessions.json) and what it saw (logs). Another
// local user who could pre-create them, or plant a symlink inside, could feed it sessions or make it
// append to a file of the victim's (a log line in ~/.bashrc runs at the next shell start). So: folders
// must be ours and not group/other-writable, and no file in them is opened through a symlink.
import fs from 'node:fs';

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

export class PrivateFileError extends Error {}

function ownUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function mode(stat: fs.Stats): string {
  return (stat.mode & 0o777).toString(8).padStart(3, '0');
}

/** Creates the folder (0700) if missing, then refuses one that is a symlink, not ours, or writable by others. */
export function ensurePrivateDir(dir: string, what: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(dir);
  if (stat.isSymbolicLink())
    throw new PrivateFileError(`${what} ${dir} is a symbolic link: refusing it (name the real folder)`);
  if (!stat.isDirectory()) throw new PrivateFileError(`${what} ${dir} is not a directory`);
  const uid = ownUid();
  if (uid !== undefined && stat.uid !== uid) {
    throw new PrivateFileError(`${what} ${dir} belongs to another user (uid ${stat.uid}): refusing it`);
  }
  if ((stat.mode & 0o022) !== 0) {
    throw new PrivateFileError(
      `${what} ${dir} is writable by group or others (mode ${mode(stat)}): run chmod go-w on it or use another folder`,
    );
  }
}

function checkOpened(fd: number, file: string): void {
  const stat = fs.fstatSync(fd);
  const uid = ownUid();
  // A hard link is the other way to make our write land in someone else's file.
  if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || stat.nlink > 1) {
    fs.closeSync(fd);
    throw new PrivateFileError(`${file} is not a private regular file of ours: refusing to use it`);
  }
  if ((stat.mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600);
}

function openNoFollow(file: string, flags: number): number {
  try {
    return fs.openSync(file, flags | O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new PrivateFileError(`${file} is a symbolic link: refusing to follow it`);
    throw error;
  }
}

/** An append-only descriptor on a file of ours (created 0600); never through a symlink. */
export function openPrivateAppend(file: string): number {
  const fd = openNoFollow(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT);
  checkOpened(fd, file);
  return fd;
}

/** The file's text, or undefined when it does not exist; a symlink or someone else's file is an error. */
export function readPrivateFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openNoFollow(file, fs.constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  checkOpened(fd, file);
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replaces the file through a new temp file (O_EXCL: never an existing path, so never a planted link) and
 * a rename, which replaces a link at the destination rather than writing through it.
 */
export function writePrivateFileAtomic(file: string, temp: string, text: string): void {
  const fd = openNoFollow(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL);
  try {
    fs.writeFileSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}
