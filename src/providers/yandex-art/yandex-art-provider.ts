/**
 * YandexART, Yandex Cloud's paid image model. One picture is one POST that starts a remote
 * operation, then free GETs until it is done (`../shared/provider-apis.md` section 1).
 *
 * Money is the design constraint: the operation id is saved through the job's resume slot
 * the moment the POST answers, so a restart polls the same operation instead of paying
 * again; a POST that may have reached Yandex is never sent twice; refused credentials stop
 * every paid attempt until they change or an hour passes.
 */
import { z } from 'zod';
import { decodeBase64Image } from '../http/image-payload.js';
import { RemoteError } from '../http/remote-error.js';
import { withRetries, type RetryPolicy } from '../http/retry.js';
import {
  ProviderError,
  type GenerateRequest,
  type GeneratedBytes,
  type ImageProvider,
  type ProviderCapabilities,
  type Readiness,
} from '../types.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { CredentialSource, Credentials, CredentialsState } from './credentials.js';
import { aspectRatio, buildPromptText, DEFAULT_NEGATIVE_PREFIX } from './prompt-text.js';
import { WakeSignal } from './wake-signal.js';
import { YandexArtApi, type RemoteOperation } from './yandex-art-api.js';

export const YANDEX_ART_ID = 'ydArt';
export const DEFAULT_BASE_URL = 'https://llm.api.cloud.yandex.net';
/** Refused credentials are tried again after this long, or as soon as the file changes. */
export const AUTH_RETRY_MS = 60 * 60_000;

export interface YandexArtProviderOptions {
  readonly id?: string;
  /** Used for both the POST and `/operations/{id}`; a proxy or a test server may stand in. */
  readonly baseUrl?: string;
  readonly credentials: CredentialSource;
  /** Told every credential read, so no log line can carry one. */
  readonly secrets?: { add(secret: string | undefined): void };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Between polls of a running operation (0: only when the check_pending cron wakes them). */
  readonly pollIntervalMs?: number;
  /** One HTTP request, answer included. */
  readonly requestTimeoutMs?: number;
  /** From the POST: an operation still running after this long is given up. */
  readonly maxWaitMs?: number;
  /** Joins prompt and negative; upstream's wording by default. */
  readonly negativePrefix?: string;
  /** Tries per request (the first included), and the first back-off before the second. */
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  readonly authRetryMs?: number;
  /** Uniform in [0, 1) for the back-off jitter; tests may pin it. */
  readonly random?: () => number;
}

/** What the job keeps in `data/jobs.json` so a restart resumes polling. */
const resumeStateSchema = z.object({
  operationId: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/),
  /** When the POST answered (ms since the epoch): `max_wait_minutes` counts from here. */
  startedAt: z.number(),
  seed: z.number().int(),
  /** The prompt part of the text sent (cut when it was too long). */
  prompt: z.string(),
  text: z.string(),
  aspectRatio: z.string(),
});
type ResumeState = z.infer<typeof resumeStateSchema>;

interface AuthBlock {
  readonly until: number;
  readonly reason: string;
}

export class YandexArtProvider implements ImageProvider {
  readonly id: string;
  readonly displayName = 'YandexART';
  readonly capabilities: ProviderCapabilities = { acceptsPrompt: true, acceptsNegative: true, paid: true, generates: true };

  private readonly api: YandexArtApi;
  private readonly clock: Clock;
  private readonly wakeSignal = new WakeSignal();
  private readonly seenSecrets = new Set<string>();
  private readonly pollIntervalMs: number;
  private readonly maxWaitMs: number;
  readonly generationTimeoutMs: number;
  private readonly negativePrefix: string;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  /** The longest wait between two tries of one request. */
  private readonly maxDelayMs: number;
  private readonly authRetryMs: number;
  private state: CredentialsState = { ok: false, reason: 'the credentials have not been read yet' };
  private stamp: string | undefined;
  private authBlock: AuthBlock | undefined;
  /** The readiness last logged: the log gets a line per change, not per check. */
  private noted: string | undefined;
  private loading: Promise<void> | undefined;

