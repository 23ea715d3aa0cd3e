// Each flag of a command declared once, as data: a table of flags (name, short letter, value name,
// description, how its text becomes a typed value and what it is when absent) from which come
// node:util parseArgs' options, the usage line, the --help lines and the type of the parsed result.
// Adding a flag is one entry in the table; nothing else can forget it.
import { parseArgs } from 'node:util';
import { EXIT, HarnessFailure, didYouMean } from '../errors.ts';

/** Refuses a command line: a usage error (exit 2) with the command's usage line as its hint. */
export type Refuse = (message: string) => HarnessFailure;

/** The Refuse of a command whose usage line (or lines) is `usage`. */
export function usageError(usage: string): Refuse {
  return (message) =>
    new HarnessFailure([{ code: 'USAGE', title: message, hint: usage.replace(/^usage: /, '') }], EXIT.usage);
}

export interface Flag<T> {
  /** The long name, without `--`. */
  readonly name: string;
  readonly short?: string;
  /** The value's name in usage and help (FILE, ID, X); absent for a switch. */
  readonly value?: string;
  readonly repeatable?: boolean;
  /** Shown without brackets in the usage line; see `required`. */
  readonly required?: boolean;
  /** The --help description; a `\n` starts a continuation line. */
  readonly help: string;
  /** What the flag's text (undefined: not given; a list when repeatable; true for a switch) means. */
  readonly read: (raw: string | boolean | string[] | undefined, refuse: Refuse) => T;
}

/** `--name`: true when given. */
export function on(name: string, help: string, opts: { short?: string } = {}): Flag<boolean> {
  return { name, help, ...opts, read: (raw) => raw === true };
}

/** `--no-thing`: false when given (the thing is on by default). */
export function off(name: string, help: string): Flag<boolean> {
  return { name, help, read: (raw) => raw !== true };
}

/** `--name VALUE`, taken as written; an empty value is refused. */
export function text(name: string, value: string, help: string): Flag<string | undefined> {
  return {
    name,
    value,
    help,
    read: (raw, refuse) => {
      if (raw === '') throw refuse(`--${name} needs a value`);
      return raw as string | undefined;
    },
  };
}

/** Reads one value of a flag; `flag` is its `--name`, for the message when it refuses. */
export type Parse<T> = (raw: string, refuse: Refuse, flag: string) => T;

/** `--name VALUE`, turned into a T by `parse` (which refuses what it cannot read); `absent` when not given. */
export function parsed<T>(name: string, value: string, help: string, absent: T, parse: Parse<T>): Flag<T> {
  return {
    name,
    value,
    help,
    read: (raw, refuse) => (raw === undefined ? absent : parse(raw as string, refuse, `--${name}`)),
  };
}

/** `--name VALUE`, repeatable, each value turned into a T by `parse`, in the order given. */
export function list<T = string>(
  name: string,
  value: string,
  help: string,
  parse: Parse<T> = (raw) => raw as T,
): Flag<T[]> {
  return {
    name,
    value,
    help,
    repeatable: true,
    read: (raw, refuse) => ((raw ?? []) as string[]).map((r) => parse(r, refuse, `--${name}`)),
  };
}

/**
 * A flag that must be given with a value that is not blank; `why` is added to the refusal.
 * Read only after --help is answered, so that `--help` alone still works.
 */
export function required<T>(flag: Flag<T>, why?: string): Flag<Exclude<T, undefined>> {
  return {
    ...flag,
    required: true,
    read: (raw, refuse) => {
      if (raw === undefined || (typeof raw === 'string' && !raw.trim()))
        throw refuse(`--${flag.name} ${flag.value} is required${why ? `: ${why}` : ''}`);
      return flag.read(raw, refuse) as Exclude<T, undefined>;
    },
  };
}

/** `-h, --help`, which every command has. */
export const HELP = on('help', 'print this help', { short: 'h' });

export type FlagTable = Record<string, Flag<unknown>>;

