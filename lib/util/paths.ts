// Path containment, as text: shared by the parts that keep files in or out of a folder (the project,
// the evidence folder, a recording). No file system access: callers resolve links first when they must.
import path from 'node:path';

/** True when `child` is `parent` or inside it. */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  // `..foo` is a folder inside; only `..` itself or `../…` leaves.
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}
