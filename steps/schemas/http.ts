// The http step's YAML form, label and load-time checks (its run code: steps/http.ts).
import { z } from 'zod';
import { Budget, Captures, Duration, FieldMatchers, Matcher } from '../../lib/gates/common-schema.ts';
import { defineStepSchema } from '../../lib/gates/step-schema.ts';

const Request = z.strictObject({
  method: z.string().optional(),
  url: z.string(),
  headers: z.record(z.string(), z.string()).optional(),
  json: z.unknown().optional().describe('A JSON body'),
  body: z.string().optional().describe('A raw body'),
});

export function parseRequestLine(line: string): { method: string; url: string } {
  const m = /^\s*(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(\S+)\s*$/i.exec(line);
  return m ? { method: m[1]!.toUpperCase(), url: m[2]! } : { method: 'GET', url: line.trim() };
}

export const httpSchema = defineStepSchema({
  schema: z.strictObject({
    http: z.union([z.string().describe('"METHOD URL" or a URL'), Request]),
    status: Matcher.optional().describe('Default: 200-299'),
    json: FieldMatchers.optional().describe('Field matchers on the JSON response body'),
    body: Matcher.optional(),
    capture: Captures.optional().describe(
      'Variable name to field path; a path ending in `?` is optional: taken only when the field is present and the variable is not already set (e.g. by --var)',
    ),
    within: Duration.optional(),
    budget: Budget.optional(),
    name: z.string().optional(),
  }),
  // A request body is one of two: the JSON one, or raw text.
  loadProblems: (p) =>
    typeof p.http !== 'string' && p.http.json !== undefined && p.http.body !== undefined
      ? [
          {
            path: ['http', 'body'],
            atKey: true,
            title: 'the request has both json and body; only json would be sent (body dropped)',
            hint: 'keep `json:` to send JSON (content-type application/json), or `body:` to send raw text; not both',
          },
        ]
      : [],
  label: (p) => {
    const r =
      typeof p.http === 'string' ? parseRequestLine(p.http) : { method: p.http.method ?? 'GET', url: p.http.url };
    return `http ${r.method} ${r.url}`;
  },
});
