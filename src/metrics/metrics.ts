import type { Middleware } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FrameObserver } from '../operations/frame-observer.js';
import type { DayCounts, GenerationLedger } from '../operations/generation-ledger.js';
import type { PictureSource } from '../operations/operation.js';
import type { ProviderStatus } from '../operations/provider-gate.js';
import type { Logger } from '../util/logger.js';
import { httpRequestCounter, type CountedRequest } from './http-request-counter.js';
import { formatSummaryLine } from './summary-line.js';

export const HOUR_MS = 3_600_000;

/**
 * Generation wall time, 50 ms (a folder pick) to 10 min (a slow local diffusion on a small
 * CPU, or a queued cloud job).
 */
export const GENERATION_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 180, 300, 450, 600];

export interface AppMetricsOptions {
  readonly logger: Logger;
  /** Pictures in the library now; must be cheap (read on every scrape and health check). */
  readonly librarySize: () => number;
  /** Every configured provider with its ready state; read on every scrape and status page. */
  readonly providerStatuses: () => readonly ProviderStatus[];
  /** Per-day generation counts that survive restarts (today's and yesterday's). */
  readonly ledger: Pick<GenerationLedger, 'day'>;
  /** Node's process metrics (`process_*`, `nodejs_*`, no prefix); default on. */
  readonly defaultMetrics?: boolean;
  /** Period of the summary log line; default one hour. */
  readonly summaryIntervalMs?: number;
}

/** Generations that ended since the process started, per provider. */
export interface ProviderTotals {
  readonly successes: number;
  readonly failures: number;
}

/** Counts kept in memory since the process started, for the status page. */
export interface MetricsTotals {
  readonly requests: number;
  /** Responses with a status of 400 or more. */
  readonly errors: number;
  readonly imagesSent: number;
  readonly imagesSentBySource: Readonly<Partial<Record<PictureSource, number>>>;
  readonly providers: Readonly<Record<string, ProviderTotals>>;
}

/** One provider as the status page and the summary line show it. */
export interface ProviderReport {
  readonly status: ProviderStatus;
  readonly sinceStart: ProviderTotals;
  readonly today: DayCounts;
  readonly yesterday: DayCounts;
}

export interface MetricsSnapshot {
  readonly totals: MetricsTotals;
  readonly libraryPictures: number;
  readonly providers: readonly ProviderReport[];
}

/**
 * Everything counted about this server: Prometheus metrics on a registry of its own (several
 * servers may share a process, tests do), the in-memory totals behind the status page, and
 * the periodic summary log line. The frame service reports to it as a {@link FrameObserver}.
 * Label values are route templates, provider ids and fixed words only: never raw URLs
 * (cardinality) and never anything from a request body or a secret.
 */
export class AppMetrics implements FrameObserver {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  private readonly imagesSent: Counter<'source'>;
  private readonly generations: Counter<'provider' | 'outcome'>;
  private readonly generationSeconds: Histogram<'provider'>;

