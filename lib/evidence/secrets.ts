// Values that must never be shown: `${env.NAME}` values, `--secret-var` values, Authorization
// headers, basic-auth credentials, and credentials inside URLs. Everything printed or written passes
// through `redact`. A secret is searched for in every form it takes on the way out, not only raw:
// frames are JSON, whose escapes are decoded before searching (each encoder escapes other characters),
// reports are HTML and XML, URLs are percent-encoded, headers base64.
// Independently of registered values, `user:pass@` in a URL and token-like query values
// (`?token=`, `access_token=`, `key=`, `password=`, ...) are masked wherever they appear.

import { quoteFor } from '../util/shell-words.ts';
import { escapeMarkup, unicodeEscape } from '../util/markup.ts';

/** Query parameters whose values are credentials. */
const TOKEN_PARAMS = [
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'auth_token',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'signature',
  'sig',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
];
const TOKEN_QUERY = new RegExp(
  `([?&;](?:${TOKEN_PARAMS.map((p) => p.replace(/-/g, '\\-')).join('|')})=)([^&#;\\s"'<>\\\\]+)`,
  'gi',
);
/** `scheme://userinfo@`: the password (or a lone token as user name) is masked, a user name kept. */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>\\]+)@/gi;

function maskUserinfo(_: string, scheme: string, info: string): string {
  const colon = info.indexOf(':');
  return colon < 0 ? `${scheme}***@` : `${scheme}${info.slice(0, colon)}:***@`;
}

