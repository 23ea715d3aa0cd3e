// Side effects, read from the real disk and the real git after the step before it.
import type { z } from 'zod';
import { existsSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { defineStep } from '../lib/runner/step-api.ts';
import { type DirCheck, type FileCheck, type GitCheck, type VerifyParams, verifySchema } from './schemas/verify.ts';
import type { CheckResult } from '../lib/evidence/results.ts';
import type { StepContext } from '../lib/runner/context.ts';
import { describe, getPath, matchValue } from '../lib/matching/match.ts';
import { changedSince, snapshotFile } from '../lib/runner/snapshot.ts';
import { compareSets, compareStatusClaim, listingClaimNames, statusClaimPaths } from '../lib/matching/claims.ts';
import { changedPaths, gitHead, lastCommitMessage } from '../lib/os/git.ts';
import { resolveInside } from '../lib/runner/project.ts';
import { requestNotDelivered } from '../lib/runner/premise.ts';
import { jsonlChecks } from './verify-jsonl.ts';

/**
 * content and json checks read a file up to this many bytes; a larger one fails them with its size (its
 * sha256 is still checked: hashing streams). A server that leaves a 1.5 GB file must not make wsgate
 * hold 1.5 GB, nor crash on a string longer than V8 allows.
 */
export const VERIFY_READ_MAX = 16 * 1024 * 1024;

/** The file's text, read 1 MB at a time and never past VERIFY_READ_MAX + 1 bytes, or its size when it is larger. */
async function readCapped(abs: string): Promise<{ text: string; bytes: Buffer } | { tooLarge: number }> {
  const fh = await open(abs, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(1024 * 1024, VERIFY_READ_MAX + 1 - total);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > VERIFY_READ_MAX) return { tooLarge: Math.max(total, (await fh.stat()).size) };
    }
    const bytes = Buffer.concat(chunks, total);
    return { text: bytes.toString('utf8'), bytes };
  } finally {
    await fh.close();
  }
}

export const verify = defineStep({
  ...verifySchema,
  watches: (p) => ('file' in p.verify && (p.verify.changed || p.verify.jsonl?.new) ? [p.verify.file] : []),
  watchesHead: (p) => 'git' in p.verify && p.verify.git.headMoved !== undefined,
  usesGit: (p) => 'git' in p.verify,
  async run(p, ctx) {
    const v = ctx.vars.resolve(p.verify);
    const started = performance.now();
    const deadline = started + (p.wait !== undefined ? ctx.timeoutMs(p.wait) : 0);
    let delay = 10;
    for (;;) {
      const { checks, observations, unchecked } = await verifyOnce(v, ctx);
      const failed = checks.some((c) => !c.passed);
      if (!failed || performance.now() + delay > deadline) {
        const waited = Math.round(performance.now() - started);
        return ctx.result(checks, {
          observations: { ...observations, ...(p.wait !== undefined ? { waitedMs: waited } : {}) },
          ...(unchecked ? { status: 'unchecked', note: unchecked } : {}),
        });
      }
      await new Promise((r) => setTimeout(r, delay)); // bounded backoff on the disk, capped by `wait`
      delay = Math.min(delay * 2, 250);
    }
  },
});

type Observations = Record<string, unknown>;

/** `unchecked`: the check's premise does not hold (why, in words): no verdict either way. */
async function verifyOnce(
  v: z.infer<typeof VerifyParams>,
  ctx: StepContext,
): Promise<{ checks: CheckResult[]; observations: Observations; unchecked?: string }> {
  if ('file' in v) return verifyFile(v, ctx);
  if ('dir' in v) return verifyListing(v, ctx);
  return verifyGit(v.git, ctx);
}

