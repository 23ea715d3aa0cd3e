// Reading what a server *claims* (a directory listing, a git status) in whatever shape it chose
// (JSON array, JSON object, porcelain text, prose lines) and comparing it with the real disk.

function stringsIn(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsIn(x, out);
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // An entry object names itself by one of these keys; other fields (size, type) are not names.
    const own = ['name', 'path', 'file', 'filename'].find((k) => typeof o[k] === 'string');
    if (own) out.push(o[own] as string);
    else for (const x of Object.values(o)) stringsIn(x, out);
  }
  return out;
}

function parseMaybeJson(claim: unknown): unknown {
  if (typeof claim !== 'string') return claim;
  const t = claim.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t);
    } catch {
      /* prose that starts with a bracket */
    }
  }
  return claim;
}

function normaliseName(s: string): string {
  return s
    .trim()
    .replace(/^(?:[-*•]\s+|\[(?:dir|file|d|f)\]\s*|(?:dir|file):\s+)/i, '')
    .replace(/^\.\//, '')
    .replace(/^"(.*)"$/, '$1')
    .replace(/\/+$/, '');
}

/** The entry names a listing claim gives. */
export function listingClaimNames(claim: unknown): string[] {
  const v = parseMaybeJson(claim);
  const raw = typeof v === 'string' ? v.split(/\r?\n/) : stringsIn(v).flatMap((s) => s.split(/\r?\n/));
  return [...new Set(raw.map(normaliseName).filter((s) => s !== '' && s !== '.' && s !== '..'))];
}

export interface SetComparison {
  missing: string[];
  extra: string[];
  passed: boolean;
}

export function compareSets(claimed: string[], real: string[]): SetComparison {
  const c = new Set(claimed);
  const r = new Set(real);
  const missing = real.filter((x) => !c.has(x)).sort();
  const extra = claimed.filter((x) => !r.has(x)).sort();
  return { missing, extra, passed: missing.length === 0 && extra.length === 0 };
}

const STATUS_LABEL =
  /^(?:modified|new file|deleted|renamed|copied|typechange|untracked|added|both modified|unmerged)\s*:\s*/i;
const PORCELAIN = /^(?:[ MADRCUT?!]{2}|[MADRCUT?!])\s+/;

/** Candidate paths named by a git status claim, porcelain or long format, text or JSON. */
export function statusClaimPaths(claim: unknown): string[] {
  const v = parseMaybeJson(claim);
  const lines = typeof v === 'string' ? v.split(/\r?\n/) : stringsIn(v).flatMap((s) => s.split(/\r?\n/));
  const out: string[] = [];
  for (const line of lines) {
    let t = line.replace(/\t/g, ' ').trim();
    if (!t) continue;
    t = t.replace(STATUS_LABEL, '');
    if (PORCELAIN.test(line.replace(/\t/g, ' ')) && !STATUS_LABEL.test(line.trim()))
      t = line.replace(/\t/g, ' ').replace(PORCELAIN, '').trim();
    for (const part of t.split(' -> ')) {
      const name = part.trim().replace(/^"(.*)"$/, '$1');
      if (name) out.push(name);
    }
  }
  return [...new Set(out)];
}

/**
 * A status claim covers the real changes when it names every changed path (a claimed directory
 * `d/` covers the files under it) and names no path of the repository that did not change.
 * `isRepoPath` tells a path of the repository from prose ("On branch main").
 */
export function compareStatusClaim(
  claimed: string[],
  realChanged: string[],
  isRepoPath: (p: string) => boolean,
): SetComparison {
  const dirs = claimed.filter((c) => c.endsWith('/'));
  const names = new Set(claimed.map((c) => c.replace(/\/+$/, '')));
  const covered = (p: string) => names.has(p) || dirs.some((d) => p.startsWith(d));
  const missing = realChanged.filter((p) => !covered(p)).sort();
  const realSet = new Set(realChanged);
  const extra = claimed
    .filter((c) => {
      const n = c.replace(/\/+$/, '');
      if (realSet.has(n)) return false;
      if (c.endsWith('/') && realChanged.some((p) => p.startsWith(c))) return false;
      return isRepoPath(n);
    })
    .sort();
  return { missing, extra, passed: missing.length === 0 && extra.length === 0 };
}
