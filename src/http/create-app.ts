import Koa from 'koa';
import type Router from '@koa/router';
import type { Logger } from '../util/logger.js';
import { errorMiddleware } from './error-middleware.js';
import { HttpError } from './http-error.js';

export interface AppOptions {
  readonly logger: Logger;
  readonly routers: readonly Router[];
}

/** The Koa app: one error middleware first, then the routers. No global app object. */
export function createApp({ logger, routers }: AppOptions): Koa {
  const app = new Koa();
  app.silent = true; // errors are logged once, by errorMiddleware
  app.use(errorMiddleware(logger));
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: false }));
  }
  app.use((ctx) => {
    if (ctx.body === undefined && ctx.status === 404) {
      throw new HttpError(404, 'NotFound', `No route for ${ctx.method} ${ctx.path.slice(0, 200)}`);
    }
  });
  return app;
}
