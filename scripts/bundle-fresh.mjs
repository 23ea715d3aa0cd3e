// The one rule for whether dist/wsgate.mjs may run: it exists and is newer than every .ts file it is
// built from and than the last package install (npm's node_modules/.package-lock.json), since the
// bundle holds the libraries too. bin/wsgate.js falls back to tsx otherwise; the bench rebuilds instead.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(root, 'dist', 'wsgate.mjs');
const SOURCES = ['lib', 'steps', 'reference-server'];

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function bundleIsFresh() {
  if (!existsSync(BUNDLE)) return false;
  const built = statSync(BUNDLE).mtimeMs;
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs > built) return false;
  return SOURCES.every((d) => newestSource(path.join(root, d)) <= built);
}
