// The connect step's YAML form and label (its run code: steps/connect.ts).
import { z } from 'zod';
import { Duration, Matcher } from '../../lib/gates/common-schema.ts';
import { defineStepSchema } from '../../lib/gates/step-schema.ts';

export const ConnectParams = z
  .strictObject({
    name: z.string().optional().describe('Connection name (default: main)'),
    url: z.string().optional().describe('Default: ${URL}'),
    headers: z.record(z.string(), z.string()).optional(),
    subprotocols: z.array(z.string()).optional().describe('Subprotocols offered in the handshake'),
    expectSubprotocol: Matcher.optional().describe('The subprotocol the server must choose ("" for none)'),
    origin: z.string().optional(),
    auth: z.string().optional().describe('user:password for HTTP basic auth'),
    insecure: z.boolean().optional().describe('Do not verify TLS certificates'),
    ca: z.string().optional().describe('CA certificate file (PEM); a relative path is relative to the gates file'),
    followRedirects: z.boolean().optional(),
    count: z.number().int().min(1).max(1000).optional().describe('Open this many connections at once, as one group'),
    refused: z
      .union([
        z.literal(true),
        z.strictObject({
          status: Matcher.optional().describe('HTTP status of a refused upgrade (e.g. 401)'),
          code: Matcher.optional().describe(
            'WebSocket close code of a close during or right after the handshake (e.g. 4406)',
          ),
          reason: Matcher.optional().describe('Close reason of that close'),
        }),
      ])
      .optional()
      .describe(
        'The server must refuse this connection: an HTTP status instead of the upgrade, a close during or right after the handshake, or (with subprotocols:) a 101 that chooses none of them',
      ),
  })
  .refine((c) => c.refused === undefined || c.expectSubprotocol === undefined, {
    message: 'refused and expectSubprotocol exclude each other: a refused connection has no subprotocol to check',
    path: ['expectSubprotocol'],
  });

export const connectSchema = defineStepSchema({
  schema: z.strictObject({
    connect: z.union([z.string().describe('Connection name'), ConnectParams]),
    within: Duration.optional().describe('Deadline for the socket to open'),
    name: z.string().optional(),
  }),
  label: (p) => {
    const c = typeof p.connect === 'string' ? { name: p.connect } : p.connect;
    return `connect ${c.name ?? 'main'}${'count' in c && c.count ? ` ×${c.count}` : ''}`;
  },
});
