// The server's options and the checks that make an unsafe combination a start-up error (a usage error on
// the command line) rather than a server that quietly listens where it should not.
import { isLoopbackAddress, normalizeOrigin, parseHostHeader } from './access.ts';

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Project folder for sessions that name none; sessions may only be started on it and below. */
  root?: string;
  /** Private folder (ours, not group/other-writable) for sessions.json; default: a fresh mkdtemp folder. */
  dataDir?: string;
  logDir?: string;
  faults?: string[];
  pingIntervalMs?: number;
  /** Delay used by the slow fault. */
  slowMs?: number;
  /** Kill limit for execute_command (30000 unless a test needs a shorter one). */
  execTimeoutMs?: number;
  /** Page origins (`http(s)://host[:port]`) admitted besides loopback ones. */
  allowOrigins?: string[];
  /** Host header names (`name` or `name:port`) admitted besides loopback ones. */
  allowHosts?: string[];
  /** The opt-in a non-loopback host needs; it also makes a token mandatory (generated when not given). */
  allowRemote?: boolean;
  /** Required from every client when set (Authorization: Bearer, or ?token=). */
  token?: string;
  /** The opt-in for sessions on any folder instead of the root and below. */
  allowAnyProject?: boolean;
  /** An embedder's extra rule for project folders (given the real path), on top of the root. */
  allowProject?: (realPath: string) => boolean;
  maxSessions?: number;
  sessionIdleTtlMs?: number;
  /** Chat text above this many UTF-8 bytes is answered with an error (default 64 KiB). */
  maxChatBytes?: number;
  /** Largest WebSocket message accepted; a bigger one closes the connection with 1009 (default 1 MiB). */
  maxPayloadBytes?: number;
  /** Each log file is rotated past this size (default 5 MiB). */
  logMaxBytes?: number;
}

export const DEFAULT_MAX_CHAT_BYTES = 64 * 1024;
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
export const MIN_TOKEN_LENGTH = 16;

/** An option set the server refuses to start with; the CLI turns it into a usage error (exit 2). */
export class ServerConfigError extends Error {}

function positive(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0))
    throw new ServerConfigError(`${name} must be a positive number, got ${value}`);
}

export function validateOptions(opts: ServerOptions): void {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackAddress(host) && !opts.allowRemote) {
    throw new ServerConfigError(
      `--host ${host} would let other machines run commands through this server: add --allow-remote to mean it (a token is then required from every client)`,
    );
  }
  for (const origin of opts.allowOrigins ?? []) {
    if (normalizeOrigin(origin) === undefined)
      throw new ServerConfigError(
        `--allow-origin needs an http(s) origin such as http://app.local:8080, got "${origin}"`,
      );
  }
  for (const name of opts.allowHosts ?? []) {
    if (!parseHostHeader(name))
      throw new ServerConfigError(`--allow-host needs a host name or name:port, got "${name}"`);
  }
  if (opts.token !== undefined && (opts.token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(opts.token))) {
    throw new ServerConfigError(
      `the token must be at least ${MIN_TOKEN_LENGTH} printable ASCII characters without spaces`,
    );
  }
  positive('maxSessions', opts.maxSessions);
  positive('sessionIdleTtlMs', opts.sessionIdleTtlMs);
  positive('maxChatBytes', opts.maxChatBytes);
  positive('maxPayloadBytes', opts.maxPayloadBytes);
  positive('logMaxBytes', opts.logMaxBytes);
}
