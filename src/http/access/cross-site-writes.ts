import type { Middleware } from 'koa';
import { HttpError } from '../http-error.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses writes that a browser makes on behalf of another site. The frame's own routes
 * (`POST /operation/start`, `/prompt/add`) take no token, since the firmware cannot send
 * one, so any web page opened on the home Wi-Fi could otherwise post to them: a cross-site
 * POST with a text/plain body needs no CORS preflight, and the body is read as JSON
 * whatever its type. Browsers mark every such request with an `Origin` header; the frame,
 * curl, Home Assistant and Shortcuts send none, and the page's own requests carry this
 * server's origin.
 *
 * A request with an `Authorization` header passes: a browser sends that header across
 * sites only after a preflight this server never grants, and the token check follows.
 * So does an origin naming `X-Forwarded-Host` (a reverse proxy in front), a header that a
 * cross-site request cannot set without a preflight either.
 */
// Not async: on the frame's requests (no Origin) it only hands on next()'s promise.
export const refuseCrossSiteWrites: Middleware = (ctx, next) => {
  const origin = ctx.get('Origin');
  if (origin === '' || SAFE_METHODS.has(ctx.method) || ctx.get('Authorization') !== '' || sameSite(origin, ctx.get('Host'), ctx.get('X-Forwarded-Host'))) {
    return next();
  }
  throw new HttpError(
    403,
    'Forbidden',
    'Requests from a page on another site may not change anything here',
    `Origin ${origin.slice(0, 200)} is not this server`,
  );
};

function sameSite(origin: string, host: string, forwardedHost: string): boolean {
  let originHost: string;
  try {
    // `null` (a sandboxed or file: page) does not parse: never this server.
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  const forwarded = forwardedHost.split(',')[0]?.trim().toLowerCase() ?? '';
  return originHost === host.toLowerCase() || (forwarded !== '' && originHost === forwarded);
}