  constructor(private readonly options: YandexArtProviderOptions) {
    this.id = options.id ?? YANDEX_ART_ID;
    this.clock = options.clock ?? systemClock;
    this.pollIntervalMs = options.pollIntervalMs ?? 10_000;
    this.maxWaitMs = options.maxWaitMs ?? 60 * 60_000;
    // max_wait_minutes bounds a picture (from its POST, across restarts); the server-wide
    // generation timeout must not cut it shorter. A minute more lets our own, clearer
    // "not ready after N minutes" come first.
    this.generationTimeoutMs = this.maxWaitMs + 60_000;
    this.negativePrefix = options.negativePrefix ?? DEFAULT_NEGATIVE_PREFIX;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.retryBaseMs = options.retryBaseMs ?? 2000;
    this.maxDelayMs = Math.max(this.retryBaseMs, 60_000);
    this.authRetryMs = options.authRetryMs ?? AUTH_RETRY_MS;
    this.api = new YandexArtApi({
      baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
      timeoutMs: options.requestTimeoutMs ?? 30_000,
      scrub: (text) => this.scrub(text),
    });
  }

  /** Reads the credentials. The server logs the first readiness itself; here only a key file others can read. */
  async start(): Promise<void> {
    await this.reload();
    const warning = await this.options.credentials.privacyWarning();
    if (warning !== undefined) this.options.logger.warn(`provider ${this.id}: ${warning}`);
  }

  /** Reads the credentials again (the scan cron); changed ones lift a block on refused ones. */
  refresh(): Promise<void> {
    return this.reload();
  }

  /**
   * The check_pending cron: running operations are polled now, and the credentials file is
   * read again if it changed (one stat), so a fixed key is used within a minute.
   */
  async checkPending(): Promise<void> {
    try {
      if ((await this.options.credentials.stamp()) !== this.stamp) await this.reload();
    } finally {
      // After the read: a poll waiting out refused or missing credentials uses the new ones.
      this.wakeSignal.wake();
    }
  }

  readiness(): Readiness {
    const readiness = this.currentReadiness();
    this.note(readiness);
    return readiness;
  }

  async generate(request: GenerateRequest): Promise<GeneratedBytes> {
    request.signal.throwIfAborted();
    const saved = request.resume.load();
    if (saved !== undefined) {
      const parsed = resumeStateSchema.safeParse(saved);
      // Never a new POST for a job that already has one: a job we cannot read is lost, not paid again.
      if (!parsed.success) throw new ProviderError('the saved YandexART job cannot be read; it is dropped rather than paid for again');
      this.options.logger.info(`provider ${this.id}: polling operation ${parsed.data.operationId} again after a restart; no new request`);
      return this.finish(parsed.data, await this.poll(parsed.data, request.signal, true, this.wakeSignal.epoch));
    }
    return this.startNew(request);
  }

  private async startNew(request: GenerateRequest): Promise<GeneratedBytes> {
    const { signal, resume } = request;
    const credentials = this.credentialsForPayment();
    const built = buildPromptText(request.prompt, request.negative, this.negativePrefix);
    if (built.text === '') throw new ProviderError('YandexART needs a prompt and none was given (add one to the prompt list)');
    if (built.warning !== undefined) this.options.logger.warn(`provider ${this.id}: ${built.warning}`);
    // Seed 0 asks YandexART for a random one, which would make the recorded seed a lie.
    const seed = request.seed > 0 ? request.seed : 1;
    const ratio = aspectRatio(request.width, request.height);
    const input = { folderId: credentials.folderId, text: built.text, seed, ...ratio };

    // A check_pending cron that runs while the POST is in flight makes the first poll come at once.
    const epoch = this.wakeSignal.epoch;
    const started = await this.guardAuth(() =>
      withRetries(() => {
        // An abort stops the next try; one that lands during a try waits for its answer
        // (api.start takes no signal), so the id of a billed operation is never thrown away.
        signal.throwIfAborted();
        // Checked again before each try: another job may have found the key refused meanwhile.
        const current = this.credentialsForPayment();
        return this.refuseLongWaits(this.api.start({ ...input, folderId: current.folderId }, current));
      }, this.retryPolicy('generation request', signal)),
    );
    const state: ResumeState = {
      operationId: started.id,
      startedAt: this.clock.now().getTime(),
      seed,
      prompt: built.prompt,
      text: built.text,
      aspectRatio: `${ratio.widthRatio}:${ratio.heightRatio}`,
    };
    try {
      await resume.save(state);
    } catch (error) {
      // The picture is paid for: keep polling, but say that a restart now would lose it.
      this.options.logger.warn(`provider ${this.id}: could not save operation ${started.id} for a restart; polling it anyway`, {
        error: this.scrub((error as Error).message),
      });
    }
    this.options.logger.info(`provider ${this.id}: generation started as operation ${started.id}`, { seed, aspect_ratio: state.aspectRatio });
    // The id is safe now: a shutdown that came during the POST is honoured here, and the
    // next start resumes polling this operation.
    signal.throwIfAborted();
    const done = started.done ? { operation: started, polls: 0 } : await this.poll(state, signal, false, epoch);
    return this.finish(state, done);
  }