/** The typed result of a table: each key holds what its flag's `read` returns. */
export type FlagValues<F extends FlagTable> = { [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

type ParseOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

function parseOptions(flags: FlagTable): ParseOptions {
  const options: ParseOptions = {};
  for (const f of Object.values(flags))
    options[f.name] = {
      type: f.value ? 'string' : 'boolean',
      ...(f.short ? { short: f.short } : {}),
      ...(f.repeatable ? { multiple: true } : {}),
    };
  return options;
}

/** Each flag's text by its long name, as node:util parseArgs gives it. */
export type RawFlags = Record<string, string | boolean | string[] | undefined>;

/** The command line split into flags (still text) and positionals; unknown or malformed flags refused. */
export function splitArgv(flags: FlagTable, argv: string[], refuse: Refuse): { raw: RawFlags; positionals: string[] } {
  const options = parseOptions(flags);
  try {
    const r = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
    return { raw: r.values as RawFlags, positionals: r.positionals };
  } catch (e) {
    throw refuse(explainParseError((e as Error).message, argv, Object.keys(options)));
  }
}

/** Every flag's text read into its typed value, in table order (the first refusal wins). */
export function readFlags<F extends FlagTable>(flags: F, raw: RawFlags, refuse: Refuse): FlagValues<F> {
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(flags)) out[key] = f.read(raw[f.name], refuse);
  return out as FlagValues<F>;
}

/**
 * node:util's parseArgs messages, made one line and in wsgate's words (its "argument is ambiguous"
 * message is three lines and never names the value it refused).
 */
export function explainParseError(message: string, argv: string[], options: string[]): string {
  const first = message.split('\n')[0]!;
  let m = /^Unknown option '(-{1,2})([^']*)'/.exec(first);
  if (m) {
    const guess = m[1] === '--' ? didYouMean(m[2]!, options) : undefined;
    return `unknown option '${m[1]}${m[2]}'${guess ? ` (did you mean --${guess}?)` : ''}`;
  }
  m = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(first);
  if (m) return `${m[1]} needs a value`;
  m = /^Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/.exec(first);
  if (m) {
    const at = argv.indexOf(m[1]!);
    const next = at >= 0 ? argv[at + 1] : undefined;
    return next !== undefined
      ? `${m[1]} needs a value, but the next argument "${next}" starts with "-" (write ${m[1]}=${next} if it is the value)`
      : `${m[1]} needs a value`;
  }
  m = /^Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(first);
  if (m) return `${m[1]} takes no value`;
  return first.replace(/\. To specify a positional argument.*$/s, '');
}

/** `--gate ID... [--gates FILE] [--list]`: the flags part of a usage line. */
export function usageFlags(flags: FlagTable): string {
  return Object.values(flags)
    .map((f) => {
      const shown = `--${f.name}${f.value ? ` ${f.value}` : ''}`;
      return (f.required ? shown : `[${shown}]`) + (f.repeatable ? '...' : '');
    })
    .join(' ');
}

const HELP_INDENT = 2;
const HELP_COLUMN = 22;

/** One help entry: the label, then its description from column 22 (continuation lines aligned under it). */
export function helpEntry(label: string, help: string): string {
  const head = ' '.repeat(HELP_INDENT) + label;
  const [first, ...more] = help.split('\n');
  const pad = head.length < HELP_COLUMN - 1 ? ' '.repeat(HELP_COLUMN - head.length) : '  ';
  return [head + pad + first, ...more.map((l) => ' '.repeat(HELP_COLUMN) + l)].join('\n');
}

/** The --help lines of a table's flags, in table order. */
export function helpLines(flags: FlagTable): string {
  return Object.values(flags)
    .map((f) => helpEntry(`${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ` ${f.value}` : ''}`, f.help))
    .join('\n');
}

/** A command's --help: its usage, what it does, its positionals and flags, then `after` (the exit codes). */
export function helpText(
  usage: string,
  about: string,
  positionals: readonly (readonly [string, string])[],
  flags: FlagTable,
  after: string,
): string {
  const entries = [...positionals.map(([name, help]) => helpEntry(name, help)), helpLines(flags)].join('\n');
  return `${usage}\n\n${about}\n\n${entries}\n\n${after}`;
}