/** A failed check instead of a read, for a path that leaves the project folder. */
function outside(ctx: StepContext, what: string, why: string, key: 'file' | 'dir') {
  return {
    checks: [
      ctx.check({
        name: `${what} is inside the project folder`,
        expected: 'a path inside the project folder',
        actual: why,
        passed: false,
        loc: ctx.locOf(['verify', key]),
        failure: { kind: 'file', path: what, want: 'inside' },
      }),
    ],
    observations: { path: what, refused: why },
  };
}

async function verifyFile(
  v: z.infer<typeof FileCheck>,
  ctx: StepContext,
): Promise<{ checks: CheckResult[]; observations: Observations; unchecked?: string }> {
  // Outside the project only whether a path exists may be checked (the default `logs` gate checks
  // the server's log folder, which /health names): no content, hash or mtime is read there.
  const where = resolveInside(ctx.project, v.file);
  const reads =
    v.content !== undefined ||
    v.json !== undefined ||
    v.jsonl !== undefined ||
    v.sha256 !== undefined ||
    v.changed !== undefined;
  if (!where.ok && reads) return outside(ctx, v.file, where.why, 'file');
  const abs = where.ok ? where.abs : path.resolve(ctx.project, v.file);
  const checks: CheckResult[] = [];
  const snap = where.ok
    ? await snapshotFile(abs)
    : {
        exists: await stat(abs).then(
          () => true,
          () => false,
        ),
        sha256: undefined,
        size: undefined,
      };
  const wantExists = v.exists ?? true;
  const observations: Observations = { path: abs, exists: snap.exists, sha256: snap.sha256, size: snap.size };
  checks.push(
    ctx.check({
      name: `${v.file} ${wantExists ? 'exists' : 'is absent'}`,
      expected: wantExists ? 'exists' : 'absent',
      actual: snap.exists ? 'exists' : 'absent',
      passed: snap.exists === wantExists,
      loc: ctx.locOf(['verify', 'file']),
      failure: { kind: 'file', path: v.file, want: wantExists ? 'exists' : 'absent' },
    }),
  );
  if (!wantExists && !snap.exists) {
    // Absent proves nothing when the request that could have made the file never reached the server.
    const lost = requestNotDelivered(ctx.earlier);
    if (lost)
      return {
        checks: [],
        observations,
        unchecked: `not checked: ${v.file} is absent, but nothing shows that step ${lost.step} (${lost.label}) reached the server: ${lost.why}`,
      };
  }
  if (!snap.exists || !wantExists) return { checks, observations };
  if (v.changed !== undefined) {
    const before = ctx.snapshot.files.get(v.file);
    // A path known only from a capture has no recorded state: judged by mtime vs the gate's start
    // (before, "not recorded" counted as "created in this gate", so a stale file passed).
    const changed = changedSince(before, snap, ctx.snapshot.startedAt);
    const how = !before
      ? changed
        ? 'modified during the gate (by mtime: the path was not known when the gate began)'
        : 'last modified before the gate began (left from an earlier run?)'
      : !before.exists
        ? 'created during the gate'
        : changed
          ? 'modified during the gate'
          : 'unchanged since the gate began (left from an earlier run?)';
    checks.push(
      ctx.check({
        name: `${v.file} written during this gate`,
        expected: v.changed ? 'created or modified during the gate' : 'unchanged',
        actual: how,
        passed: changed === v.changed,
        loc: ctx.locOf(['verify', 'changed']),
        failure: { kind: 'file', path: v.file, want: v.changed ? 'changed' : 'unchanged' },
      }),
    );
  }
  if (v.sha256 !== undefined) {
    const want = v.sha256.toLowerCase();
    checks.push(
      ctx.check({
        name: `${v.file} sha256`,
        expected: want,
        actual: snap.sha256 ?? 'not a regular file',
        passed: snap.sha256 === want,
        loc: ctx.locOf(['verify', 'sha256']),
        failure: { kind: 'content', subject: `${v.file} (sha256)` },
      }),
    );
  }
  if (v.content !== undefined || v.json !== undefined || v.jsonl !== undefined) {
    let read: Awaited<ReturnType<typeof readCapped>>;
    try {
      read = await readCapped(abs);
    } catch (e) {
      checks.push(
        ctx.check({
          name: `${v.file} is a readable file`,
          expected: 'a file',
          actual: (e as NodeJS.ErrnoException).code ?? (e as Error).message,
          passed: false,
          loc: ctx.locOf(['verify', 'file']),
          failure: { kind: 'file', path: v.file, want: 'readable' },
        }),
      );
      return { checks, observations };
    }
    if ('tooLarge' in read) {
      const key = v.content !== undefined ? 'content' : v.json !== undefined ? 'json' : 'jsonl';
      checks.push(
        ctx.check({
          name: `${v.file} is small enough to read`,
          expected: `at most ${VERIFY_READ_MAX} bytes for ${key} checks (a larger file can be checked by sha256)`,
          actual: `${read.tooLarge} bytes`,
          passed: false,
          loc: ctx.locOf(['verify', key]),
          failure: { kind: 'file', path: v.file, want: 'small' },
        }),
      );
      return { checks, observations };
    }
    const text = read.text;
    observations.content = text.length > 4096 ? text.slice(0, 4096) + '…' : text;
    if (v.content !== undefined) {
      const r = matchValue(v.content, text);
      checks.push(
        ctx.check({
          name: `${v.file} content`,
          expected: v.content,
          actual: text,
          passed: r.passed,
          loc: ctx.locOf(['verify', 'content']),
          ...(r.reason ? { reason: r.reason } : {}),
          failure: { kind: 'content', subject: `the content of ${v.file}` },
        }),
      );
    }
    if (v.jsonl !== undefined) {
      const { checks: lineChecks, judged } = jsonlChecks(v.jsonl, v.file, read.bytes, ctx);
      checks.push(...lineChecks);
      observations.jsonlLines = judged;
    }
    if (v.json !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        checks.push(
          ctx.check({
            name: `${v.file} is JSON`,
            expected: 'valid JSON',
            actual: (e as Error).message,
            passed: false,
            loc: ctx.locOf(['verify', 'json']),
            failure: { kind: 'file', path: v.file, want: 'json' },
          }),
        );
        return { checks, observations };
      }
      for (const [p, m] of Object.entries(v.json)) {
        const actual = getPath(parsed, p);
        const r = matchValue(m, actual);
        checks.push(
          ctx.check({
            name: `${v.file} ${p}`,
            expected: m,
            actual: r.passed ? actual : `${describe(actual)} (${r.reason})`,
            passed: r.passed,
            loc: ctx.locOf(['verify', 'json', p]),
            failure: { kind: 'field', field: `${v.file} ${p}`, expected: m },
          }),
        );
      }
    }
  }
  return { checks, observations };
}