  /**
   * Polls until the operation is done; the first poll of a resumed job is at once. Polling is
   * free and the operation is paid for, so a failed poll (no answer, a dropped connection,
   * 429, 5xx, refused or missing credentials) is not the end of the job: it is polled again
   * with back-off until `max_wait` from the POST has passed (and at least `max_attempts`
   * tries, so a restart after a long stop survives a network that is not up yet). Only an
   * answer that settles it ends it early: done, failed, or unknown to the API (404).
   */
  private async poll(state: ResumeState, signal: AbortSignal, pollAtOnce: boolean, seenEpoch: number): Promise<{ operation: RemoteOperation; polls: number }> {
    let seen = seenEpoch;
    let waitMs = this.pollIntervalMs;
    let failures = 0;
    for (let polls = 1; ; polls += 1) {
      if (polls > 1 || !pollAtOnce) await this.wakeSignal.wait(waitMs, signal, seen);
      seen = this.wakeSignal.epoch;
      let operation: RemoteOperation;
      try {
        operation = await this.pollOnce(state.operationId, signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!(error instanceof ProviderError && (error.retryable || (error instanceof RemoteError && error.isAuthFailure)))) throw error;
        failures += 1;
        const reason = this.scrub(error.message);
        const waited = this.clock.now().getTime() - state.startedAt;
        if (waited >= this.maxWaitMs && failures >= this.maxAttempts) {
          throw new ProviderError(`YandexART operation ${state.operationId} could not be polled for ${Math.round(waited / 60_000)} minutes (${reason}); given up`);
        }
        waitMs = this.pollBackoff(failures, error);
        // The first few failures of a streak are worth a warning; a long outage is not worth one per try.
        const level = failures <= this.maxAttempts ? 'warn' : 'debug';
        this.options.logger[level](`provider ${this.id}: operation poll failed; trying again`, { reason, attempt: failures, delay_ms: waitMs });
        continue;
      }
      if (failures > 0) this.options.logger.info(`provider ${this.id}: operation ${state.operationId} answers again after ${failures} failed polls`);
      failures = 0;
      waitMs = this.pollIntervalMs;
      if (operation.done || operation.error !== undefined) return { operation, polls };
      this.options.logger.debug(`provider ${this.id}: operation ${state.operationId} still running`, { polls });
      const waited = this.clock.now().getTime() - state.startedAt;
      if (waited >= this.maxWaitMs) {
        throw new ProviderError(`YandexART operation ${state.operationId} has not finished after ${Math.round(waited / 60_000)} minutes; given up`);
      }
    }
  }

  /** One GET of the operation. Without credentials (a file being rewritten) nothing is sent and the poll waits for them. */
  private pollOnce(operationId: string, signal: AbortSignal): Promise<RemoteOperation> {
    const state = this.state;
    if (!state.ok) return Promise.reject(new ProviderError(`YandexART is not configured: ${state.reason}`, { retryable: true }));
    return this.guardAuth(() => this.api.get(operationId, state.credentials, signal));
  }

  /** Full-jitter exponential back-off up to {@link maxDelayMs}; a server's Retry-After is honoured up to the same bound. */
  private pollBackoff(failures: number, error: ProviderError): number {
    const bound = Math.min(this.maxDelayMs, this.retryBaseMs * 2 ** Math.min(failures - 1, 30));
    const jittered = Math.round((this.options.random ?? Math.random)() * bound);
    const retryAfter = error instanceof RemoteError ? Math.min(error.retryAfterMs ?? 0, this.maxDelayMs) : 0;
    // At least 1 ms: a wait of 0 would mean "until the cron wakes it".
    return Math.max(1, jittered, retryAfter);
  }

