// Optional authenticity for evidence and sign-offs. A manifest of sha256 hashes shows that evidence
// files are unchanged since the manifest was written (integrity); anyone who edits result.json can
// write a new manifest, so it cannot show who made the run. With a secret key in WSGATE_SIGNING_KEY,
// runs sign their manifest and sign-offs sign their ledger line (HMAC-SHA256): without the key, a
// forged run or ledger line no longer verifies. The key is taken out of the environment as soon as
// it is read, so no process the run starts (the server under test included) inherits it.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNING_KEY_ENV = 'WSGATE_SIGNING_KEY';
export const SIGNATURE_FILE = 'manifest.sig';

export interface Signature {
  alg: 'HMAC-SHA256';
  /** Which key signed (an HMAC of a fixed text: names the key without revealing it). */
  keyId: string;
  mac: string;
}

let taken: string | undefined;

/** The signing key, read once and removed from process.env; undefined when none is set. */
export function signingKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[SIGNING_KEY_ENV];
  if (v !== undefined) {
    delete env[SIGNING_KEY_ENV];
    if (v.length) taken = v;
  }
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
