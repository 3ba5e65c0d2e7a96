/**
 * The part of the two Fooocus providers that does not depend on the API's spelling: submit an
 * async job, save its id (so a restart polls on instead of queuing a second copy), poll it with
 * progress until it ends, and fetch the picture. Readiness and retries follow the shared rules.
 */
import type { Logger } from '../../util/logger.js';
import { sleep } from '../http/abortable-sleep.js';
import { decodeBase64Image } from '../http/image-payload.js';
import { isOtherOrigin } from '../http/other-origin.js';
import { RemoteError } from '../http/remote-error.js';
import { RemoteHttp, type RemoteResponse } from '../http/remote-http.js';
import { RemoteProvider } from '../http/remote-provider.js';
import type { AfterDrop, Resend, RetryPolicy } from '../http/retry.js';
import { timeoutIsFinal } from '../http/timeout-is-final.js';
import type { PictureFormat } from '../../library/picture.js';
import { SerialQueue } from '../../util/serial-queue.js';
import type { GenerateRequest, ProviderCapabilities, ProviderResult } from '../types.js';
import { aspectRatioForFrame } from './aspect-ratios.js';
import { fetchResultPicture, fooocusHttpError, resultLocation, savedJobId, savedJobState } from './fooocus-common.js';

export interface FooocusProviderOptions {
  readonly id?: string;
  readonly baseUrl: string;
  /** Sent as X-API-KEY (the server's --apikey). */
  readonly apiKey?: string;
  readonly performance: string;
  /** Unset: the server's default styles. */
  readonly styles?: readonly string[];
  /** A fixed `W*H`; unset, the entry of `aspectRatios` nearest the frame's shape. */
  readonly aspectRatio?: string;
  readonly aspectRatios: readonly string[];
  /** Used when the request has no negative prompt of its own. */
  readonly negativePrompt: string;
  /** `request`: the frame server's seed; `random`: -1, the server picks and reports it. */
  readonly seedMode: 'request' | 'random';
  readonly baseModel?: string;
  readonly guidanceScale?: number;
  readonly sharpness?: number;
  /** One HTTP request (a submit, a poll, a picture download). */
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  /** 0: no periodic re-check (refresh() still checks). */
  readonly healthIntervalMs: number;
  readonly logger: Logger;
  readonly retry?: Omit<RetryPolicy, 'signal' | 'onRetry'>;
}

/** What one poll found. */
export type JobPoll =
  | { readonly state: 'waiting'; readonly progress?: number; readonly preview?: string }
  | { readonly state: 'done'; readonly picture: ResultPicture; readonly seed?: number };

/** A finished job's picture: inline base64 (a data URI or not), or a URL on the server. */
export interface ResultPicture {
  readonly base64?: string;
  readonly url?: string;
}

/** A job the server lists: its id, and the fields it was asked with where the API shows them. */
export interface ListedJob {
  readonly id: string;
  readonly request?: { readonly prompt?: unknown; readonly image_seed?: unknown };
}

/** The Fooocus fields every request carries, in the API's own names. */
export interface FooocusFields {
  readonly prompt: string;
  readonly negative_prompt: string;
  readonly performance_selection: string;
  readonly aspect_ratios_selection: string;
  readonly image_number: 1;
  readonly image_seed: number;
  readonly style_selections?: readonly string[];
  readonly base_model_name?: string;
  readonly guidance_scale?: number;
  readonly sharpness?: number;
}

export abstract class FooocusJobProvider extends RemoteProvider {
  readonly capabilities: ProviderCapabilities = { acceptsPrompt: true, acceptsNegative: true, paid: false, generates: true };
  protected readonly http: RemoteHttp;
  /** For result URLs on another host: the API key stays with the configured server. */
  private readonly download: RemoteHttp;
  /** Submits go one at a time, so that one job new in the list after a dropped submit is that submit's. */
  private readonly submits = new SerialQueue();

