import type { Context, Middleware } from 'koa';

/** One finished (or abandoned) HTTP request, labelled for counting. */
export interface CountedRequest {
  /** The matched router path (`/operation/result/:id`), or `unmatched`. Never the raw URL. */
  readonly route: string;
  /** An upper-case method from a fixed list, or `OTHER`. */
  readonly method: string;
  /** The status code sent, as text; `aborted` when the client left before the response ended. */
  readonly status: string;
}

export const UNMATCHED_ROUTE = 'unmatched';
export const ABORTED_STATUS = 'aborted';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** What @koa/router leaves on the context once a route with methods matched. */
interface MatchedRouteContext {
  _matchedRoute?: string | RegExp;
}

/**
 * Counts every request once, with the status the client really got. It listens on the
 * response instead of reading `ctx.status` after `next()`: the frame's result route sets
 * `ctx.respond = false` and writes to `ctx.res` itself, and error bodies are set by the error
 * middleware further out, so only the response knows the final status. Place it first.
 */
export function httpRequestCounter(count: (request: CountedRequest) => void): Middleware {
  return async (ctx, next) => {
    const response = ctx.res;
    let counted = false;
    const finish = (status: string): void => {
      if (counted) return;
      counted = true;
      response.off('finish', onFinish);
      response.off('close', onClose);
      count({ route: routeLabel(ctx), method: methodLabel(ctx.method), status });
    };
    const onFinish = (): void => finish(String(response.statusCode));
    // 'close' follows 'finish' on a completed response; alone, it means the client went away.
    const onClose = (): void => finish(response.writableFinished ? String(response.statusCode) : ABORTED_STATUS);
    response.on('finish', onFinish);
    response.on('close', onClose);
    await next();
  };
}

function routeLabel(ctx: Context): string {
  const matched = (ctx as Context & MatchedRouteContext)._matchedRoute;
  if (matched === undefined) return UNMATCHED_ROUTE;
  return typeof matched === 'string' ? matched : String(matched);
}

/** Methods outside a fixed list share one label, so a scanner cannot grow the series. */
function methodLabel(method: string): string {
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : 'OTHER';
}