const json = (s: string) => JSON.stringify(s).slice(1, -1);
const asciiJson = (s: string) => json(s).replace(/[\u0080-\uffff]/g, unicodeEscape);

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const JSON_ESCAPE = /\\(?:u[0-9a-fA-F]{4}|["\\/bfnrt])/g;

export interface DecodedText {
  decoded: string;
  /** Where decoded character k (or the end, k = decoded.length) starts in the text. */
  at(k: number): number;
}

/**
 * A text with its JSON string escapes decoded (`\/`, `\u002B`, `\u003c`, `\"` ...), mapping decoded
 * positions back to the text. Encoders differ in what they escape (PHP writes `/` as `\/`, .NET `+` as
 * `\u002B`, Go `<` as `\u003c`), so a secret is looked for in the decoded text rather than in a list
 * of encodings. One native replace per text; the map is kept per escape, not per character.
 */
export function decodeJsonEscapes(text: string): DecodedText | undefined {
  if (!text.includes('\\')) return undefined;
  const starts: number[] = [];
  const lengths: number[] = [];
  const decoded = text.replace(JSON_ESCAPE, (m: string, offset: number) => {
    starts.push(offset);
    lengths.push(m.length);
    return m.length === 6 ? String.fromCharCode(parseInt(m.slice(2), 16)) : SIMPLE_ESCAPES[m[1]!]!;
  });
  if (!starts.length) return undefined;
  // Decoded position of each escape, and how much shorter the text is before it.
  const decodedAt: number[] = [];
  const shiftBefore: number[] = [];
  let shift = 0;
  for (let j = 0; j < starts.length; j++) {
    decodedAt.push(starts[j]! - shift);
    shiftBefore.push(shift);
    shift += lengths[j]! - 1;
  }
  const at = (k: number): number => {
    // The escapes that start before decoded position k.
    let lo = 0;
    let hi = decodedAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (decodedAt[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? k : k + shiftBefore[lo - 1]! + lengths[lo - 1]! - 1;
  };
  return { decoded, at };
}

/** Every form a value can take in wsgate's output or on the wire. */
export function secretForms(value: string): string[] {
  const forms = new Set<string>([value]);
  for (const v of [value, json(value), json(json(value)), asciiJson(value)]) {
    forms.add(v);
    for (const m of [
      escapeMarkup(v, '"', "'"),
      escapeMarkup(v, '&quot;', '&#39;'),
      escapeMarkup(v, '&quot;', '&apos;'),
      escapeMarkup(v, '&#34;', '&#39;'),
    ]) {
      forms.add(m);
      // Markup inside JSON: an HTML fragment a server sends as a string field.
      forms.add(json(m));
    }
  }
  // As a shell command line carries it (run:/start: quote values; the line shows in check names).
  if (!value.includes('\0')) {
    forms.add(quoteFor('double', value));
    forms.add(quoteFor('single', value));
  }
  forms.add(encodeURIComponent(value));
  forms.add(encodeURIComponent(value).replace(/%20/g, '+'));
  forms.add(encodeURI(value));
  const b64 = Buffer.from(value).toString('base64');
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ''));
  forms.add(Buffer.from(value).toString('base64url'));
  return [...forms];
}

export class Secrets {
  private values: string[] = [];
  private seen = new Set<string>();
  /** The values as registered, looked for in JSON-decoded text. */
  private raw: string[] = [];

  add(value: unknown): void {
    if (typeof value !== 'string' || value.length < 3 || this.seen.has(value)) return;
    this.seen.add(value);
    this.raw.push(value);
    for (const f of secretForms(value)) if (f.length >= 3 && !this.values.includes(f)) this.values.push(f);
    // Longest first, so a secret containing another is replaced whole.
    this.values.sort((a, b) => b.length - a.length);
    // A basic-auth pair also travels base64-encoded.
    if (value.includes(':') && !value.includes(' ')) this.add(Buffer.from(value).toString('base64'));
  }

  /** Authorization-like headers: their values are secret whatever their source. */
  addHeaders(headers: Record<string, string> | undefined): void {
    for (const [k, v] of Object.entries(headers ?? {})) {
      if (/^(authorization|proxy-authorization|cookie|x-api-key)$/i.test(k)) {
        this.add(v);
        const token = /^\S+\s+(.+)$/.exec(v)?.[1];
        if (token) this.add(token);
      }
    }
  }

  /** A URL's password and token query values: secret wherever else they show up (a server echoing them). */
  addUrl(url: string | undefined): void {
    if (!url) return;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return;
    }
    if (u.password) {
      this.add(decodeURIComponent(u.password));
      // The pair travels as a basic-auth header; raw, the user name may stay visible.
      this.add(Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64'));
    } else if (u.username) this.add(decodeURIComponent(u.username));
    for (const [k, v] of u.searchParams) if (TOKEN_PARAMS.includes(k.toLowerCase())) this.add(v);
  }

  get size(): number {
    return this.values.length;
  }

  /**
   * Where secrets stand in `text` once its JSON escapes are decoded, `depth` times over (a frame inside
   * a transcript line is escaped twice), as [start, end) spans of `text`.
   */
  private escapedSpans(text: string, depth: number): [number, number][] {
    const d = decodeJsonEscapes(text);
    if (!d) return [];
    const spans: [number, number][] = [];
    for (const s of this.raw) {
      for (let k = d.decoded.indexOf(s); k >= 0; k = d.decoded.indexOf(s, k + s.length))
        spans.push([d.at(k), d.at(k + s.length)]);
    }
    if (depth > 1) for (const [a, b] of this.escapedSpans(d.decoded, depth - 1)) spans.push([d.at(a), d.at(b)]);
    return spans;
  }

  /** Masks secrets that stand in the text only in an escaped form no list of encodings has. */
  private redactEscaped(text: string): string {
    if (!this.raw.length) return text;
    const spans = this.escapedSpans(text, 3).sort((x, y) => x[0] - y[0]);
    if (!spans.length) return text;
    let out = '';
    let at = 0;
    for (const [a, b] of spans) {
      if (b <= at) continue;
      if (a >= at) out += text.slice(at, a) + '***';
      at = b;
    }
    return out + text.slice(at);
  }

  redact = (text: string): string => {
    let out = text;
    for (const s of this.values) if (out.includes(s)) out = out.split(s).join('***');
    out = this.redactEscaped(out);
    // Most frames hold neither character: the two patterns cost nothing on a fast stream.
    if (out.includes('@')) out = out.replace(URL_USERINFO, maskUserinfo);
    if (out.includes('=')) out = out.replace(TOKEN_QUERY, '$1***');
    return out;
  };

  redactDeep<T>(v: T): T {
    if (typeof v === 'string') return this.redact(v) as T;
    if (Array.isArray(v)) return v.map((x) => this.redactDeep(x)) as T;
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.redactDeep(x);
      return out as T;
    }
    return v;
  }
}
