// Local `$ref`s of a protocol file: JSON pointers as path segments, and following a chain of refs to
// the object it names while remembering where that object lives (for FILE:LINE:COL and for ajv).
export type Segment = string | number;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** "/a/b~1c/0" → ['a', 'b/c', '0']. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function segmentsToFragment(p: Segment[]): string {
  return '#' + p.map((s) => '/' + encodeURIComponent(String(s).replace(/~/g, '~0').replace(/\//g, '~1'))).join('');
}

export function getAt(data: unknown, p: Segment[]): unknown {
  let cur = data;
  for (const s of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s as string];
  }
  return cur;
}

export type Resolved = { value: unknown; at: Segment[] } | { error: string };

/** Follows local `$ref`s ("#/a/b") to the object they name, remembering where it lives. */
export function follow(data: unknown, value: unknown, at: Segment[]): Resolved {
  const seen = new Set<string>();
  let cur = value;
  let curAt = at;
  while (isObject(cur) && typeof cur.$ref === 'string') {
    const ref = cur.$ref;
    if (!ref.startsWith('#'))
      return { error: `$ref "${ref}" points outside this file; wsgate reads one self-contained document` };
    if (seen.has(ref)) return { error: `$ref "${ref}" is circular` };
    seen.add(ref);
    curAt = pointerSegments(ref.slice(1));
    cur = getAt(data, curAt);
    if (cur === undefined) return { error: `$ref "${ref}" names nothing in this document` };
  }
  return { value: cur, at: curAt };
}
