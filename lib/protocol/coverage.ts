// Protocol coverage: which parts of the protocol file the traffic of a run exercised. The rows come
// from the file: message kinds per direction (unless it hides that row), then each x-wsgate-coverage
// row: names found in message fields (agent-backend's tools and slash commands, GraphQL operations)
// or message kinds (JSON-RPC methods and replies). A row with no items is not a row of that protocol
// and is left out. A message counts whether or not it validated: coverage says what was tried,
// violations say what was wrong.
import path from 'node:path';
import { getPath } from '../matching/match.ts';
import type { CoverageSource } from './extensions.ts';
import type { Protocol } from './protocol.ts';

export type CoverageDirection = 'client→server' | 'server→client';

export interface CoverageItem {
  name: string;
  count: number;
}

export interface CoverageRow {
  /** The key in x-wsgate-coverage (`tools`, `methods`). */
  key: string;
  /** The name printed (`slash commands`). */
  label: string;
  items: CoverageItem[];
  /** Names seen in the traffic that the row does not list (a generic file lists no methods), at most 100. */
  unlisted?: CoverageItem[];
}

export interface CoverageReport {
  protocolFile: string;
  /** Every message kind of the protocol, per direction (counted even when the row is hidden). */
  messages: { direction: CoverageDirection; type: string; count: number; optional?: boolean }[];
  /** Whether the messages row is shown and counts in `overall`. */
  messagesRow: boolean;
  /** The protocol's other rows, in the order of the file: rows with items, and rows with only unlisted names. */
  lists: CoverageRow[];
  /** Covered items (count > 0) out of all items, in %, one decimal: `messages` (when shown), one per row key, `overall`. */
  percent: Record<string, number>;
}

type From = 'server' | 'client';

/** The name a source finds in a message, if any. */
function nameIn(json: unknown, src: CoverageSource): string | undefined {
  const v = getPath(json, src.field);
  if (typeof v !== 'string') return undefined;
  const text = src.firstWord ? v.trim() : v;
  if (src.startsWith !== undefined && !text.startsWith(src.startsWith)) return undefined;
  let name = src.firstWord ? (text.split(/\s+/)[0] ?? '') : text;
  if (src.pattern !== undefined) {
    const m = new RegExp(src.pattern).exec(name);
    name = m ? (m[1] ?? m[0]) : '';
  }
  return name === '' ? undefined : name;
}

function pct(covered: number, total: number): number {
  return total === 0 ? 100 : Math.round((covered / total) * 1000) / 10;
}

/** Unlisted names kept per row: enough to show what a generic protocol file leaves out, bounded for hostile traffic. */
const MAX_UNLISTED = 100;

interface Counter {
  key: string;
  label: string;
  counts: Map<string, number>;
  /** Whether a name this row finds but does not list is worth showing (a method, a tool; not any kind). */
  open: boolean;
  /** The row counts frames of both directions (JSON-RPC methods): an unlisted name says which way it went. */
  bothWays?: boolean;
  /** Which name this frame gives the row, if any. */
  nameOf(json: unknown, kind: string, from: From): string | undefined;
}

function counterFor(list: Protocol['coverageLists'][number]): Counter {
  const counts = new Map<string, number>();
  if ('names' in list) {
    for (const n of list.names) counts.set(n, 0);
    return {
      key: list.key,
      label: list.label,
      counts,
      open: true,
      // The first source that names something names the frame: a chat line sent in two fields counts once.
      nameOf(json, kind, from) {
        for (const src of list.seenIn) {
          if ((src.type !== undefined && src.type !== kind) || (src.from !== undefined && src.from !== from)) continue;
          const name = nameIn(json, src);
          if (name !== undefined) return name;
        }
        return undefined;
      },
    };
  }
  for (const k of list.kinds) counts.set(k, 0);
  const field = list.field;
  return {
    key: list.key,
    label: list.label,
    counts,
    // A row of the kinds one field gives (methods) also shows the kinds that field gave but the file does not describe.
    open: field !== undefined,
    bothWays: list.from === undefined,
    nameOf: (json, kind, from) =>
      (list.from === undefined || list.from === from) && (field === undefined || getPath(json, field) === kind)
        ? kind
        : undefined,
  };
}

