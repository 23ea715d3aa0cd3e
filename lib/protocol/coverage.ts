// Protocol coverage: which message kinds (per direction), tools and slash commands the traffic of a run
// exercised. A message counts whether or not it validated: coverage says what was tried, violations
// say what was wrong.
import path from 'node:path';
import type { CoverageSource } from './document.ts';
import type { Protocol } from './protocol.ts';

export type CoverageDirection = 'client→server' | 'server→client';

export interface CoverageReport {
  protocolFile: string;
  messages: { direction: CoverageDirection; type: string; count: number }[];
  tools: { name: string; count: number }[];
  slashCommands: { name: string; count: number }[];
  /** Covered items (count > 0) out of all items, in %, one decimal; an empty list counts as 100 %. */
  percent: { messages: number; tools: number; slashCommands: number; overall: number };
}

function fieldAt(json: Record<string, unknown>, field: string): unknown {
  let cur: unknown = json;
  for (const k of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** The name a source finds in a message, if any. */
function nameIn(json: Record<string, unknown>, src: CoverageSource): string | undefined {
  const v = fieldAt(json, src.field);
  if (typeof v !== 'string') return undefined;
  const text = src.firstWord ? v.trim() : v;
  if (src.startsWith !== undefined && !text.startsWith(src.startsWith)) return undefined;
  const name = src.firstWord ? (text.split(/\s+/)[0] ?? '') : text;
  return name === '' ? undefined : name;
}

function pct(covered: number, total: number): number {
  return total === 0 ? 100 : Math.round((covered / total) * 1000) / 10;
}

export class Coverage {
  private readonly incoming = new Map<string, number>();
  private readonly outgoing = new Map<string, number>();
  private readonly toolCounts = new Map<string, number>();
  private readonly slashCounts = new Map<string, number>();

  constructor(private readonly protocol: Protocol) {
    for (const t of protocol.incomingTypes) this.incoming.set(t, 0);
    for (const t of protocol.outgoingTypes) this.outgoing.set(t, 0);
    for (const t of protocol.tools) this.toolCounts.set(t, 0);
    for (const s of protocol.slashCommands) this.slashCounts.set(s, 0);
  }

  /** A server→client message (parsed JSON). Anything that is not an object with a kind is ignored. */
  recordIncoming(json: unknown): void {
    this.record(json, 'server', this.incoming);
  }

  /** A client→server message (parsed JSON). */
  recordOutgoing(json: unknown): void {
    this.record(json, 'client', this.outgoing);
  }

  private record(json: unknown, from: 'server' | 'client', counts: Map<string, number>): void {
    const kind = this.protocol.kindOf(json);
    if (kind === undefined) return;
    const msg = json as Record<string, unknown>;
    const n = counts.get(kind);
    if (n !== undefined) counts.set(kind, n + 1);
    const bump = (sources: CoverageSource[], into: Map<string, number>) => {
      for (const src of sources) {
        if (src.type !== kind || (src.from !== undefined && src.from !== from)) continue;
        const name = nameIn(msg, src);
        const c = name === undefined ? undefined : into.get(name);
        if (c !== undefined) into.set(name!, c + 1);
      }
    };
    bump(this.protocol.toolSources, this.toolCounts);
    bump(this.protocol.slashCommandSources, this.slashCounts);
  }

  report(): CoverageReport {
    const messages = [
      ...[...this.outgoing].map(([type, count]) => ({ direction: 'client→server' as const, type, count })),
      ...[...this.incoming].map(([type, count]) => ({ direction: 'server→client' as const, type, count })),
    ];
    const tools = [...this.toolCounts].map(([name, count]) => ({ name, count }));
    const slashCommands = [...this.slashCounts].map(([name, count]) => ({ name, count }));
    return withPercent({ protocolFile: this.protocol.file, messages, tools, slashCommands });
  }
}

function withPercent(r: Omit<CoverageReport, 'percent'>): CoverageReport {
  const covered = (xs: { count: number }[]) => xs.filter((x) => x.count > 0).length;
  const all = r.messages.length + r.tools.length + r.slashCommands.length;
  return {
    ...r,
    percent: {
      messages: pct(covered(r.messages), r.messages.length),
      tools: pct(covered(r.tools), r.tools.length),
      slashCommands: pct(covered(r.slashCommands), r.slashCommands.length),
      overall: pct(covered(r.messages) + covered(r.tools) + covered(r.slashCommands), all),
    },
  };
}

/** One report from the reports of several runs of the same protocol (CI shards): counts add up. */
export function mergeCoverage(reports: CoverageReport[]): CoverageReport | undefined {
  const first = reports[0];
  if (!first || reports.some((r) => r.protocolFile !== first.protocolFile)) return undefined;
  const sum = <T extends { count: number }>(pick: (r: CoverageReport) => T[], key: (x: T) => string): T[] =>
    pick(first).map((item) => ({ ...item, count: reports.reduce((n, r) => n + (pick(r).find((x) => key(x) === key(item))?.count ?? 0), 0) }));
  return withPercent({
    protocolFile: first.protocolFile,
    messages: sum((r) => r.messages, (m) => `${m.direction} ${m.type}`),
    tools: sum((r) => r.tools, (t) => t.name),
    slashCommands: sum((r) => r.slashCommands, (c) => c.name),
  });
}

/** A small console table: one row per list, the overall figure, and what was never seen. */
export function formatCoverage(report: CoverageReport): string {
  const covered = (xs: { count: number }[]) => xs.filter((x) => x.count > 0).length;
  const rows: [string, number, number, number][] = [
    ['messages', covered(report.messages), report.messages.length, report.percent.messages],
    ['tools', covered(report.tools), report.tools.length, report.percent.tools],
    ['slash commands', covered(report.slashCommands), report.slashCommands.length, report.percent.slashCommands],
  ];
  const totalCovered = rows.reduce((a, r) => a + r[1], 0);
  const total = rows.reduce((a, r) => a + r[2], 0);
  rows.push(['overall', totalCovered, total, report.percent.overall]);
  const file = path.relative(process.cwd(), report.protocolFile) || report.protocolFile;
  const lines = [`protocol coverage (${file})`, `  ${'kind'.padEnd(16)}${'covered'.padStart(9)}${'%'.padStart(8)}`];
  for (const [label, c, t, p] of rows) lines.push(`  ${label.padEnd(16)}${`${c}/${t}`.padStart(9)}${p.toFixed(1).padStart(8)}`);
  const missing: string[] = [];
  for (const dir of ['client→server', 'server→client'] as const) {
    const m = report.messages.filter((x) => x.direction === dir && x.count === 0).map((x) => x.type);
    if (m.length) missing.push(`${dir}: ${m.join(', ')}`);
  }
  const t = report.tools.filter((x) => x.count === 0).map((x) => x.name);
  if (t.length) missing.push(`tools: ${t.join(', ')}`);
  const s = report.slashCommands.filter((x) => x.count === 0).map((x) => x.name);
  if (s.length) missing.push(`slash commands: ${s.join(', ')}`);
  if (missing.length) lines.push('  never seen:', ...missing.map((x) => `    ${x}`));
  return lines.join('\n');
}
