import type { Socket } from 'node:net';
import type { Middleware } from 'koa';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../util/logger.js';
import { errorBody } from '../http-error.js';
import { NetworkAllowlist } from './network-allowlist.js';

/**
 * The very first middleware: a client outside `allowed_networks` gets 403 before any other
 * code sees the request (no metrics, no routing, no body read). The address checked is the
 * socket's peer; X-Forwarded-For is never trusted, since any client can send it.
 */
export function allowedNetworks(networks: readonly string[], logger: Logger): Middleware {
  const allowlist = new NetworkAllowlist(networks);
  // A scanner knocking all day must not fill the log: one warning per address and day.
  const warned = new LRUCache<string, true>({ max: 1024, ttl: 24 * 60 * 60 * 1000 });
  // One verdict per connection: a frame fleet on keep-alive would otherwise parse the same
  // peer address on every request (a few microseconds each, on the hottest path).
  const verdicts = new WeakMap<Socket, boolean>();
  // Not async: an allowed request costs one WeakMap lookup and hands on next()'s promise.
  return (ctx, next) => {
    const socket = ctx.req.socket;
    let allowed = verdicts.get(socket);
    if (allowed === undefined) {
      allowed = allowlist.allows(socket.remoteAddress);
      verdicts.set(socket, allowed);
    }
    if (allowed) return next();
    const shown = socket.remoteAddress ?? 'unknown';
    if (!warned.has(shown)) {
      warned.set(shown, true);
      logger.warn(`refused a client outside allowed_networks: ${shown}`, { method: ctx.method, path: ctx.path.slice(0, 120) });
    }
    ctx.status = 403;
    ctx.set('Content-Type', 'application/json');
    ctx.set('Connection', 'close');
    ctx.body = JSON.stringify(
      errorBody('Forbidden', 'This server does not accept requests from your network', `${shown} is outside allowed_networks in options.yml`),
    );
  };
}
