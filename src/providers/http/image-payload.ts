import { detectFormat } from '../../library/detect-format.js';
import type { PictureFormat } from '../../library/picture.js';
import { ProviderError } from '../types.js';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Decodes an image a generator sent as base64: with or without a `data:image/...;base64,`
 * prefix (Fooocus-API sends one), standard or URL-safe alphabet, wrapped lines allowed.
 * Corrupt text or bytes that are no JPEG/PNG/WebP are a {@link ProviderError}, never a
 * broken file in the library.
 */
export function decodeBase64Image(text: unknown, what = 'image'): { bytes: Buffer; format: PictureFormat } {
  if (typeof text !== 'string' || text.length === 0) throw new ProviderError(`the ${what} is missing from the answer`);
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  const payload = (comma >= 0 ? text.slice(comma + 1) : text).replace(/\s+/g, '');
  if (payload.length === 0 || !BASE64.test(payload)) throw new ProviderError(`the ${what} is not valid base64`);
  return imageFromBytes(Buffer.from(payload, payload.includes('-') || payload.includes('_') ? 'base64url' : 'base64'), what);
}

/** Checks that bytes are a picture the library keeps (JPEG, PNG, WebP). */
export function imageFromBytes(bytes: Buffer, what = 'image'): { bytes: Buffer; format: PictureFormat } {
  const format = detectFormat(bytes.subarray(0, 12));
  if (format === undefined) throw new ProviderError(`the ${what} is not a JPEG, PNG or WebP picture (${bytes.length} bytes)`);
  return { bytes, format };
}
