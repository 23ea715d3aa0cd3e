// The environment of every process the tools start. Embedded in a harness run, the server shares the
// harness's process: its whole environment (CI tokens, cloud keys) would reach any command a client asks
// for. Only what a shell and git need to work as the user passes.
const PASSED = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ', 'TMPDIR'] as const;

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
