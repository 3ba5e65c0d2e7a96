import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppMetrics } from '../metrics/metrics.js';
import { renderStatusPage, STATUS_PAGE_STYLE_HASH } from '../metrics/status-page.js';
import { buildStatusReport, uptimeSeconds } from '../metrics/status-report.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { NoticeBoard } from '../util/notice-board.js';
import { setPageSecurityHeaders } from './security-headers.js';

export interface StatusRoutesOptions {
  /** Owns the registry, the totals and the sources (library size, provider states, ledger). */
  readonly metrics: AppMetrics;
  readonly version: string;
  readonly startedAt: Date;
  readonly clock?: Clock;
  /** Problems shown on the page and in status.json. */
  readonly notices?: NoticeBoard;
}

/**
 * Prometheus metrics, the health check, and the status page (HTML and JSON). Nothing here
 * touches the disk: Docker's HEALTHCHECK calls `/healthz` every 30 s and scrapers poll
 * `/metrics`, so both must stay cheap.
 */
export function statusRoutes({ metrics, version, startedAt, clock = systemClock, notices }: StatusRoutesOptions): Router {
  const router = new Router();
  const report = (): ReturnType<typeof buildStatusReport> =>
    buildStatusReport(metrics.snapshot(), { version, startedAt, now: clock.now(), notices: notices?.list() ?? [] });

  router.get('/metrics', async (ctx) => {
    const text = await metrics.registry.metrics();
    noStore(ctx);
    ctx.set('Content-Type', metrics.registry.contentType);
    ctx.body = text;
  });

  router.get('/healthz', (ctx) => {
    noStore(ctx);
    ctx.body = { status: 'ok', uptime_seconds: uptimeSeconds(startedAt, clock.now()), pictures: metrics.libraryPictures() };
  });

  const page = (ctx: Context): void => {
    noStore(ctx);
    // The phone page's headers, with the page's own inline style allowed by its hash.
    setPageSecurityHeaders(ctx, { inlineStyleHashes: [STATUS_PAGE_STYLE_HASH] });
    ctx.set('Content-Type', 'text/html; charset=utf-8');
    ctx.body = renderStatusPage(report(), clock.now());
  };
  // `/` is the phone page (web-routes.ts); this page stays at `/status`.
  router.get('/status', page);

  router.get('/status.json', (ctx) => {
    noStore(ctx);
    ctx.body = report();
  });

  return router;
}

/** Live numbers: never served from a cache. */
function noStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
}
