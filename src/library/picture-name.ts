import { randomBytes } from 'node:crypto';

/**
 * Picture names: `YYYYMMDD-HHMMSS-mmm-<provider>-<6 hex>` in UTC, so names are file-name
 * safe on every OS and sort by creation time as plain strings.
 */

const MAX_PROVIDER_LENGTH = 32;

/**
 * What any picture name can be (ours, and adopted files' stems): nothing that could escape a
 * folder. Every path built from a name (originals, renders, thumbnails, URLs) checks it.
 */
export const PICTURE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Lower-cases a provider id and keeps only `[a-z0-9_-]`, so it is safe inside a file name. */
export function sanitizeProvider(provider: string): string {
  const cleaned = provider
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_PROVIDER_LENGTH);
  return cleaned === '' ? 'unknown' : cleaned;
}

/** Builds a picture name for an instant, a provider id and a 6-hex-digit random suffix. */
export function pictureName(at: Date, provider: string, suffix: string): string {
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  const date = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`;
  const time = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `${date}-${time}-${pad(at.getUTCMilliseconds(), 3)}-${sanitizeProvider(provider)}-${suffix}`;
}

/**
 * Six random hex digits. Taken from crypto rather than the library's injected `random`:
 * a test that pins `random` to a constant must still get distinct names.
 */
export function randomSuffix(): string {
  return randomBytes(3).toString('hex');
}
