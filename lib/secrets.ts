// Values that must never be shown: `${env.NAME}` values, `--secret-var` values, Authorization
// headers and basic-auth credentials. Everything printed or written passes through `redact`.

export class Secrets {
  private values: string[] = [];

  add(value: unknown): void {
    if (typeof value !== 'string' || value.length < 3 || this.values.includes(value)) return;
    this.values.push(value);
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

  get size(): number {
    return this.values.length;
  }

  redact = (text: string): string => {
    let out = text;
    for (const s of this.values) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  };

  redactDeep<T>(v: T): T {
    if (this.values.length === 0) return v;
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
