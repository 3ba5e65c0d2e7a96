import Koa, { type Middleware } from 'koa';
import type Router from '@koa/router';
import type { Logger } from '../util/logger.js';
import { refuseCrossSiteWrites } from './access/cross-site-writes.js';
import { errorMiddleware } from './error-middleware.js';
import { HttpError } from './http-error.js';

export interface AppOptions {
  readonly logger: Logger;
  readonly routers: readonly Router[];
  /**
   * Middleware run in this order before the error middleware: a guard that refuses a request
   * before any other code sees it and answers on its own (allowed_networks), then those that
   * must see every request, whatever its outcome (request metrics).
   */
  readonly before?: readonly Middleware[];
}

/**
 * The Koa app: one error middleware first, then the refusal of cross-site writes (for every
 * app: the frame's routes take no token), then the routers. No global app object.
 */
export function createApp({ logger, routers, before = [] }: AppOptions): Koa {
  const app = new Koa();
  app.silent = true; // errors are logged once, by errorMiddleware
  for (const middleware of before) app.use(middleware);
  app.use(errorMiddleware(logger));
  app.use(refuseCrossSiteWrites);
  app.use(emptyAnswersInUpstreamShape);
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: false }));
  }
  return app;
}

/** No route, or a route without this method: still the upstream error body, not an empty one. */
const emptyAnswersInUpstreamShape: Middleware = async (ctx, next) => {
  await next();
  if (ctx.respond === false || ctx.body !== undefined) return;
  if (ctx.status === 404) throw new HttpError(404, 'NotFound', `No route for ${ctx.method} ${ctx.path.slice(0, 200)}`);
  if (ctx.status === 405) throw new HttpError(405, 'MethodNotAllowed', `${ctx.method} is not allowed here`);
};
