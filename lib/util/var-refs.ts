// Where each `${NAME}` reference stands in a text, for substitutions that must treat a value by its
// position (shell quoting, URL encoding). The syntax is lib/util/vars.ts's own; test/shell-quote.test.ts
// checks that both find the same references.
import { UnknownVariable, type Lookup } from './vars.ts';

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}/y;

/** The reference starting exactly at `i`, if one does. */
export function refAt(text: string, i: number): { name: string; end: number } | undefined {
  REF.lastIndex = i;
  const m = REF.exec(text);
  return m ? { name: m[1]!, end: i + m[0].length } : undefined;
}

/**
 * `\${` is a literal `${`, as in lib/util/vars.ts: the text with the backslash of each such escape
 * gone, and the offsets (in that text) of the `${` that are therefore no reference. Escapes are found
 * left to right without overlap, exactly where vars.ts finds them, so every kind of text (a frame, a
 * command line, a URL) reads `\${` the same way.
 */
export function unescapeRefs(raw: string): { text: string; literal: ReadonlySet<number> } {
  const literal = new Set<number>();
  let text = '';
  let at = 0;
  for (let i = raw.indexOf('\\${'); i >= 0; i = raw.indexOf('\\${', i + 3)) {
    text += raw.slice(at, i);
    literal.add(text.length);
    at = i + 1;
  }
  return { text: text + raw.slice(at), literal };
}

/** A variable's value as text, as lib/util/vars.ts interpolates it into a longer string. */
export function valueText(lookup: Lookup, name: string): string {
  const v = lookup(name);
  if (!v.found) throw new UnknownVariable(name);
  return typeof v.value === 'string' ? v.value : (JSON.stringify(v.value) ?? String(v.value));
}

/**
 * An http URL with its references substituted. A reference that starts the URL is inserted as it
 * is: it names the origin (`${HTTP_URL}/health`). Every other value is percent-encoded, so it is one
 * path segment, query value or port and cannot add a `/`, `?`, `#`, `@` or `:` that would move the
 * request to another path, query, user or host than the gates file wrote.
 */
export function substituteUrl(raw: string, lookup: Lookup): string {
  const { text: template, literal } = unescapeRefs(raw);
  let out = '';
  let at = 0;
  for (let i = template.indexOf('${'); i >= 0; i = template.indexOf('${', i + 1)) {
    const r = literal.has(i) ? undefined : refAt(template, i);
    if (!r) continue;
    const text = valueText(lookup, r.name);
    out += template.slice(at, i) + (i === 0 ? text : encodeURIComponent(text));
    at = i = r.end;
    i--;
  }
  return out + template.slice(at);
}