  /**
   * A 429 or 503 whose Retry-After is longer than the back-off allows is final for this picture:
   * waiting would keep the frame's operation pending for that long, and the frame is better
   * served by a stored picture now. The next start tries again.
   */
  private async refuseLongWaits<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof RemoteError && error.retryable && (error.retryAfterMs ?? 0) > this.maxDelayMs) {
        throw new ProviderError(`${error.message} (YandexART asks to wait ${describeWait(error.retryAfterMs ?? 0)}; this picture is given up)`);
      }
      throw error;
    }
  }

  private finish(state: ResumeState, done: { operation: RemoteOperation; polls: number }): GeneratedBytes {
    const { operation, polls } = done;
    if (operation.error !== undefined) {
      throw new ProviderError(`YandexART operation ${state.operationId} ended with error ${operation.error.code}: ${operation.error.message || 'no message'}`);
    }
    const image = decodeBase64Image(operation.image, 'YandexART image');
    this.options.logger.info(`provider ${this.id}: operation ${state.operationId} done`, { polls, bytes: image.bytes.length });
    return {
      kind: 'bytes',
      bytes: image.bytes,
      seed: state.seed,
      prompt: state.prompt,
      details: {
        operation_id: state.operationId,
        aspect_ratio: state.aspectRatio,
        text: state.text,
        ...(operation.modelVersion === undefined ? {} : { model_version: operation.modelVersion }),
      },
    };
  }

  /** 401/403: the credentials are refused; no paid request until they change or an hour passes. */
  private async guardAuth<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof RemoteError && error.isAuthFailure) {
        this.authBlock = { until: this.clock.now().getTime() + this.authRetryMs, reason: error.message };
        this.note(this.currentReadiness());
      }
      throw error;
    }
  }

  private retryPolicy(what: string, signal: AbortSignal): RetryPolicy {
    return {
      attempts: this.maxAttempts,
      baseDelayMs: this.retryBaseMs,
      maxDelayMs: this.maxDelayMs,
      signal,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      onRetry: (error, attempt, delayMs) =>
        this.options.logger.warn(`provider ${this.id}: ${what} failed; trying again`, {
          reason: this.scrub(error.message),
          attempt,
          of: this.maxAttempts,
          delay_ms: delayMs,
        }),
    };
  }

  private credentialsForPayment(): Credentials {
    const readiness = this.currentReadiness();
    if (!readiness.ready || !this.state.ok) throw new ProviderError(`YandexART is not ready: ${readiness.ready ? 'no credentials' : readiness.reason}`);
    return this.state.credentials;
  }

  private currentReadiness(): Readiness {
    if (!this.state.ok) return { ready: false, reason: this.state.reason };
    if (this.authBlock !== undefined) {
      if (this.clock.now().getTime() < this.authBlock.until) {
        const until = new Date(this.authBlock.until).toTimeString().slice(0, 5);
        return { ready: false, reason: `${this.authBlock.reason}; no paid request until ${until}, or until ${this.options.credentials.file} changes` };
      }
      this.authBlock = undefined;
    }
    return { ready: true };
  }

  /** Reads the credentials; concurrent calls share one read. */
  private reload(): Promise<void> {
    this.loading ??= this.read().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async read(): Promise<void> {
    const source = this.options.credentials;
    const stamp = await source.stamp();
    const state = await source.load();
    if (state.ok) {
      this.options.secrets?.add(state.credentials.secret);
      this.seenSecrets.add(state.credentials.secret);
    }
    const changed = stamp !== this.stamp || !sameCredentials(state, this.state);
    const first = this.stamp === undefined;
    this.stamp = stamp;
    this.state = state;
    if (changed && this.authBlock !== undefined) {
      this.authBlock = undefined;
      this.options.logger.info(`provider ${this.id}: the credentials changed; trying them again`);
    }
    if (first) this.noted = describe(this.currentReadiness());
    else this.note(this.currentReadiness());
  }

  /** Logs a change of readiness once. */
  private note(readiness: Readiness): void {
    const key = describe(readiness);
    if (key === this.noted) return;
    this.noted = key;
    if (readiness.ready) this.options.logger.info(`provider ${this.id}: ready (credentials from ${this.state.ok ? this.state.credentials.source : '?'})`);
    else this.options.logger.warn(`provider ${this.id}: not ready: ${readiness.reason}`);
  }

  /** Any credential this provider has read, replaced: remote servers echo refused keys. */
  private scrub(text: string): string {
    let out = text;
    for (const secret of this.seenSecrets) if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join('[redacted]');
    return out;
  }
}

function describeWait(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.round(ms / 1000)} s`;
}

function describe(readiness: Readiness): string {
  return readiness.ready ? 'ready' : `not ready: ${readiness.reason}`;
}

function sameCredentials(a: CredentialsState, b: CredentialsState): boolean {
  if (a.ok && b.ok) {
    return a.credentials.secret === b.credentials.secret && a.credentials.folderId === b.credentials.folderId && a.credentials.scheme === b.credentials.scheme;
  }
  return !a.ok && !b.ok && a.reason === b.reason;
}
