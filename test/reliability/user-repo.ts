// A user's dirty git repository and an exact snapshot of it, for the data-safety tests.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
  readlinkSync,
} from 'node:fs';
import path from 'node:path';
import { runProcess } from '../../lib/os/process.ts';

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const r = await runProcess('git', args, { cwd, timeoutMs: 20_000 });
  assert.equal(r.exitCode, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A user's repository: committed files, a modified tracked file, a staged file, untracked files, nested dirs. */
export async function userRepo(parent: string): Promise<string> {
  const dir = path.join(parent, 'my project'); // a space in the path, as users have
  mkdirSync(path.join(dir, 'src', 'deep', 'er'), { recursive: true });
  await git(dir, 'init', '-q', '-b', 'trunk');
  await git(dir, 'config', 'user.name', 'A User');
  await git(dir, 'config', 'user.email', 'user@example.com');
  await git(dir, 'config', 'commit.gpgsign', 'false');
  writeFileSync(path.join(dir, 'README.md'), '# mine\n');
  writeFileSync(path.join(dir, 'src', 'app.js'), 'console.log(1);\n');
  writeFileSync(path.join(dir, 'src', 'deep', 'er', 'data.bin'), randomBytes(4096));
  writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(path.join(dir, 'run.sh'), 0o755);
  writeFileSync(path.join(dir, '.gitignore'), 'ignored.log\n');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'user commit');
  writeFileSync(path.join(dir, 'src', 'app.js'), 'console.log(2); // work in progress\n'); // modified, unstaged
  writeFileSync(path.join(dir, 'staged.txt'), 'staged but not committed\n');
  await git(dir, 'add', 'staged.txt');
  writeFileSync(path.join(dir, 'README.md'), '# mine\nmore\n');
  await git(dir, 'add', 'README.md');
  writeFileSync(path.join(dir, 'README.md'), '# mine\nmore\nand unstaged\n'); // staged and modified again
  writeFileSync(path.join(dir, 'untracked.txt'), 'not in git\n');
  mkdirSync(path.join(dir, 'new-dir', 'inner'), { recursive: true });
  writeFileSync(path.join(dir, 'new-dir', 'inner', 'x.json'), '{"x":1}\n');
  writeFileSync(path.join(dir, 'ignored.log'), 'ignored\n');
  symlinkSync('src/app.js', path.join(dir, 'link-to-app'));
  return dir;
}

export interface Snapshot {
  files: Record<string, string>;
  status: string;
  head: string;
  staged: string;
  refs: string;
}

/** sha256 and mode of every file outside .git (symlinks by target), git status, HEAD, the staged diff, refs. */
export async function snapshot(dir: string): Promise<Snapshot> {
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === '.git') continue;
      const abs = path.join(dir, r);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) files[r] = `link -> ${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        files[r + '/'] = `dir ${(st.mode & 0o777).toString(8)}`;
        walk(r);
      } else
        files[r] = `${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`;
    }
  };
  walk('');
  return {
    files,
    status: await git(dir, 'status', '--porcelain=v1', '-uall', '--ignored'),
    head: (await git(dir, 'rev-parse', 'HEAD')).trim(),
    staged: createHash('sha256')
      .update(await git(dir, 'diff', '--cached', '--binary'))
      .digest('hex'),
    refs: await git(dir, 'for-each-ref'),
  };
}
