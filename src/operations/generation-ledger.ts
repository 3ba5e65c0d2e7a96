import { appendFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { dirname, join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { readTextIfExists } from '../util/read-if-exists.js';
import { SerialQueue } from '../util/serial-queue.js';

/**
 * Per provider and local calendar day: how many calls, successes and failures; and when each
 * provider was last called. Kept in `data/stats.json` so daily limits, thresholds and the
 * status page's "today"/"yesterday" survive a restart. A call is counted when it is made
 * (a paid API may bill a request that later fails), so a daily limit is never exceeded.
 *
 * Calls are also appended, one JSON line each, to a journal beside it (`calls.log`): a
 * damaged or hand-replaced `stats.json` must not reset today's count of a paid provider to
 * zero, so at open each day's calls are the larger of the two counts.
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

const journalLineSchema = z.object({ day: z.string(), provider: z.string(), at: z.number() });
type JournalLine = z.infer<typeof journalLineSchema>;

/** The counts files hold numbers and provider ids, nothing secret; still, nobody else's business. */
const FILE_MODE = 0o600;

export interface GenerationLedgerOptions {
  /** `data/stats.json`. */
  readonly file: string;
  /** `data/calls.log`, the calls journal; default: `calls.log` beside `file`. */
  readonly journalFile?: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class GenerationLedger {
  private data: LedgerFile = { days: {}, lastCallAt: {} };
  private readonly queue = new SerialQueue();
  /** The calls journal; see the class comment. */
  readonly journalFile: string;

  constructor(private readonly options: GenerationLedgerOptions) {
    this.journalFile = options.journalFile ?? join(dirname(options.file), 'calls.log');
  }

  /** `data/stats.json`, for messages about it. */
  get file(): string {
    return this.options.file;
  }

  async open(): Promise<void> {
    const text = await readTextIfExists(this.options.file);
    if (text !== undefined) {
      try {
        this.data = ledgerFileSchema.parse(JSON.parse(text));
      } catch (error) {
        const aside = `${this.options.file}.corrupt-${Date.now()}`;
        await rename(this.options.file, aside);
        this.options.logger.error(`generation counts file was damaged; kept it as ${aside}; the calls of the last days are counted from ${this.journalFile}`, {
          error: (error as Error).message,
        });
      }
    }
    await this.mergeJournal();
  }

  /**
   * Counts a call to `providerId` now. Resolves once it is on disk in both places; rejects
   * when either write failed (the count stays in memory, so this process still honours it).
   */
  recordCall(providerId: string): Promise<void> {
    const now = this.options.clock.now();
    this.countsFor(providerId, now).calls += 1;
    this.data.lastCallAt[providerId] = now.getTime();
    const line: JournalLine = { day: localDayKey(now), provider: providerId, at: now.getTime() };
    const saved = this.save();
    const journaled = this.queue.run(() => appendFile(this.journalFile, `${JSON.stringify(line)}\n`, { mode: FILE_MODE }));
    return Promise.all([saved, journaled]).then(() => undefined);
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
    return this.queue.run(() => writeJsonAtomic(this.options.file, snapshot, { mode: FILE_MODE }));
  }

  /**
   * Reads the journal: each kept day's calls become at least the journal's count, the last
   * call times at least the journal's. Lines that cannot be read (a torn last line after a
   * power cut) are skipped. The journal is then rewritten with the kept days only, so it
   * stays a few KB. A journal that cannot be read or rewritten is logged, never fatal.
   */
  private async mergeJournal(): Promise<void> {
    let text: string | undefined;
    try {
      text = await readTextIfExists(this.journalFile);
    } catch (error) {
      this.options.logger.warn(`cannot read ${this.journalFile}; daily counts come from ${this.options.file} alone`, { error: (error as Error).message });
      return;
    }
    if (text === undefined) return;
    const counted = new Map<string, number>();
    const lines: JournalLine[] = [];
    let written = 0;
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      written += 1;
      let parsed;
      try {
        parsed = journalLineSchema.safeParse(JSON.parse(raw));
      } catch {
        continue;
      }
      if (!parsed.success) continue;
      lines.push(parsed.data);
    }
    const keptDays = new Set([...new Set(lines.map((line) => line.day)), ...Object.keys(this.data.days)].sort().slice(-DAYS_KEPT));
    const kept = lines.filter((line) => keptDays.has(line.day));
    for (const line of kept) {
      const key = `${line.day}\0${line.provider}`;
      counted.set(key, (counted.get(key) ?? 0) + 1);
      if ((this.data.lastCallAt[line.provider] ?? 0) < line.at) this.data.lastCallAt[line.provider] = line.at;
    }
    for (const [key, calls] of counted) {
      const [day, provider] = key.split('\0') as [string, string];
      const counts = ((this.data.days[day] ??= {})[provider] ??= { calls: 0, successes: 0, failures: 0 });
      counts.calls = Math.max(counts.calls, calls);
    }
    if (kept.length === written) return;
    try {
      await writeFileAtomic(this.journalFile, kept.map((line) => `${JSON.stringify(line)}\n`).join(''), { mode: FILE_MODE });
    } catch (error) {
      this.options.logger.warn(`cannot rewrite ${this.journalFile}`, { error: (error as Error).message });
    }
  }
}

/** `YYYY-MM-DD` of a date in the server's local time zone (TZ). */
export function localDayKey(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