  constructor(
    protected readonly options: FooocusProviderOptions,
    defaultId: string,
    /** Path prefix of result URLs on the server (`/files/`, `/outputs/`). */
    private readonly resultMarker: string,
  ) {
    // Not one at a time here: Fooocus queues async jobs itself.
    super({ id: options.id ?? defaultId, logger: options.logger, healthIntervalMs: options.healthIntervalMs, retry: options.retry });
    this.http = new RemoteHttp({
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      ...(options.apiKey === undefined ? {} : { headers: { 'X-API-KEY': options.apiKey } }),
    });
    this.download = new RemoteHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
  }

  /** The API's name for the saved job state, so another provider's state is never polled here. */
  protected abstract readonly jobKind: string;
  /** Queues the job; resolves with its id. */
  protected abstract submit(fields: FooocusFields, signal: AbortSignal): Promise<string>;
  protected abstract poll(job: string, signal: AbortSignal): Promise<JobPoll>;
  /** The jobs the server lists now: waiting, running and (recently) finished. */
  protected abstract listJobs(signal: AbortSignal): Promise<readonly ListedJob[]>;

  /** Throws a non-2xx answer as the readable Fooocus error (API key, refused field). */
  protected ensureOk(response: RemoteResponse): void {
    if (response.status < 200 || response.status >= 300) throw fooocusHttpError(response, this.id, this.options.apiKey !== undefined);
  }

