import type { DayCounts } from '../operations/generation-ledger.js';
import type { Notice } from '../util/notice-board.js';
import type { MetricsSnapshot, ProviderTotals } from './metrics.js';

/**
 * What `/status.json` answers and the status page shows. Snake case like the rest of the
 * HTTP API; times as ISO 8601. Holds ids, display names, counts and a reason in words:
 * nothing secret.
 */
export interface StatusReport {
  readonly version: string;
  readonly started_at: string;
  readonly uptime_seconds: number;
  readonly library: { readonly pictures: number };
  readonly requests: { readonly total: number; readonly errors: number };
  readonly images_sent: { readonly total: number; readonly by_source: Readonly<Record<string, number>> };
  readonly providers: readonly ProviderStatusReport[];
  /** Problems the owner must read (the notice board), errors first. */
  readonly notices: readonly NoticeReport[];
}

export interface NoticeReport {
  readonly key: string;
  readonly level: Notice['level'];
  readonly message: string;
  readonly since: string;
}

export interface ProviderStatusReport {
  readonly id: string;
  readonly display_name: string;
  readonly ready: boolean;
  readonly reason?: string;
  readonly next_allowed_at?: string;
  readonly daily_limit?: number;
  /** Generations that ended since the process started. */
  readonly since_start: ProviderTotals;
  /** From the ledger: calls are counted when made, outcomes when they end. */
  readonly today: DayCounts;
  readonly yesterday: DayCounts;
}

export function buildStatusReport(snapshot: MetricsSnapshot, about: { version: string; startedAt: Date; now: Date; notices?: readonly Notice[] }): StatusReport {
  const { totals } = snapshot;
  return {
    version: about.version,
    started_at: about.startedAt.toISOString(),
    uptime_seconds: uptimeSeconds(about.startedAt, about.now),
    library: { pictures: snapshot.libraryPictures },
    requests: { total: totals.requests, errors: totals.errors },
    images_sent: { total: totals.imagesSent, by_source: { ...totals.imagesSentBySource } },
    providers: snapshot.providers.map(({ status, sinceStart, today, yesterday }) => ({
      id: status.id,
      display_name: status.displayName,
      ready: status.ready,
      ...(status.reason === undefined ? {} : { reason: status.reason }),
      ...(status.nextAllowedAt === undefined ? {} : { next_allowed_at: status.nextAllowedAt.toISOString() }),
      ...(status.dailyLimit === undefined ? {} : { daily_limit: status.dailyLimit }),
      since_start: { ...sinceStart },
      today,
      yesterday,
    })),
    notices: (about.notices ?? []).map(({ key, level, message, since }) => ({ key, level, message, since })),
  };
}

/** Whole seconds since start, never negative (a clock set back). */
export function uptimeSeconds(startedAt: Date, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - startedAt.getTime()) / 1000));
}
