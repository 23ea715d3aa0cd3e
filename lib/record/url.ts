// The URL a session was recorded on, as the written gate connects: `${URL}` is what `wsgate run` is
// given, so a query the session needed (tRPC's `?connectionParams=1`, a tenant) goes into the
// connect step, and a parameter that looks like a secret becomes `${env.NAME}` instead of its value.

const SECRET = /token|secret|passw|pwd|key|auth|sig|session|cookie|credential/i;

export interface ConnectUrl {
  /** The connect step's url (`${URL}?connectionParams=1`); absent when the URL has no query. */
  url?: string;
  /** The URL without its query: what to give `wsgate run` on replay. */
  base: string;
  notes: string[];
}

/** `api_key` → `API_KEY`: the environment variable a secret parameter is read from on replay. */
function envName(param: string): string {
  return (
    param
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^(\d)/, '_$1')
      .toUpperCase() || 'SECRET'
  );
}

/** Headers a session connected with, as the connect step writes them: secret-looking ones as `${env.NAME}`. */
export function connectHeaders(headers: Record<string, string>): { headers: Record<string, string>; notes: string[] } {
  const out: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (SECRET.test(k)) {
      const env = envName(k);
      secrets.push(env);
      out[k] = `\${env.${env}}`;
    } else out[k] = v.replace(/\$\{/g, '\\${');
  }
  return {
    headers: out,
    notes: secrets.length
      ? [`secret-looking headers are read from the environment on replay: set ${secrets.join(', ')}`]
      : [],
  };
}

export function connectUrl(url: string): ConnectUrl {
  const q = url.indexOf('?');
  if (q < 0) return { base: url, notes: [] };
  const hash = url.indexOf('#', q);
  const base = url.slice(0, q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  if (!query) return { base, notes: [] };
  const secrets: string[] = [];
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      /* kept as written */
    }
    if (eq < 0 || !SECRET.test(name)) return pair.replace(/\$\{/g, '\\${');
    const env = envName(name);
    secrets.push(env);
    return `${rawName}=\${env.${env}}`;
  });
  const notes = [`the session's URL query is kept in the connect step: replay with the URL without it (${base})`];
  if (secrets.length)
    notes.push(`secret-looking URL parameters are read from the environment on replay: set ${secrets.join(', ')}`);
  return { url: `\${URL}?${parts.join('&')}`, base, notes };
}