  protected async generateNow(request: GenerateRequest): Promise<ProviderResult> {
    const { signal } = request;
    signal.throwIfAborted();
    const fields = this.fields(request);
    try {
      let job = savedJobId(request.resume.load(), this.jobKind);
      if (job === undefined) {
        job = await this.submitOnce(fields, signal);
        await request.resume.save(savedJobState(this.jobKind, job));
        this.options.logger.debug(`provider ${this.id}: job queued`, { job, aspect_ratio: fields.aspect_ratios_selection });
      } else {
        this.options.logger.info(`provider ${this.id}: polling a job queued before the restart`, { job });
      }
      const done = await this.waitFor(job, request);
      const picture = await this.readPicture(done.picture, signal);
      this.health.markUp();
      return {
        kind: 'bytes',
        bytes: new Uint8Array(picture.bytes.buffer, picture.bytes.byteOffset, picture.bytes.byteLength),
        ...(done.seed === undefined || done.seed === request.seed ? {} : { seed: done.seed }),
        details: {
          job,
          performance_selection: fields.performance_selection,
          aspect_ratios_selection: fields.aspect_ratios_selection,
          ...(fields.style_selections === undefined ? {} : { style_selections: fields.style_selections }),
          ...(fields.base_model_name === undefined ? {} : { base_model_name: fields.base_model_name }),
        },
      };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof RemoteError && (error.failure === 'network' || error.isAuthFailure)) this.health.markDown(error.message);
      throw error;
    }
  }

  /**
   * Queues the job. A submit whose connection dropped is sent again only when the job list,
   * read before and after, shows that the server took no job meanwhile; one new job is this
   * one, and is followed instead. A server whose list cannot be read is not sent it twice.
   */
  private submitOnce(fields: FooocusFields, signal: AbortSignal): Promise<string> {
    return this.submits.run(async () => {
      const before = await this.knownJobs(signal);
      const resend: Resend<string> = before === undefined ? 'if-not-sent' : { ask: () => this.findNewJob(before, fields) };
      return this.retrying(signal, resend, () => timeoutIsFinal(() => this.submit(fields, signal)));
    });
  }

  /** Ids of the jobs the server lists, or undefined when it cannot say (then nothing is sent twice). */
  private async knownJobs(signal: AbortSignal): Promise<ReadonlySet<string> | undefined> {
    try {
      return new Set((await this.listJobs(signal)).map((job) => job.id));
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      this.options.logger.debug(`provider ${this.id}: the job list cannot be read; a submit whose connection drops will not be sent again`, {
        reason: (error as Error).message,
      });
      return undefined;
    }
  }

  private async findNewJob(before: ReadonlySet<string>, fields: FooocusFields): Promise<AfterDrop<string>> {
    const now = await this.listJobs(AbortSignal.timeout(10_000));
    const fresh = now.filter((job) => !before.has(job.id) && (job.request === undefined || sameRequest(job.request, fields)));
    const only = fresh.length === 1 ? fresh[0] : undefined;
    if (only !== undefined) {
      this.options.logger.info(`provider ${this.id}: the submit's connection dropped, but the server took the job; following it`, { job: only.id });
      return { kind: 'found', value: only.id };
    }
    if (fresh.length === 0) return { kind: 'absent' };
    return { kind: 'final', reason: `the server took ${fresh.length} new jobs meanwhile, and which one is this cannot be told` };
  }

  /** The request fields in the API's names; both APIs take them flat. */
  protected fields(request: GenerateRequest): FooocusFields {
    const { options } = this;
    return {
      prompt: request.prompt,
      negative_prompt: request.negative ?? options.negativePrompt,
      performance_selection: options.performance,
      aspect_ratios_selection: options.aspectRatio ?? aspectRatioForFrame(request.width, request.height, options.aspectRatios),
      image_number: 1,
      image_seed: options.seedMode === 'random' ? -1 : request.seed,
      ...(options.styles === undefined ? {} : { style_selections: options.styles }),
      ...(options.baseModel === undefined ? {} : { base_model_name: options.baseModel }),
      ...(options.guidanceScale === undefined ? {} : { guidance_scale: options.guidanceScale }),
      ...(options.sharpness === undefined ? {} : { sharpness: options.sharpness }),
    };
  }

  private async waitFor(job: string, request: GenerateRequest): Promise<Extract<JobPoll, { state: 'done' }>> {
    const { signal } = request;
    let lastProgress = -1;
    for (;;) {
      const polled = await this.retrying(signal, 'always', () => this.poll(job, signal));
      if (polled.state === 'done') {
        request.onProgress?.({ step: 100, total: 100 });
        return polled;
      }
      const progress = Math.max(0, Math.min(100, Math.round(polled.progress ?? 0)));
      if (progress !== lastProgress || polled.preview !== undefined) {
        lastProgress = progress;
        const preview = this.previewBytes(polled.preview);
        request.onProgress?.({ step: progress, total: 100, ...(preview === undefined ? {} : { preview }) });
      }
      await sleep(this.options.pollIntervalMs, signal);
    }
  }

  /** A step preview is a nicety: one that does not decode is dropped, never an error. */
  private previewBytes(text: string | undefined): Uint8Array | undefined {
    if (text === undefined || text === '') return undefined;
    try {
      const { bytes } = decodeBase64Image(text, 'preview');
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch {
      return undefined;
    }
  }

  private async readPicture(picture: ResultPicture, signal: AbortSignal): Promise<{ bytes: Buffer; format: PictureFormat }> {
    if (picture.base64 !== undefined && picture.base64 !== '') return decodeBase64Image(picture.base64, 'result picture');
    if (picture.url === undefined || picture.url === '') throw new RemoteError(`${this.http.baseUrl} finished the job without a picture or a URL`, { failure: 'invalid-response', url: this.http.baseUrl });
    const location = resultLocation(picture.url, this.resultMarker);
    const client = isOtherOrigin(location, this.options.baseUrl) ? this.download : this.http;
    return fetchResultPicture(client, location, signal, this.retry);
  }
}

/** A listed job's fields against ours: the prompt and the seed tell another client's job apart. */
function sameRequest(listed: NonNullable<ListedJob['request']>, fields: FooocusFields): boolean {
  return (listed.prompt === undefined || listed.prompt === fields.prompt) && (listed.image_seed === undefined || Number(listed.image_seed) === fields.image_seed);
}
