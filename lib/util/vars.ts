// ${NAME} substitution. A value that is exactly one reference keeps the variable's type
// (so a captured object stays an object); references inside longer strings are interpolated.
// `\${` is a literal `${` (a frame that says `${env.X}` of its own): the backslash goes, nothing is
// substituted. (`$${` is no escape: a `$` right before a reference is refused in shell contexts.)

/** An escaped `\${`, or a reference: one pass, so a value that holds `\${` is never unescaped. */
const ESCAPE_OR_REF = /\\\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}/g;
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}$/;

export type Lookup = (name: string) => { found: true; value: unknown } | { found: false };

export class UnknownVariable extends Error {
  constructor(readonly variable: string) {
    super(`unknown variable \${${variable}}`);
  }
}

export function refsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    for (const m of value.matchAll(ESCAPE_OR_REF)) if (m[1] !== undefined) out.push(m[1]);
  } else if (Array.isArray(value)) {
    for (const v of value) refsIn(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      refsIn(k, out);
      refsIn(v, out);
    }
  }
  return out;
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function substitute<T>(value: T, lookup: Lookup): T {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) {
      const r = lookup(whole[1]!);
      if (!r.found) throw new UnknownVariable(whole[1]!);
      return r.value as T;
    }
    return value.replace(ESCAPE_OR_REF, (_, name: string | undefined) => {
      if (name === undefined) return '${';
      const r = lookup(name);
      if (!r.found) throw new UnknownVariable(name);
      return asText(r.value);
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, lookup)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[substitute(k, lookup)] = substitute(v, lookup);
    return out as T;
  }
  return value;
}

/** Layered variable scopes: later layers win. `env.NAME` reads the process environment. */
export class VarScope {
  private readonly layers: Map<string, unknown>[];
  constructor(
    layers: Map<string, unknown>[] = [new Map()],
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.layers = layers;
  }

  child(): VarScope {
    return new VarScope([...this.layers, new Map()], this.env);
  }

  set(name: string, value: unknown): void {
    this.layers[this.layers.length - 1]!.set(name, value);
  }

  lookup: Lookup = (name) => {
    if (name.startsWith('env.')) {
      const v = this.env[name.slice(4)];
      return v === undefined ? { found: false } : { found: true, value: v };
    }
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i]!;
      if (layer.has(name)) return { found: true, value: layer.get(name) };
    }
    return { found: false };
  };

  /** A value set in this scope itself, not one it inherits (what one connection captured, not the gate). */
  own(name: string): { found: true; value: unknown } | { found: false } {
    const layer = this.layers[this.layers.length - 1]!;
    return layer.has(name) ? { found: true, value: layer.get(name) } : { found: false };
  }

  resolve<T>(value: T): T {
    return substitute(value, this.lookup);
  }
}

/** A raw send line after substitution, and whether its text claims to be JSON. */
export interface RawLine {
  text: string;
  /** The line, with each reference standing for a plain value, is JSON: so the sent text must be too. */
  claimsJson: boolean;
}

/**
 * Substitutes a raw send line. When the line is JSON (each reference read as a plain value), a value
 * that lands inside a JSON string is JSON-escaped there, so a server's `q"uo\te` cannot break the
 * frame or add members to it; a value outside strings is spliced as its JSON text. A line that is not
 * JSON (malformed on purpose, or a text protocol) is substituted as before.
 */
export function substituteRaw(line: string, lookup: Lookup): RawLine {
  // A line that is one reference claims nothing by itself: the value is what is sent.
  if (WHOLE.test(line)) {
    const v = substitute(line, lookup) as unknown;
    return { text: asText(v), claimsJson: false };
  }
  const refs = [...line.matchAll(ESCAPE_OR_REF)];
  const inString = refs.map((m) => insideJsonString(line, m.index));
  let i = 0;
  const probe = line.replace(ESCAPE_OR_REF, (_m, name: string | undefined) =>
    name === undefined ? (i++, '${') : inString[i++] ? '' : '0',
  );
  const claimsJson = looksLikeJson(probe);
  if (!claimsJson) return { text: substitute(line, lookup), claimsJson };
  i = 0;
  const text = line.replace(ESCAPE_OR_REF, (_, name: string | undefined) => {
    if (name === undefined) return (i++, '${');
    const r = lookup(name);
    if (!r.found) throw new UnknownVariable(name);
    const s = asText(r.value);
    return inString[i++] ? JSON.stringify(s).slice(1, -1) : s;
  });
  return { text, claimsJson };
}

/** Whether offset `at` of `text` lies inside a JSON string literal (after an odd number of unescaped quotes). */
function insideJsonString(text: string, at: number): boolean {
  let inside = false;
  for (let k = 0; k < at; k++) {
    const c = text[k];
    if (inside && c === '\\') k++;
    else if (c === '"') inside = !inside;
  }
  return inside;
}

export function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