export class Coverage {
  private readonly incoming = new Map<string, number>();
  private readonly outgoing = new Map<string, number>();
  private readonly counters: Counter[];
  private readonly unlisted = new Map<Counter, Map<string, number>>();

  constructor(private readonly protocol: Protocol) {
    for (const t of protocol.incomingTypes) this.incoming.set(t, 0);
    for (const t of protocol.outgoingTypes) this.outgoing.set(t, 0);
    this.counters = protocol.coverageLists.map(counterFor);
  }

  /** A server→client message (parsed JSON). Anything without a kind is ignored. */
  recordIncoming(json: unknown): void {
    this.record(json, 'server', this.incoming);
  }

  /** A client→server message (parsed JSON). */
  recordOutgoing(json: unknown): void {
    this.record(json, 'client', this.outgoing);
  }

  private record(json: unknown, from: From, counts: Map<string, number>): void {
    // Arrays too: array-framed protocols (OCPP-J) name kinds by index path; the rules say what has none.
    if (json === null || typeof json !== 'object') return;
    const kind = this.protocol.kindOf(json);
    if (kind === undefined) return;
    const n = counts.get(kind);
    if (n !== undefined) counts.set(kind, n + 1);
    for (const c of this.counters) {
      const name = c.nameOf(json, kind, from);
      if (name === undefined) continue;
      const had = c.counts.get(name);
      if (had !== undefined) c.counts.set(name, had + 1);
      else if (c.open) {
        const u = this.unlisted.get(c) ?? new Map<string, number>();
        this.unlisted.set(c, u);
        const shown = c.bothWays && from === 'server' ? `${name} (from the server)` : name;
        if (u.has(shown) || u.size < MAX_UNLISTED) u.set(shown, (u.get(shown) ?? 0) + 1);
      }
    }
  }

  report(): CoverageReport {
    const messages = [
      ...[...this.outgoing].map(([type, count]) => ({ direction: 'client→server' as const, type, count })),
      ...[...this.incoming].map(([type, count]) => ({
        direction: 'server→client' as const,
        type,
        count,
        ...(this.protocol.optionalTypes.has(type) ? { optional: true } : {}),
      })),
    ];
    const lists = this.counters
      .filter((c) => c.counts.size > 0 || this.unlisted.has(c))
      .map((c): CoverageRow => {
        const u = this.unlisted.get(c);
        return {
          key: c.key,
          label: c.label,
          items: [...c.counts].map(([name, count]) => ({ name, count })),
          ...(u ? { unlisted: [...u].map(([name, count]) => ({ name, count })) } : {}),
        };
      });
    return withPercent({ protocolFile: this.protocol.file, messages, messagesRow: this.protocol.messagesRow, lists });
  }
}

const covered = (xs: { count: number }[]) => xs.filter((x) => x.count > 0).length;
/** A message a server may leave out counts only when it was seen: an unseen one is no gap. */
const required = <T extends { count: number; optional?: boolean }>(xs: T[]) =>
  xs.filter((x) => !x.optional || x.count > 0);

/** The rows a report shows, in order: [key, label, items]. */
function rowsOf(r: Omit<CoverageReport, 'percent'>): [string, string, { count: number }[]][] {
  const lists = r.lists.filter((l) => l.items.length > 0);
  return [
    ...(r.messagesRow ? [['messages', 'messages', r.messages] as [string, string, { count: number }[]]] : []),
    ...lists.map((l): [string, string, { count: number }[]] => [l.key, l.label, l.items]),
  ];
}

