import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { HttpError } from '../http-error.js';

/** Compares a presented token with the admin token in constant time. */
export type TokenCheck = (presented: string) => boolean;

export function createTokenCheck(token: string): TokenCheck {
  // Hashes first: timingSafeEqual needs equal lengths, and comparing digests leaks neither
  // the token's length nor how much of a guess was right.
  const expected = digest(token);
  return (presented) => timingSafeEqual(digest(presented), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Route middleware for everything that spends money, deletes or changes settings: the
 * request must carry `Authorization: Bearer <admin token>`. Runs before the body is read,
 * so a client without the token learns nothing else. The presented value is never logged.
 */
export function requireAdminToken(check: TokenCheck): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('Authorization');
    const presented = BEARER.exec(header)?.[1];
    if (presented === undefined) {
      ctx.set('WWW-Authenticate', 'Bearer realm="aiframe-server"');
      throw new HttpError(401, 'Unauthorized', 'An admin token is required: send Authorization: Bearer <token>');
    }
    if (!check(presented)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="aiframe-server", error="invalid_token"');
      throw new HttpError(401, 'Unauthorized', 'The admin token is wrong');
    }
    await next();
  };
}
