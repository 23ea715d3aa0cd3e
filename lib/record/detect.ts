// Which shipped protocol a recorded session spoke, read from the client's first frames, when only
// one fits: tRPC's calls (`method` query/mutation/subscription with `params.path`), JSON-RPC's
// `jsonrpc: "2.0"`, graphql-ws's `connection_init`, OCPP-J's `[2, id, action, payload]` arrays. The
// agent-backend protocol is not guessed: without a protocol record reads kinds from `type`, as always.
import type { RecEvent } from './recording.ts';

const TRPC_METHODS = new Set(['query', 'mutation', 'subscription', 'subscription.stop', 'connectionParams']);

type Frame = unknown;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const FITS: [string, (frames: Frame[]) => boolean][] = [
  [
    'wsgate:trpc',
    (fs) =>
      fs.every((f) => isObject(f) && typeof f.method === 'string' && TRPC_METHODS.has(f.method)) &&
      fs.some((f) => isObject(f) && isObject(f.params) && typeof f.params.path === 'string'),
  ],
  [
    'wsgate:jsonrpc',
    (fs) =>
      fs.every((f) => isObject(f) && f.jsonrpc === '2.0') &&
      !fs.some(
        (f) =>
          isObject(f) && isObject(f.params) && typeof f.params.path === 'string' && TRPC_METHODS.has(String(f.method)),
      ),
  ],
  ['wsgate:graphql-transport-ws', (fs) => isObject(fs[0]) && fs[0].type === 'connection_init'],
  [
    'wsgate:ocpp1.6',
    (fs) => fs.every((f) => Array.isArray(f) && [2, 3, 4].includes(f[0] as number) && typeof f[1] === 'string'),
  ],
];

/** The shipped protocol (`wsgate:NAME`) the session's first client frames fit, when exactly one fits. */
export function detectProtocol(events: RecEvent[], look = 5): string | undefined {
  const frames: Frame[] = [];
  for (const e of events) {
    if (e.kind !== 'out') continue;
    try {
      frames.push(JSON.parse(e.text));
    } catch {
      continue;
    }
    if (frames.length >= look) break;
  }
  if (!frames.length) return undefined;
  const fit = FITS.filter(([, f]) => f(frames)).map(([name]) => name);
  return fit.length === 1 ? fit[0] : undefined;
}
