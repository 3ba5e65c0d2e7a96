import Router from '@koa/router';
import { registerGenerationRoutes, type GenerationRoutesOptions } from './generation-routes.js';
import { registerOverviewRoutes, type OverviewRoutesOptions } from './overview-routes.js';
import { registerPictureRoutes, type PictureRoutesOptions } from './picture-routes.js';
import { registerPromptRoutes, type PromptRoutesOptions } from './prompt-routes.js';

/** What the four route groups need, each documented where it is used. */
export type ApiRoutesOptions = OverviewRoutesOptions & PromptRoutesOptions & PictureRoutesOptions & GenerationRoutesOptions;

/**
 * The JSON API under `/api/` for the web page and other tools (Home Assistant, Shortcuts).
 * Reads are open to every allowed network; whatever spends money, deletes or changes
 * settings needs the admin token. Thin routes: each calls the module that owns the work.
 */
export function apiRoutes(options: ApiRoutesOptions): Router {
  const router = new Router({ prefix: '/api' });
  registerOverviewRoutes(router, options);
  registerPromptRoutes(router, options);
  registerPictureRoutes(router, options);
  registerGenerationRoutes(router, options);
  return router;
}
