// Optional authenticity for evidence and sign-offs. A manifest of sha256 hashes shows that evidence
// files are unchanged since the manifest was written (integrity); anyone who edits result.json can
// write a new manifest, so it cannot show who made the run. With a secret key in the file named by
// WSGATE_SIGNING_KEY_FILE, runs sign their manifest and sign-offs sign their ledger line (HMAC-SHA256):
// without the key, a forged run or ledger line no longer verifies.
// The key is never taken from the environment: a process's initial environment stays readable in
// /proc/<pid>/environ whatever the process later deletes, so every process the run starts (a `start:`
// backend, a command of the server under test) could read it from wsgate's, or from the shell's that
// exported it. A file of mode 0600 is read by wsgate alone, once.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { EXIT, HarnessFailure } from '../errors.ts';
import { ownedByOther } from '../os/ownership.ts';

/** Refused: the key itself in the environment. */
export const SIGNING_KEY_ENV = 'WSGATE_SIGNING_KEY';
/** The path of the key file (not a secret). */
export const SIGNING_KEY_FILE_ENV = 'WSGATE_SIGNING_KEY_FILE';
export const SIGNATURE_FILE = 'manifest.sig';

export interface Signature {
  alg: 'HMAC-SHA256';
  /** Which key signed (an HMAC of a fixed text: names the key without revealing it). */
  keyId: string;
  mac: string;
}

let taken: string | undefined;

function refuse(title: string, hint: string): HarnessFailure {
  return new HarnessFailure([{ code: 'USAGE', title, hint }], EXIT.usage);
}

/** The key file's text, refused unless it is a regular file of this user that no one else may read. */
function readKeyFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw refuse(
        `${SIGNING_KEY_FILE_ENV} names a symbolic link: ${file}`,
        'name the key file itself: a link could be re-pointed by whoever owns it',
      );
    throw refuse(
      `cannot read the signing key file ${file} (${code ?? (e as Error).message})`,
      `${SIGNING_KEY_FILE_ENV} must name a readable file`,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw refuse(`the signing key file ${file} is not a regular file`, 'write the key to a file of mode 0600');
    if (ownedByOther(st)) {
      throw refuse(
        `the signing key file ${file} belongs to another user (uid ${st.uid})`,
        'a key another user owns can be read or replaced by them: use a file of your own, mode 0600',
      );
    }
    if ((st.mode & 0o077) !== 0) {
      throw refuse(
        `the signing key file ${file} can be read or written by others (mode ${(st.mode & 0o777).toString(8)})`,
        `chmod 600 ${file}`,
      );
    }
    const key = readFileSync(fd, 'utf8').replace(/\r?\n$/, '');
    if (!key.length)
      throw refuse(
        `the signing key file ${file} is empty`,
        'write a long random secret to it, e.g. openssl rand -hex 32',
      );
    return key;
  } finally {
    closeSync(fd);
  }
}

/**
 * The signing key from the file named by WSGATE_SIGNING_KEY_FILE, read once; undefined when none is
 * set. WSGATE_SIGNING_KEY (the key itself in the environment) is a usage error naming the fix.
 */
export function signingKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env[SIGNING_KEY_ENV] !== undefined) {
    delete env[SIGNING_KEY_ENV];
    throw refuse(
      `${SIGNING_KEY_ENV} holds the signing key in the environment, where every process the run starts can read it (/proc/<pid>/environ of wsgate or of your shell)`,
      `write the key to a file of mode 0600 and set ${SIGNING_KEY_FILE_ENV}=/path/to/it instead (unset ${SIGNING_KEY_ENV})`,
    );
  }
  const file = env[SIGNING_KEY_FILE_ENV];
  if (file?.length && taken === undefined) taken = readKeyFile(file);
  delete env[SIGNING_KEY_FILE_ENV];
  return taken;
}

export function keyId(key: string): string {
  return createHmac('sha256', key).update('wsgate signing key id').digest('hex').slice(0, 16);
}

export function sign(key: string, data: string | Buffer): Signature {
  return { alg: 'HMAC-SHA256', keyId: keyId(key), mac: createHmac('sha256', key).update(data).digest('hex') };
}

export type SignatureCheck = 'valid' | 'missing' | 'invalid';

export function checkSignature(key: string, data: string | Buffer, sig: unknown): SignatureCheck {
  if (sig === undefined || sig === null) return 'missing';
  const s = sig as Partial<Signature>;
  if (s.alg !== 'HMAC-SHA256' || typeof s.mac !== 'string' || !/^[0-9a-f]{64}$/.test(s.mac)) return 'invalid';
  const want = Buffer.from(sign(key, data).mac, 'hex');
  return timingSafeEqual(want, Buffer.from(s.mac, 'hex')) ? 'valid' : 'invalid';
}
