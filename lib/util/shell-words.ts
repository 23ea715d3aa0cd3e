// A value as one literal word of sh, in each place a word can stand: bare, inside '...', inside "...".
// Used to substitute values into command lines and to find a secret in the form a command line shows.

export type ShellContext = 'bare' | 'single' | 'double';

/** A value no quoting can pass to a shell (a NUL ends the C string). */
export class UnsafeShellValue extends Error {}

/** `value` quoted for `context`: bare gets its own '...', inside quotes only the characters they give meaning to are escaped. */
export function quoteFor(context: ShellContext, value: string): string {
  if (value.includes('\0')) throw new UnsafeShellValue('a NUL character cannot be passed to a shell');
  if (context === 'bare') return `'${value.replace(/'/g, "'\\''")}'`;
  if (context === 'single') return value.replace(/'/g, "'\\''");
  return value.replace(/[\\"$`]/g, '\\$&');
}
