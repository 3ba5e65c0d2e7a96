import type { Middleware } from 'koa';
import type { Logger } from '../util/logger.js';
import { errorBody, HttpError } from './http-error.js';

/**
 * First in the chain: every error becomes the upstream error shape, logged once here.
 * Errors from body parsing (raw-body) carry a status and a type; anything else is a 500
 * whose details stay in the log.
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const error = toHttpError(caught);
      const where = `${ctx.method} ${truncate(ctx.path, 120)}`;
      if (error.quiet) {
        // Logged the first time; repeating it on every request would only fill the log.
      } else if (error.expose) {
        logger.warn(`${error.status} ${where}: ${error.message}`, error.devMessage ? { detail: error.devMessage } : undefined);
      } else {
        logger.error(`${error.status} ${where}: ${(caught as Error)?.message ?? String(caught)}`, {
          stack: (caught as Error)?.stack ?? '',
        });
      }
      ctx.status = error.status;
      // A route may have set the resource's validator and caching before it failed (an image
      // answer sets them first, for a 304): an error must never be cached as the resource.
      ctx.remove('ETag');
      ctx.remove('Last-Modified');
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Type', 'application/json');
      ctx.body = JSON.stringify(
        error.expose
          ? errorBody(error.code, error.message, error.devMessage)
          : errorBody('InternalError', 'Internal server error', ''),
      );
    }
  };
}

function toHttpError(caught: unknown): HttpError {
  if (caught instanceof HttpError) return caught;
  const candidate = caught as { status?: unknown; statusCode?: unknown; type?: unknown; message?: unknown; expose?: unknown };
  const status = typeof candidate?.status === 'number' ? candidate.status : typeof candidate?.statusCode === 'number' ? candidate.statusCode : 500;
  if (status === 413) return new HttpError(413, 'PayloadTooLarge', 'Request body is too large', String(candidate.message ?? ''));
  if (status >= 400 && status < 500 && candidate.expose !== false) {
    return new HttpError(status, status === 404 ? 'NotFound' : 'BadRequest', String(candidate.message ?? 'Bad request'));
  }
  return new HttpError(500, 'InternalError', 'Internal server error');
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}…(${text.length} chars)` : text;
}
