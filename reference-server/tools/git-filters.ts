// Which filter drivers a repository's own config defines. A clean/smudge/process filter is a command
// git runs on file contents; the repository's config is writable by whoever writes the project, so the
// git tools switch those drivers off by name (`-c filter.NAME.clean=`). Drivers from the user's own
// global config (git-lfs, say) are the user's and stay on.
import fs from 'node:fs/promises';
import path from 'node:path';

// `[filter "name"]` (the subsection may hold \" and \\) and the old `[filter.name]` form. Line-anchored,
// with no two quantifiers over the same characters: linear on any config text.
const QUOTED_SECTION = /^[ \t]*\[[ \t]*filter[ \t]+"((?:[^"\\\n]|\\.)*)"[ \t]*\]/gim;
const DOTTED_SECTION = /^[ \t]*\[[ \t]*filter\.([^\]\s]+)[ \t]*\]/gim;
const INCLUDE_SECTION = /^[ \t]*\[[ \t]*include(?:if)?\b/im;

/** The config files of the repository: its common config and, for a linked worktree, its own. */
async function configFiles(gitDir: string): Promise<string[]> {
  const common = await fs.readFile(path.join(gitDir, 'commondir'), 'utf8').then(
    (text) => path.resolve(gitDir, text.trim()),
    () => gitDir,
  );
  return [path.join(common, 'config'), path.join(gitDir, 'config.worktree')];
}

/**
 * The driver names, read from the files without starting git; `undefined` when a file includes others
 * (then only git can follow the includes the way it does, and the caller asks it).
 */
export async function localFilterNames(gitDir: string): Promise<string[] | undefined> {
  const names = new Set<string>();
  for (const file of await configFiles(gitDir)) {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    if (INCLUDE_SECTION.test(text)) return undefined;
    for (const m of text.matchAll(QUOTED_SECTION)) names.add(m[1]!.replace(/\\(.)/g, '$1'));
    for (const m of text.matchAll(DOTTED_SECTION)) names.add(m[1]!.toLowerCase());
  }
  return [...names];
}

/** Driver names from `git config --null --name-only --get-regexp ^filter\.` output. */
export function filterNamesFromKeys(output: string): string[] {
  const names = new Set<string>();
  for (const key of output.split('\0')) {
    const last = key.lastIndexOf('.');
    if (key.startsWith('filter.') && last > 'filter.'.length) names.add(key.slice('filter.'.length, last));
  }
  return [...names];
}

/** `-c` settings that make each named driver a no-op. */
export function disableFilters(names: readonly string[]): string[] {
  return names.flatMap((name) =>
    ['clean=', 'smudge=', 'process=', 'required=false'].flatMap((v) => ['-c', `filter.${name}.${v}`]),
  );
}