function withPercent(r: Omit<CoverageReport, 'percent'>): CoverageReport {
  const percent: Record<string, number> = {};
  let c = 0;
  let all = 0;
  for (const [key, , all0] of rowsOf(r)) {
    const items = required(all0);
    percent[key] = pct(covered(items), items.length);
    c += covered(items);
    all += items.length;
  }
  percent.overall = pct(c, all);
  return { ...r, percent };
}

/** One report from the reports of several runs of the same protocol (CI shards): counts add up. */
export function mergeCoverage(reports: CoverageReport[]): CoverageReport | undefined {
  const first = reports[0];
  if (!first || reports.some((r) => r.protocolFile !== first.protocolFile)) return undefined;
  const sum = <T extends { count: number }>(
    items: T[],
    pick: (r: CoverageReport) => T[] | undefined,
    key: (x: T) => string,
  ): T[] =>
    items.map((item) => ({
      ...item,
      count: reports.reduce((n, r) => n + (pick(r)?.find((x) => key(x) === key(item))?.count ?? 0), 0),
    }));
  return withPercent({
    protocolFile: first.protocolFile,
    messages: sum(
      first.messages,
      (r) => r.messages,
      (m) => `${m.direction} ${m.type}`,
    ),
    messagesRow: first.messagesRow,
    lists: first.lists.map((l) => {
      const unlisted = new Map<string, number>();
      for (const r of reports)
        for (const u of r.lists.find((x) => x.key === l.key)?.unlisted ?? [])
          unlisted.set(u.name, (unlisted.get(u.name) ?? 0) + u.count);
      return {
        ...l,
        items: sum(
          l.items,
          (r) => r.lists.find((x) => x.key === l.key)?.items,
          (i) => i.name,
        ),
        ...(unlisted.size ? { unlisted: [...unlisted].map(([name, count]) => ({ name, count })) } : {}),
      };
    }),
  });
}

/** A small console table: one row per list, the overall figure, and what was never seen. */
export function formatCoverage(report: CoverageReport): string {
  const rows = rowsOf(report).map(([key, label, items]): [string, number, number, number] => [
    label,
    covered(required(items)),
    required(items).length,
    report.percent[key] ?? 100,
  ]);
  rows.push([
    'overall',
    rows.reduce((a, r) => a + r[1], 0),
    rows.reduce((a, r) => a + r[2], 0),
    report.percent.overall ?? 100,
  ]);
  const file = path.relative(process.cwd(), report.protocolFile) || report.protocolFile;
  const lines = [`protocol coverage (${file})`, `  ${'kind'.padEnd(16)}${'covered'.padStart(9)}${'%'.padStart(8)}`];
  for (const [label, c, t, p] of rows)
    lines.push(`  ${label.padEnd(16)}${`${c}/${t}`.padStart(9)}${p.toFixed(1).padStart(8)}`);
  const missing: string[] = [];
  if (report.messagesRow) {
    for (const dir of ['client→server', 'server→client'] as const) {
      const m = report.messages
        .filter((x) => x.direction === dir && x.count === 0)
        .map((x) => (x.optional ? `${x.type} (optional)` : x.type));
      if (m.length) missing.push(`${dir}: ${m.join(', ')}`);
    }
  }
  for (const l of report.lists) {
    const m = l.items.filter((x) => x.count === 0).map((x) => x.name);
    if (m.length) missing.push(`${l.label}: ${m.join(', ')}`);
  }
  if (missing.length) lines.push('  never seen:', ...missing.map((x) => `    ${x}`));
  const unlisted = report.lists
    .filter((l) => l.unlisted?.length)
    .map(
      (l) =>
        `${l.label}: ${l
          .unlisted!.map((u) => u.name)
          .sort()
          .join(', ')}`,
    );
  if (unlisted.length) lines.push('  seen, not described in the protocol file:', ...unlisted.map((x) => `    ${x}`));
  return lines.join('\n');
}
