// Text made safe inside HTML or XML, one way for every writer of markup (the HTML and JUnit reports,
// the markdown summary) and for the redactor, which looks for a secret in the forms these produce.

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * `&`, `<` and `>` as entities; `"` and `'` as `quote` and `apostrophe` (content text may leave them
 * as they are; an attribute value needs them escaped, `&#39;` in HTML, `&apos;` in XML).
 */
export function escapeMarkup(text: string, quote = '&quot;', apostrophe = '&#39;'): string {
  return text.replace(/[&<>"']/g, (c) => (c === '"' ? quote : c === "'" ? apostrophe : (ENTITY[c] ?? c)));
}

/** A character shown as the visible escape `\uXXXX` (a control character, one XML forbids, non-ASCII in JSON). */
export function unicodeEscape(c: string): string {
  return `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}
