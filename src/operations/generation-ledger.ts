import { rename } from 'node:fs/promises';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { readTextIfExists } from '../util/read-if-exists.js';
import { SerialQueue } from '../util/serial-queue.js';

/**
 * Per provider and local calendar day: how many calls, successes and failures; and when each
 * provider was last called. Kept in `data/stats.json` so daily limits, thresholds and the
 * status page's "today"/"yesterday" survive a restart. A call is counted when it is made
 * (a paid API may bill a request that later fails), so a daily limit is never exceeded.
 */
export interface DayCounts {
  calls: number;
  successes: number;
  failures: number;
}

const dayCountsSchema = z.object({ calls: z.number().int().min(0), successes: z.number().int().min(0), failures: z.number().int().min(0) });
const ledgerFileSchema = z.object({
  days: z.record(z.string(), z.record(z.string(), dayCountsSchema)),
  lastCallAt: z.record(z.string(), z.number()),
});
type LedgerFile = z.infer<typeof ledgerFileSchema>;

/** Days kept in the file: enough for "yesterday" and a week of history. */
const DAYS_KEPT = 8;

export class GenerationLedger {
  private data: LedgerFile = { days: {}, lastCallAt: {} };
  private readonly queue = new SerialQueue();

  constructor(private readonly options: { file: string; clock: Clock; logger: Logger }) {}

  async open(): Promise<void> {
    const text = await readTextIfExists(this.options.file);
    if (text === undefined) return;
    try {
      this.data = ledgerFileSchema.parse(JSON.parse(text));
    } catch (error) {
      const aside = `${this.options.file}.corrupt-${Date.now()}`;
      await rename(this.options.file, aside);
      this.options.logger.error(`generation counts file was damaged; kept it as ${aside} and started counting afresh`, {
        error: (error as Error).message,
      });
    }
  }

  /** Counts a call to `providerId` now. Resolves once it is on disk. */
  recordCall(providerId: string): Promise<void> {
    const now = this.options.clock.now();
    this.countsFor(providerId, now).calls += 1;
    this.data.lastCallAt[providerId] = now.getTime();
    return this.save();
  }

  recordOutcome(providerId: string, outcome: 'success' | 'failure'): Promise<void> {
    const counts = this.countsFor(providerId, this.options.clock.now());
    if (outcome === 'success') counts.successes += 1;
    else counts.failures += 1;
    return this.save();
  }

  /** Counts of a provider on the local day `daysAgo` days before today (0 = today). */
  day(providerId: string, daysAgo = 0): DayCounts {
    const date = this.options.clock.now();
    date.setDate(date.getDate() - daysAgo);
    return { ...(this.data.days[localDayKey(date)]?.[providerId] ?? { calls: 0, successes: 0, failures: 0 }) };
  }

  /** When `providerId` was last called (ms since the epoch), if ever. */
  lastCallAt(providerId: string): number | undefined {
    return this.data.lastCallAt[providerId];
  }

  /** The last call to any provider. */
  lastAnyCallAt(): number | undefined {
    const times = Object.values(this.data.lastCallAt);
    return times.length === 0 ? undefined : Math.max(...times);
  }

  private countsFor(providerId: string, at: Date): DayCounts {
    const key = localDayKey(at);
    const day = (this.data.days[key] ??= {});
    return (day[providerId] ??= { calls: 0, successes: 0, failures: 0 });
  }

  private save(): Promise<void> {
    const keep = Object.keys(this.data.days).sort().slice(-DAYS_KEPT);
    this.data.days = Object.fromEntries(keep.map((key) => [key, this.data.days[key] ?? {}]));
    const snapshot = structuredClone(this.data);
    // Owner-only like everything in data/ the server writes: what was generated when is the owner's business.
    return this.queue.run(() => writeJsonAtomic(this.options.file, snapshot, { mode: 0o600 }));
  }
}

/** `YYYY-MM-DD` of a date in the server's local time zone (TZ). */
export function localDayKey(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
