import type { MetricsSnapshot } from './metrics.js';

/**
 * The periodic log line, e.g.
 * `summary: 1204 requests, 3 errors, 388 images sent since start; generations today:
 * offline 2 (2 ok, 0 failed), yandex-art 5 (4 ok, 1 failed); library 57 pictures`.
 * "Today" comes from the ledger, so it survives restarts; the rest counts since start.
 */
export function formatSummaryLine(snapshot: MetricsSnapshot): string {
  const { totals } = snapshot;
  const providers =
    snapshot.providers.length === 0
      ? 'none configured'
      : snapshot.providers
          .map(({ status, today }) => `${status.id} ${today.calls} (${today.successes} ok, ${today.failures} failed)`)
          .join(', ');
  return (
    `summary: ${totals.requests} requests, ${totals.errors} errors, ${totals.imagesSent} images sent since start; ` +
    `generations today: ${providers}; library ${snapshot.libraryPictures} pictures`
  );
}
