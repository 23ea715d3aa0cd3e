// Time to verdict: how long the default gates take to say "no" about servers that are broken in the ways
// issue reports measured (a refused port, a port that never upgrades, a server that upgrades and then
// says nothing, a server that never starts a session, one whose tool events never reach the socket),
// and to say "yes" about a healthy one. Each is a real process or socket on 127.0.0.1; runs are serial.
// Runnable alone: node --import tsx bench/verdict.ts [--reps N]
import net from 'node:net';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { WebSocketServer } from 'ws';
import { startReferenceServer } from '../reference-server/index.ts';
import { ensureTmp, stats, timed, TMP, type Stats } from './common.ts';

export interface VerdictRow {
  server: string;
  exit: number | null;
  wallMs: Stats;
  gates: string;
}

interface Target {
  url?: string;
  close(): Promise<void>;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

/** Each target is made for one run; `project` is the run's PATH and a reference server's root. */
const targets: Record<string, (project: string) => Promise<Target>> = {
  healthy: async () => ({ close: async () => undefined }),
  'refused port': async () => {
    const s = net.createServer();
    const port = await listen(s);
    await new Promise<void>((r) => s.close(() => r()));
    return { url: `ws://127.0.0.1:${port}/ws`, close: async () => undefined };
  },
  'accepts TCP, never upgrades': async () => {
    const sockets = new Set<net.Socket>();
    const s = net.createServer((c) => (sockets.add(c), c.on('error', () => undefined)));
    const port = await listen(s);
    return {
      url: `ws://127.0.0.1:${port}/ws`,
      close: async () => (sockets.forEach((c) => c.destroy()), await new Promise<void>((r) => s.close(() => r()))),
    };
  },
  'upgrades, then never answers': async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    return {
      url: `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/ws`,
      close: async () => (
        wss.clients.forEach((c) => c.terminate()), await new Promise<void>((r) => wss.close(() => r()))
      ),
    };
  },
  'serve --fault no-session': async (project) => {
    const s = await startReferenceServer({
      host: '127.0.0.1',
      port: 0,
      root: project,
      dataDir: ensureTmp('verdict-data'),
      faults: ['no-session'],
    });
    return { url: s.url, close: () => s.close() };
  },
  'serve --fault no-tool-events': async (project) => {
    const s = await startReferenceServer({
      host: '127.0.0.1',
      port: 0,
      root: project,
      dataDir: ensureTmp('verdict-data'),
      faults: ['no-tool-events'],
    });
    return { url: s.url, close: () => s.close() };
  },
};

/** Every server above, `reps` runs each; the default gates with default deadlines and budgets. */
export async function timeToVerdict(reps: number): Promise<VerdictRow[]> {
  const rows: VerdictRow[] = [];
  for (const [name, make] of Object.entries(targets)) {
    const walls: number[] = [];
    let exit: number | null = null;
    let gates = '';
    for (let i = 0; i < reps; i++) {
      // PATH outside any repository: under bench/tmp/ it would be a subfolder of wsgate's own checkout,
      // which the harness refuses (and whose git the server's tools must never touch).
      const project = mkdtempSync(path.join(os.tmpdir(), 'wsgate-verdict-'));
      const t = await make(project);
      const out = path.join(TMP, 'runs', `verdict-${i}`);
      try {
        const args = t.url ? [t.url, project] : [];
        const r = await timed('./scripts/test-websocket.sh', [...args, '--quiet', '--out', out]);
        walls.push(r.wallMs);
        exit = r.code;
        const summary = /(\d+ gates: [^·]+)/.exec(r.stdout)?.[1]?.trim() ?? '';
        gates = summary;
      } finally {
        await t.close();
        rmSync(out, { recursive: true, force: true });
        rmSync(project, { recursive: true, force: true });
      }
    }
    rows.push({ server: name, exit, wallMs: stats(walls), gates });
  }
  return rows;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const reps = Number(process.argv[process.argv.indexOf('--reps') + 1] || 0) || 3;
  for (const r of await timeToVerdict(reps))
    process.stdout.write(
      `${r.server.padEnd(32)} exit ${r.exit}  median ${(r.wallMs.median / 1000).toFixed(2)} s (min ${(r.wallMs.min / 1000).toFixed(2)} s)  ${r.gates}\n`,
    );
}