  private requestCount = 0;
  private errorCount = 0;
  private imageCount = 0;
  private readonly imagesBySource = new Map<PictureSource, number>();
  private readonly providerTotals = new Map<string, { successes: number; failures: number }>();
  private summaryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AppMetricsOptions) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.httpRequests = new Counter({
      name: 'aiframe_http_requests_total',
      help: 'HTTP requests answered, by matched route template, method and status code',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    });
    this.imagesSent = new Counter({
      name: 'aiframe_images_sent_total',
      help: 'Pictures sent to clients, by where the picture came from',
      labelNames: ['source'] as const,
      registers,
    });
    this.generations = new Counter({
      name: 'aiframe_generations_total',
      help: 'Generations that ended, by provider and outcome',
      labelNames: ['provider', 'outcome'] as const,
      registers,
    });
    this.generationSeconds = new Histogram({
      name: 'aiframe_generation_duration_seconds',
      help: 'Wall time of generations, by provider',
      labelNames: ['provider'] as const,
      buckets: GENERATION_SECONDS_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'aiframe_library_pictures',
      help: 'Pictures in the library',
      registers,
      collect() {
        this.set(options.librarySize());
      },
    });
    new Gauge({
      name: 'aiframe_provider_ready',
      help: 'Whether a provider may be called now (1) or not (0)',
      labelNames: ['provider'] as const,
      registers,
      collect() {
        this.reset();
        for (const status of options.providerStatuses()) this.set({ provider: status.id }, status.ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'aiframe_generations_today',
      help: 'Calls to a provider on the current local day (kept across restarts)',
      labelNames: ['provider'] as const,
      registers,
      collect() {
        this.reset();
        for (const status of options.providerStatuses()) this.set({ provider: status.id }, options.ledger.day(status.id, 0).calls);
      },
    });
  }

  /** FrameObserver: a generation ended. */
  generationFinished(event: { readonly providerId: string; readonly outcome: 'success' | 'failure'; readonly seconds: number }): void {
    this.generations.inc({ provider: event.providerId, outcome: event.outcome });
    if (Number.isFinite(event.seconds) && event.seconds >= 0) this.generationSeconds.observe({ provider: event.providerId }, event.seconds);
    const totals = this.providerTotals.get(event.providerId) ?? { successes: 0, failures: 0 };
    if (event.outcome === 'success') totals.successes += 1;
    else totals.failures += 1;
    this.providerTotals.set(event.providerId, totals);
  }

  /** FrameObserver: a result with a picture was sent. */
  pictureSent(event: { readonly source: PictureSource }): void {
    this.imagesSent.inc({ source: event.source });
    this.imageCount += 1;
    this.imagesBySource.set(event.source, (this.imagesBySource.get(event.source) ?? 0) + 1);
  }

  /**
   * Koa middleware counting every request by route template, method and final status.
   * Must run before the error middleware and the routers (first in the app), so that it
   * sees every request, including those the error middleware answers.
   */
  httpMiddleware(): Middleware {
    return httpRequestCounter((request) => this.countRequest(request));
  }

  private countRequest({ route, method, status }: CountedRequest): void {
    this.httpRequests.inc({ route, method, status });
    this.requestCount += 1;
    if (Number(status) >= 400) this.errorCount += 1;
  }

  totals(): MetricsTotals {
    return {
      requests: this.requestCount,
      errors: this.errorCount,
      imagesSent: this.imageCount,
      imagesSentBySource: Object.fromEntries(this.imagesBySource),
      providers: Object.fromEntries([...this.providerTotals].map(([id, totals]) => [id, { ...totals }])),
    };
  }

  /** Pictures in the library now (cheap: no disk access). */
  libraryPictures(): number {
    return this.options.librarySize();
  }

  /** Totals, library size and every configured provider with its counts, read now. */
  snapshot(): MetricsSnapshot {
    const { ledger } = this.options;
    const totals = this.totals();
    return {
      totals,
      libraryPictures: this.libraryPictures(),
      providers: this.options.providerStatuses().map((status) => ({
        status,
        sinceStart: totals.providers[status.id] ?? { successes: 0, failures: 0 },
        today: ledger.day(status.id, 0),
        yesterday: ledger.day(status.id, 1),
      })),
    };
  }

  /** One line for the log: totals since start, today's generations, library size. */
  summaryLine(): string {
    return formatSummaryLine(this.snapshot());
  }

  /** Logs {@link summaryLine} every `summaryIntervalMs` (one hour). The timer never keeps the process alive. */
  startHourlySummary(): void {
    if (this.summaryTimer !== undefined) return;
    this.summaryTimer = setInterval(() => this.logSummary(), this.options.summaryIntervalMs ?? HOUR_MS);
    this.summaryTimer.unref();
  }

  stopHourlySummary(): void {
    clearInterval(this.summaryTimer);
    this.summaryTimer = undefined;
  }

  private logSummary(): void {
    try {
      this.options.logger.info(this.summaryLine());
    } catch (error) {
      // A broken source (a provider's status throwing) must not kill the timer or the process.
      this.options.logger.warn('could not build the summary line', { error: (error as Error).message });
    }
  }
}
