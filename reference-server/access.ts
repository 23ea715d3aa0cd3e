// Who may talk to the server. It runs shell commands and commits on request, so a web page open in the
// developer's browser must not reach it (browsers apply no same-origin rule to WebSockets: cross-site
// WebSocket hijacking; a page can also rebind its own DNS name to 127.0.0.1), and a client from another
// machine only with the token. Clients that send no Origin (wscat, scripts, the harness) are not pages.
import crypto from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';

export interface AccessPolicy {
  /** The port the server listens on: a loopback Host must name it (or no port). */
  port: number;
  /** Extra page origins admitted, normalised with `normalizeOrigin`. */
  allowOrigins: ReadonlySet<string>;
  /** Extra Host names (`name` or `name:port`), lower case. */
  allowHosts: readonly string[];
  /** The server was opened to other machines on purpose: any IP-literal Host is admitted. */
  allowRemote: boolean;
  /** When set, every request must carry it (Authorization: Bearer, or ?token=). */
  token: string | undefined;
}

export interface Refusal {
  status: 401 | 403;
  /** For the log and the response body; never echoes the request beyond a clipped header value. */
  reason: string;
}

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for an address or name that only this machine can reach (the --host value). */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

/** `scheme://host[:port]` in lower case without a default port, or undefined when it is not an http(s) origin. */
export function normalizeOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.origin.toLowerCase();
}

interface HostHeader {
  hostname: string;
  port: number | undefined;
}

// Strict on purpose: a Host such as "evil.example@127.0.0.1" must not be read as loopback by a lenient parser.
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/;

export function parseHostHeader(value: string): HostHeader | undefined {
  const m = HOST_HEADER.exec(value.toLowerCase());
  if (!m) return undefined;
  return { hostname: m[1]!, port: m[2] === undefined ? undefined : Number(m[2]) };
}

function isIpLiteral(hostname: string): boolean {
  return net.isIP(hostname.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

function hostAllowed(header: HostHeader, policy: AccessPolicy): boolean {
  const ownPort = header.port === undefined || header.port === policy.port;
  if (ownPort && LOOPBACK_HOSTNAMES.has(header.hostname)) return true;
  // DNS rebinding always arrives with the attacker's host name; an IP literal cannot be rebound.
  if (ownPort && policy.allowRemote && isIpLiteral(header.hostname)) return true;
  const exact = header.port === undefined ? header.hostname : `${header.hostname}:${header.port}`;
  for (const allowed of policy.allowHosts) {
    if (allowed === exact || (ownPort && allowed === header.hostname)) return true;
  }
  for (const origin of policy.allowOrigins) {
    if (ownPort && new URL(origin).hostname === header.hostname) return true;
  }
  return false;
}

function originAllowed(origin: string, policy: AccessPolicy): boolean {
  const normal = normalizeOrigin(origin);
  if (normal === undefined) return false; // "null" (sandboxed frames, file://) and other schemes are pages too
  if (policy.allowOrigins.has(normal)) return true;
  return LOOPBACK_HOSTNAMES.has(new URL(normal).hostname);
}

function sameSecret(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about the token.
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

function presentedToken(req: http.IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m) return m[1];
  }
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  return query ?? undefined;
}

export const STATE_CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Undefined when the request may proceed. `upgrade` requests and state-changing methods are held to the
 * Origin rule; every request to the Host rule and, when a token is set, to the token.
 */
export function checkAccess(req: http.IncomingMessage, policy: AccessPolicy, upgrade: boolean): Refusal | undefined {
  const host = req.headers.host;
  if (host !== undefined) {
    const parsed = parseHostHeader(host);
    if (!parsed || !hostAllowed(parsed, policy)) {
      return { status: 403, reason: `Host not allowed: ${host} (see --allow-host)` };
    }
  }
  const origin = req.headers.origin;
  if (
    origin !== undefined &&
    (upgrade || STATE_CHANGING_METHODS.has(req.method ?? 'GET')) &&
    !originAllowed(origin, policy)
  ) {
    return { status: 403, reason: `Origin not allowed: ${origin} (see --allow-origin)` };
  }
  if (policy.token !== undefined) {
    const given = presentedToken(req);
    if (given === undefined || !sameSecret(given, policy.token)) {
      return { status: 401, reason: 'Missing or wrong token (Authorization: Bearer TOKEN or ?token=TOKEN)' };
    }
  }
  return undefined;
}

/** The request URL as logged: a `token` query value is replaced, so the logs never hold a working token. */
export function loggableUrl(url: string | undefined): string {
  return (url ?? '').replace(/([?&]token=)[^&#]*/gi, '$1***');
}

export function generateToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}
