// Tokens of the servers this process started itself (the embedded reference server), by origin. The
// harness presents a token as an `Authorization: Bearer` header, added by wscat's observer (from
// wscat's environment) and by the http client, so it never appears on a command line: another local
// user can read every process's command line (`ps`), but only the owner can read its environment.

const tokens = new Map<string, string>();

/** `host:port` of a ws/wss/http/https URL, lower case; undefined for anything else. */
export function originKey(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (!/^(wss?|https?):$/.test(u.protocol)) return undefined;
  const port = u.port || (u.protocol === 'wss:' || u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname.toLowerCase()}:${port}`;
}

/** From now on, requests to `url`'s origin carry `token`; the returned function forgets it. */
export function registerServerToken(url: string, token: string): () => void {
  const key = originKey(url);
  if (key === undefined) throw new Error(`not a server URL: ${url}`);
  tokens.set(key, token);
  return () => {
    if (tokens.get(key) === token) tokens.delete(key);
  };
}

export function serverTokenFor(url: string): string | undefined {
  const key = originKey(url);
  return key === undefined ? undefined : tokens.get(key);
}

/** The environment variable wscat's observer reads: `host:port token`. */
export const WSCAT_TOKEN_ENV = 'WSGATE_OBSERVER_TOKEN';