async function realEntries(root: string, recursive: boolean, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    if (e.name === '.git') continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (recursive && e.isDirectory()) out.push(...(await realEntries(root, true, rel)));
  }
  return out;
}

async function verifyListing(v: z.infer<typeof DirCheck>, ctx: StepContext) {
  const where = resolveInside(ctx.project, v.dir);
  if (!where.ok) return outside(ctx, v.dir, where.why, 'dir');
  const dir = where.abs;
  let real: string[];
  try {
    real = await realEntries(dir, v.recursive ?? false);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return {
      checks: [
        ctx.check({
          name: `${v.dir} is a readable directory`,
          expected: 'a directory',
          actual: why,
          passed: false,
          loc: ctx.locOf(['verify', 'dir']),
          failure: { kind: 'file', path: v.dir, want: 'directory' },
        }),
      ],
      observations: { dir },
    };
  }
  // wsgate's own listing leaves git's folder out; so does the claim's, when the folder is there: `.git`
  // counts on both sides or neither. A claimed `.git` that is not on disk stays in, as an extra name.
  const hasGit = await stat(path.join(dir, '.git')).then(
    () => true,
    () => false,
  );
  const claimed = listingClaimNames(v.listing).filter((n) => !hasGit || (n !== '.git' && !n.startsWith('.git/')));
  const cmp = compareSets(claimed, real);
  const actual = cmp.passed
    ? claimed
    : `missing from the claim: ${describe(cmp.missing)}; claimed but not on disk: ${describe(cmp.extra)}`;
  return {
    checks: [
      ctx.check({
        name: `listing of ${v.dir} names exactly the real entries`,
        expected: real.sort(),
        actual,
        passed: cmp.passed,
        loc: ctx.locOf(['verify', 'listing']),
        failure: { kind: 'content', subject: `the listing of ${v.dir}` },
      }),
    ],
    observations: { dir, real, claimed },
  };
}

