import type { PictureFormat } from './picture.js';

/** How many leading bytes {@link detectFormat} needs to tell every supported format apart. */
export const MAGIC_LENGTH = 12;

/**
 * Tells JPEG, PNG and WebP apart by their magic numbers. The extension of a file is not
 * trusted: a user may drop a PNG named `.jpg`, and a truncated download may carry any name.
 * Returns undefined for anything else (including too few bytes).
 */
export function detectFormat(head: Uint8Array): PictureFormat | undefined {
  // JPEG: SOI marker FF D8 followed by the first segment's FF.
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  // PNG: the fixed 8-byte signature.
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (head.length >= 8 && png.every((byte, i) => head[i] === byte)) return 'png';
  // WebP: a RIFF container ("RIFF", 4 size bytes, "WEBP").
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** The extension an original of this format is saved with. */
export function extensionFor(format: PictureFormat): string {
  return format === 'jpeg' ? 'jpg' : format;
}

/** Extensions recognised as pictures when indexing (lower-case, without the dot). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['jpg', 'jpeg', 'png', 'webp']);

/** The first bytes as hex, for error messages about unknown formats. */
export function describeHead(head: Uint8Array, count = 8): string {
  return Array.from(head.subarray(0, count), (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}
