import { open } from 'node:fs/promises';
import type { Context } from 'koa';
import type { PictureFormat } from '../../library/picture.js';
import { HttpError } from '../http-error.js';

/** The media type of each stored format (originals, generation previews). */
export const IMAGE_CONTENT_TYPES: Readonly<Record<PictureFormat, string>> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** Names, and with them the bytes behind them, never change: a year, and no revalidation. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** For bytes that may change under the same URL (a frame render after new screen settings). */
export const REVALIDATE = 'no-cache';

export interface ImageResponse {
  /** Where the file is; made on demand (a render), so a 304 makes nothing. */
  readonly path: string | (() => Promise<string>);
  readonly contentType: string;
  /** A strong validator for these exact bytes. */
  readonly etag: string;
  readonly cacheControl: string;
}

/**
 * Answers with an image file: 304 when the client's copy matches, else the file streamed
 * with its length. The file is opened before answering, so a file deleted meanwhile is a
 * clean 404 instead of a response broken half-way.
 */
export async function sendImage(ctx: Context, image: ImageResponse): Promise<void> {
  ctx.set('ETag', `"${image.etag}"`);
  ctx.set('Cache-Control', image.cacheControl);
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  const path = typeof image.path === 'string' ? image.path : await image.path();
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(404, 'NotFound', 'The picture is gone');
    throw error;
  }
  const { size } = await handle.stat();
  ctx.set('Content-Type', image.contentType);
  ctx.length = size;
  // The stream owns the handle from here and closes it when done or destroyed.
  ctx.body = handle.createReadStream();
}