async function verifyGit(g: z.infer<typeof GitCheck>, ctx: StepContext) {
  const checks: CheckResult[] = [];
  const observations: Observations = {};
  const loc = (k: string) => ctx.locOf(['verify', 'git', k]);
  if (g.clean !== undefined || g.status !== undefined) {
    const { paths, porcelain, error } = await changedPaths(ctx.project);
    observations.gitStatus = porcelain;
    if (error) {
      checks.push(
        ctx.check({
          name: 'git status runs in the project',
          expected: 'a git repository',
          actual: error,
          passed: false,
          loc: loc(g.clean !== undefined ? 'clean' : 'status'),
          failure: { kind: 'git', want: 'repository' },
        }),
      );
      return { checks, observations };
    }
    if (g.clean !== undefined) {
      checks.push(
        ctx.check({
          name: `git working tree is ${g.clean ? 'clean' : 'dirty'}`,
          expected: g.clean ? 'clean' : 'dirty',
          actual: paths.length ? `dirty: ${paths.join(', ')}` : 'clean',
          passed: (paths.length === 0) === g.clean,
          loc: loc('clean'),
          failure: { kind: 'git', want: g.clean ? 'clean' : 'dirty' },
        }),
      );
    }
    if (g.status !== undefined) {
      const claimed = statusClaimPaths(g.status);
      const cmp = compareStatusClaim(claimed, paths, (p) => existsSync(path.resolve(ctx.project, p)));
      const actual = cmp.passed
        ? g.status
        : `claim misses: ${describe(cmp.missing)}; claim names unchanged: ${describe(cmp.extra)}`;
      checks.push(
        ctx.check({
          name: 'git status claim matches the real `git status`',
          expected: porcelain || '(clean)',
          actual,
          passed: cmp.passed,
          loc: loc('status'),
          failure: { kind: 'git', want: 'status' },
        }),
      );
    }
  }
  if (g.lastMessage !== undefined) {
    const msg = await lastCommitMessage(ctx.project);
    observations.lastMessage = msg;
    const r = matchValue(g.lastMessage, msg);
    checks.push(
      ctx.check({
        name: 'git log -1 message',
        expected: g.lastMessage,
        actual: msg ?? '(no commits)',
        passed: r.passed,
        loc: loc('lastMessage'),
        ...(r.reason ? { reason: r.reason } : {}),
        failure: { kind: 'git', want: 'message' },
      }),
    );
  }
  if (g.headMoved !== undefined) {
    const head = await gitHead(ctx.project);
    observations.head = head;
    const moved = head !== ctx.snapshot.head;
    checks.push(
      ctx.check({
        name: `HEAD ${g.headMoved ? 'moved' : 'did not move'} during the gate`,
        expected: `${g.headMoved ? 'a new HEAD' : 'same HEAD'} (was ${ctx.snapshot.head ?? 'none'})`,
        actual: head ?? 'none',
        passed: moved === g.headMoved,
        loc: loc('headMoved'),
        failure: { kind: 'git', want: g.headMoved ? 'head moved' : 'head unchanged' },
      }),
    );
  }
  return { checks, observations };
}
