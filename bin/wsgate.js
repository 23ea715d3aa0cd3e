#!/usr/bin/env node
// Entry point: runs the prebuilt bundle (dist/wsgate.mjs, made by `npm ci`/`npm run build`) when it is
// newer than every source file, else the TypeScript sources through tsx. Either way: lib/cli/main.ts.
import { BUNDLE, bundleIsFresh } from '../scripts/bundle-fresh.mjs';

if (bundleIsFresh()) {
  await import(BUNDLE);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../lib/cli/main.ts');
}
