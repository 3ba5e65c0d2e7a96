import { basename } from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { ImageLibrary } from '../../library/image-library.js';
import type { PictureMeta } from '../../library/picture.js';
import type { RenderCache } from '../../render/render-cache.js';
import type { ThumbnailCache } from '../../render/thumbnail-cache.js';
import { badRequest } from '../http-error.js';
import { requireAdminToken, type TokenCheck } from '../access/token-check.js';
import { IMAGE_CONTENT_TYPES, IMMUTABLE, REVALIDATE, sendImage } from './image-response.js';
import { decodeCursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageAfter } from './picture-page.js';
import { presentPicture } from './presenters.js';
import { notFound, pictureNameParam, queryInteger } from './route-params.js';
import { UnreadablePictures } from './unreadable-pictures.js';

export interface PictureRoutesOptions {
  readonly library: ImageLibrary;
  readonly renders: RenderCache;
  readonly thumbnails: ThumbnailCache;
  readonly tokenCheck: TokenCheck;
}

/** `/api/pictures`: the library, newest first, and each picture's bytes in three sizes. */
export function registerPictureRoutes(router: Router, { library, renders, thumbnails, tokenCheck }: PictureRoutesOptions): void {
  // Renders of another frame profile live in another folder: the folder name tells them apart.
  const profile = basename(renders.dir);
  const unreadable = new UnreadablePictures();
  library.onRemoved((name) => unreadable.forget(name));
  const find = (raw: string | undefined): PictureMeta => {
    const meta = library.get(pictureNameParam(raw));
    if (meta === undefined) throw notFound('No stored picture has this name');
    return meta;
  };

  router.get('/pictures', (ctx) => {
    const limit = queryInteger(ctx.query.limit, 'limit', 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
    const rawCursor = ctx.query.cursor;
    let after;
    if (rawCursor !== undefined && rawCursor !== '') {
      after = decodeCursor(Array.isArray(rawCursor) ? (rawCursor[0] ?? '') : rawCursor);
      if (after === undefined) throw badRequest('Invalid request: cursor: expected the "next" value of an earlier page');
    }
    const all = library.list(); // one snapshot for the page and the total
    const page = pageAfter(all, after, limit);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { pictures: page.pictures.map(presentPicture), next: page.next, total: all.length };
  });

  router.get('/pictures/:name', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { picture: presentPicture(find(ctx.params.name)) };
  });

  router.get('/pictures/:name/original', async (ctx) => {
    const meta = find(ctx.params.name);
    await sendImage(ctx, {
      path: library.originalPath(meta.name),
      contentType: IMAGE_CONTENT_TYPES[meta.format],
      etag: `original-${meta.name}`,
      cacheControl: IMMUTABLE,
    });
  });

  /** A JPEG made from the original on demand; an original that does not decode is a clear 422. */
  const sendMade = (ctx: Context, name: string, etag: string, cacheControl: string, make: (originalPath: string) => Promise<string>): Promise<void> => {
    const originalPath = library.originalPath(name);
    return sendImage(ctx, { path: () => unreadable.guard(name, originalPath, () => make(originalPath)), contentType: 'image/jpeg', etag, cacheControl });
  };

  router.get('/pictures/:name/frame', (ctx) => {
    const { name } = find(ctx.params.name);
    // Not immutable: new screen settings make a new render under the same URL.
    return sendMade(ctx, name, `frame-${profile}-${name}`, REVALIDATE, (originalPath) => renders.ensure(name, originalPath));
  });

  router.get('/pictures/:name/thumbnail', (ctx) => {
    const { name } = find(ctx.params.name);
    return sendMade(ctx, name, `thumbnail-${name}`, IMMUTABLE, (originalPath) => thumbnails.ensure(name, originalPath));
  });

  router.delete('/pictures/:name', requireAdminToken(tokenCheck), async (ctx) => {
    const name = pictureNameParam(ctx.params.name);
    if (!(await library.remove(name))) throw notFound('No stored picture has this name');
    // The library's removal listeners delete these too, in the background; awaited here so
    // that 204 means every file of the picture is gone.
    await Promise.all([renders.remove(name), thumbnails.remove(name)]);
    ctx.status = 204;
  });
}
