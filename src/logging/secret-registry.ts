/**
 * Secrets (API keys, tokens) the process knows. Providers register theirs when they read
 * them; the logger replaces every occurrence before a line is written, so a key pasted into
 * an error message by a remote server or a library still never reaches the log.
 */
export class SecretRegistry {
  private readonly values = new Set<string>();

  add(secret: string | undefined): void {
    // Very short values would redact ordinary words; real keys are long.
    if (secret !== undefined && secret.length >= 6) this.values.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.values) {
      if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  get size(): number {
    return this.values.size;
  }
}

/** Redacts a winston info object in place (message and every string inside its metadata). */
export function redactSecrets<T extends Record<PropertyKey, unknown>>(info: T, secrets: SecretRegistry): T {
  if (secrets.size === 0) return info;
  for (const key of Object.keys(info)) {
    info[key as keyof T] = redactValue(info[key], secrets, 0) as T[keyof T];
  }
  return info;
}

function redactValue(value: unknown, secrets: SecretRegistry, depth: number): unknown {
  if (typeof value === 'string') return secrets.redact(value);
  if (value instanceof Error) return secrets.redact(value.stack ?? value.message);
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) copy[key] = redactValue(inner, secrets, depth + 1);
  return copy;
}
