// The serve command line, read with node's own parseArgs. The server keeps this apart from the
// harness's flag table on purpose: the harness tests the server, so the two share no code (a bug in
// shared code could hide in both at once). The output keeps the harness's shape (one usage line,
// help from column 22, "wsgate: message" and a hint on stderr) so the two CLIs read alike.
import { parseArgs } from 'node:util';

/** One option: its long name, value name (absent for a switch), help (a `\n` starts a continuation line). */
export interface Option {
  readonly name: string;
  readonly value?: string;
  readonly short?: string;
  readonly repeatable?: boolean;
  readonly help: string;
}

/** The options of a command, each under a key of its own (the key the parsed value is read by). */
export type OptionTable = Readonly<Record<string, Option>>;

/** A refused command line: the message, shown with the usage line as its hint; exit 2. */
export class UsageError extends Error {}

/** Each option's text by its long name: a string, a list when repeatable, true for a given switch. */
export type OptionText = Record<string, string | boolean | string[] | undefined>;

/** `[--host HOST] [--fault NAME]...`: the options part of a usage line, in table order. */
export function usageOptions(options: OptionTable): string {
  return Object.values(options)
    .map((o) => `[--${o.name}${o.value ? ` ${o.value}` : ''}]${o.repeatable ? '...' : ''}`)
    .join(' ');
}

const HELP_COLUMN = 22;

/** The --help lines: `  -h, --name VALUE` then the description from column 22, continuations aligned. */
export function optionLines(options: OptionTable): string {
  return Object.values(options)
    .map((o) => {
      const head = `  ${o.short ? `-${o.short}, ` : ''}--${o.name}${o.value ? ` ${o.value}` : ''}`;
      const [first, ...more] = o.help.split('\n');
      const gap = head.length < HELP_COLUMN - 1 ? ' '.repeat(HELP_COLUMN - head.length) : '  ';
      return [head + gap + first, ...more.map((line) => ' '.repeat(HELP_COLUMN) + line)].join('\n');
    })
    .join('\n');
}

/** Splits argv into option texts and positionals; an unknown or malformed option is a UsageError. */
export function readOptions(options: OptionTable, argv: string[]): { values: OptionText; positionals: string[] } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of Object.values(options))
    config[o.name] = {
      type: o.value ? 'string' : 'boolean',
      ...(o.short ? { short: o.short } : {}),
      ...(o.repeatable ? { multiple: true } : {}),
    };
  try {
    const { values, positionals } = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
    return { values: values as OptionText, positionals };
  } catch (error) {
    throw new UsageError(refusal((error as Error).message, argv, Object.keys(config)));
  }
}

/** parseArgs' message as one line of ours (its own can be three lines and never names the refused value). */
function refusal(message: string, argv: string[], names: string[]): string {
  const line = message.split('\n')[0] ?? message;
  const unknown = /^Unknown option '(-{1,2})([^']*)'/.exec(line);
  if (unknown) {
    const near = unknown[1] === '--' ? nearest(unknown[2] ?? '', names) : undefined;
    return `unknown option '${unknown[1]}${unknown[2]}'${near ? ` (did you mean --${near}?)` : ''}`;
  }
  const flag = /^Option '(?:-\w, )?(--[\w-]+)/.exec(line)?.[1];
  if (flag && / argument missing/.test(line)) return `${flag} needs a value`;
  if (flag && / does not take an argument/.test(line)) return `${flag} takes no value`;
  if (flag && / argument is ambiguous/.test(line)) {
    const next = argv[argv.indexOf(flag) + 1];
    return next === undefined
      ? `${flag} needs a value`
      : `${flag} needs a value, but the next argument "${next}" starts with "-" (write ${flag}=${next} if it is the value)`;
  }
  return line.replace(/\. To specify a positional argument.*$/s, '');
}

/** The name closest to a mistyped one, when it is near enough to be what was meant. */
function nearest(word: string, names: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = levenshtein(word.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.name : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
