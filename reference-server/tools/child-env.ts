// The environment of every process the tools start: the server's own (CI tokens, cloud keys, when it is
// started from a CI step) must not reach any command a client asks for. Only what a shell and git need
// to work as the user passes. The harness starts its embedded server with this environment too.
const PASSED = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'TMPDIR',
] as const;

const FALLBACK_PATH = '/usr/local/bin:/usr/bin:/bin';

export function minimalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= FALLBACK_PATH;
  return { ...env, ...extra };
}
