import Router from '@koa/router';
import type { Context } from 'koa';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError } from './http-error.js';
import { setPageSecurityHeaders } from './security-headers.js';

/**
 * `web/` at the repository root, found from this file's compiled place (`dist/src/http/`), so
 * it works from a clean clone (`npm start`) and in the Docker image alike.
 */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

export interface WebRoutesOptions {
  /** The folder holding the page's files (index.html, app.js...). */
  readonly webRoot: string;
}

/** Only these kinds are served: anything else in the folder (notes, editor backups) stays private. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page's files are small; anything bigger in the folder is not ours to serve. */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * The phone page: `web/` under `/ui/`, and `/` answers with the same page (the status page
 * lives at `/status`). Files carry an ETag and `Cache-Control: no-cache`, so a phone asks
 * again on every visit but gets a tiny 304 until the server is upgraded.
 */
export function webRoutes({ webRoot }: WebRoutesOptions): Router {
  const router = new Router();
  let realRoot: Promise<string> | undefined;
  const root = (): Promise<string> => {
    // Resolved once, lazily: a missing folder answers 404 per request instead of failing start-up.
    realRoot ??= realpath(webRoot).catch((error: unknown) => {
      realRoot = undefined;
      throw error;
    });
    return realRoot;
  };

  const serve = async (ctx: Context, segments: readonly string[]): Promise<void> => {
    let base: string;
    try {
      base = await root();
    } catch {
      throw new HttpError(404, 'NotFound', 'The web page files are missing on this server');
    }
    const contentType = CONTENT_TYPES[extname(segments.at(-1) ?? '').toLowerCase()];
    if (contentType === undefined) throw notFound(ctx);
    const wanted = resolve(base, ...segments);
    if (!inside(base, wanted)) throw notFound(ctx);
    let file: string;
    try {
      // A link inside the folder must not lead out of it either.
      file = await realpath(wanted);
    } catch {
      throw notFound(ctx);
    }
    if (!inside(base, file)) throw notFound(ctx);
    const info = await stat(file);
    if (!info.isFile() || info.size > MAX_FILE_BYTES) throw notFound(ctx);

    ctx.status = 200;
    ctx.set('ETag', `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`);
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (contentType.startsWith('text/html')) setPageSecurityHeaders(ctx);
    ctx.type = contentType;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    // Read whole (files are small): a HEAD request then leaves no open stream behind.
    ctx.body = await readFile(file);
  };

  router.get('/', (ctx) => serve(ctx, ['index.html']));
  // One route for both: the router's loose trailing-slash matching sends `/ui/` to a `/ui` route too.
  router.get(['/ui', '/ui/{*path}'], async (ctx) => {
    if (ctx.path === '/ui') {
      ctx.status = 301;
      ctx.redirect('/ui/');
      return;
    }
    await serve(ctx, pathSegments(ctx.path.slice('/ui/'.length)));
  });
  return router;
}

/**
 * The raw (still percent-encoded) path below `/ui/`, as safe segments. Encoded dots and
 * slashes are decoded before checking, so `%2e%2e%2f` is caught like `../`; dot-files,
 * empty segments and backslashes are refused outright.
 */
function pathSegments(raw: string): string[] {
  if (raw === '') return ['index.html'];
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'BadRequest', 'Malformed path');
  }
  const segments = decoded.split('/');
  const unsafe = decoded.includes('\\') || decoded.includes('\0') || segments.some((segment) => segment === '' || segment.startsWith('.'));
  if (unsafe) throw new HttpError(404, 'NotFound', 'No such file');
  return segments;
}

function inside(base: string, candidate: string): boolean {
  return candidate.startsWith(base.endsWith(sep) ? base : base + sep);
}

function notFound(ctx: Context): HttpError {
  return new HttpError(404, 'NotFound', `No such file: ${ctx.path.slice(0, 200)}`);
}
