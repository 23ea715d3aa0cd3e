// The folder of the installed wsgate package, found by walking up from this module to the package.json
// named "wsgate". Shipped files (protocol/, gates.yaml, gates.schema.json, the wscat observer) are
// located from it, so the paths hold both for the TypeScript sources, at any folder depth under lib/,
// and for the bundle in dist/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'wsgate') return dir;
    } catch {
      // no package.json here, or not JSON: keep walking
    }
    if (path.dirname(dir) === dir) throw new Error(`wsgate: cannot find the wsgate package folder above ${from}`);
  }
}

export const PACKAGE_ROOT: string = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The installed package's version, as `--version`, the run header and environment.json show it. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
