/**
 * OpenAI's Images API and the servers that speak its shape (LocalAI, the Qwen-Image service)
 * as one provider type: one synchronous POST /v1/images/generations per picture, b64_json or a
 * URL in the answer. What differs per flavor is the body (openai-body.ts), the errors' wording
 * and whether a call costs money. Facts: ../shared/provider-apis.md §5.
 */
import { z } from 'zod';
import type { Logger } from '../../util/logger.js';
import { decodeBase64Image, imageFromBytes } from '../http/image-payload.js';
import { isOtherOrigin } from '../http/other-origin.js';
import { parseAnswer } from '../http/parse-answer.js';
import { RemoteError } from '../http/remote-error.js';
import { RemoteHttp } from '../http/remote-http.js';
import { RemoteProvider } from '../http/remote-provider.js';
import { withRetries, type RetryPolicy } from '../http/retry.js';
import { isGatewayTimeout } from '../http/timeout-is-final.js';
import type { PictureFormat } from '../../library/picture.js';
import { ProviderError, type GenerateRequest, type ProviderCapabilities, type ProviderResult } from '../types.js';
import { planBody, type BodyOptions, type OpenAiFlavor, type PlannedBody } from './openai-body.js';
import { openAiError } from './openai-errors.js';
import { listedSizes } from './openai-sizes.js';

export const IMAGES_PATH = '/v1/images/generations';
export const MODELS_PATH = '/v1/models';
/** FastAPI serves its schema unless told not to: the Qwen-Image service has no other cheap GET. */
export const OPENAPI_PATH = '/openapi.json';

export interface OpenAiProviderOptions extends BodyOptions {
  readonly id?: string;
  /** Without the `/v1` (it is stripped by the options parser if given). */
  readonly baseUrl: string;
  readonly apiKey?: string;
  /** Where a missing or refused key should be set, for messages: never the key itself. */
  readonly keyHint: string;
  readonly organization?: string;
  readonly project?: string;
  /** The readiness probe's path; by flavor when unset. */
  readonly healthPath?: string;
  readonly timeoutMs: number;
  /** 0: no periodic re-check (refresh() still checks). */
  readonly healthIntervalMs: number;
  /** A Retry-After longer than this fails the job instead of holding it (default 120 s, as the SDK). */
  readonly maxRetryAfterMs?: number;
  readonly logger: Logger;
  readonly retry?: Omit<RetryPolicy, 'signal' | 'onRetry'>;
}

const answerSchema = z.object({
  data: z
    .array(
      z.object({
        b64_json: z.string().nullish(),
        url: z.string().nullish(),
        revised_prompt: z.string().nullish(),
      }),
    )
    .min(1, { error: 'no picture in data' }),
  output_format: z.string().nullish(),
  quality: z.string().nullish(),
});

const DISPLAY_NAMES: Readonly<Record<OpenAiFlavor, string>> = {
  openai: 'OpenAI Images',
  localai: 'LocalAI images',
  qwen: 'Qwen-Image service',
};

export class OpenAiProvider extends RemoteProvider {
  readonly displayName: string;
  readonly capabilities: ProviderCapabilities;
  private readonly http: RemoteHttp;
  /** For result URLs on other hosts (OpenAI's blob storage): no key goes there. */
  private readonly download: RemoteHttp;

  constructor(private readonly options: OpenAiProviderOptions) {
    super({
      id: options.id ?? options.flavor,
      logger: options.logger,
      healthIntervalMs: options.healthIntervalMs,
      retry: options.retry,
      // LocalAI and the Qwen service run one picture at a time on one GPU; OpenAI takes many.
      oneAtATime: options.flavor !== 'openai',
    });
    this.displayName = DISPLAY_NAMES[options.flavor];
    this.capabilities = {
      acceptsPrompt: true,
      // OpenAI has no negative prompt; the others take one.
      acceptsNegative: options.flavor !== 'openai',
      paid: options.flavor === 'openai',
      generates: true,
    };
    const headers: Record<string, string> = {
      ...(options.apiKey === undefined ? {} : { Authorization: `Bearer ${options.apiKey}` }),
      ...(options.organization === undefined ? {} : { 'OpenAI-Organization': options.organization }),
      ...(options.project === undefined ? {} : { 'OpenAI-Project': options.project }),
    };
    this.http = new RemoteHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs, headers });
    this.download = new RemoteHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
  }

  protected async generateNow(request: GenerateRequest): Promise<ProviderResult> {
    const { signal } = request;
    signal.throwIfAborted();
    this.requireKey();
    const plan = planBody(request, this.options);
    try {
      // No API of this shape lists its jobs: a request that may have arrived is not sent again
      // (OpenAI would bill both copies, a local server would make both).
      const answer = await this.retrying(signal, 'if-not-sent', () => this.post(plan, signal));
      const item = answer.data[0] as z.output<typeof answerSchema>['data'][number];
      const picture = await this.readPicture(item, signal);
      this.health.markUp();
      return {
        kind: 'bytes',
        bytes: new Uint8Array(picture.bytes.buffer, picture.bytes.byteOffset, picture.bytes.byteLength),
        ...(plan.cutPrompt === undefined ? {} : { prompt: plan.cutPrompt }),
        ...(plan.seed === undefined || plan.seed === request.seed ? {} : { seed: plan.seed }),
        details: {
          flavor: this.options.flavor,
          ...(this.options.model === undefined ? {} : { model: this.options.model }),
          size: plan.size,
          ...(item.revised_prompt ? { revised_prompt: item.revised_prompt } : {}),
          ...(answer.quality ? { quality: answer.quality } : this.options.quality === undefined ? {} : { quality: this.options.quality }),
          ...(this.options.steps === undefined || this.options.flavor === 'openai' ? {} : { steps: this.options.steps }),
        },
      };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof RemoteError && (error.failure === 'network' || error.isAuthFailure)) this.health.markDown(error.message);
      throw error;
    }
  }

  /** One POST; errors come back as what retrying should make of them. */
  private async post(plan: PlannedBody, signal: AbortSignal): Promise<z.output<typeof answerSchema>> {
    let response;
    try {
      response = await this.http.send({ method: 'POST', path: IMAGES_PATH, json: plan.body, signal });
    } catch (error) {
      throw this.repeatable(error);
    }
    if (response.status < 200 || response.status >= 300) {
      const error = openAiError(response, {
        providerId: this.id,
        ...(this.options.model === undefined ? {} : { model: this.options.model }),
        size: plan.size,
        ...(listedSizes(plan.family) === undefined ? {} : { validSizes: listedSizes(plan.family) }),
        keyHint: this.options.keyHint,
      });
      // A proxy stopped waiting, the server did not: like our own timeout, never sent twice.
      if (error instanceof RemoteError && isGatewayTimeout(error.status)) throw new ProviderError(error.message, { cause: error });
      const maxWait = this.options.maxRetryAfterMs ?? 120_000;
      if (error instanceof RemoteError && error.retryable && (error.retryAfterMs ?? 0) > maxWait) {
        throw new ProviderError(`${error.message} (the server asks to wait ${Math.round((error.retryAfterMs ?? 0) / 1000)} s; giving up on this picture)`, { cause: error });
      }
      throw error;
    }
    return parseAnswer(answerSchema, response, 'the generation');
  }

  /**
   * A timeout is final: the server is still working on the request (none of these servers
   * stops one whose caller left), so a second copy would queue behind the first, and OpenAI
   * bills both. A dropped connection is the retry rule's ('if-not-sent').
   */
  private repeatable(error: unknown): unknown {
    if (error instanceof RemoteError && error.failure === 'timeout') return new ProviderError(error.message, { cause: error });
    return error;
  }

  private async readPicture(item: { b64_json?: string | null; url?: string | null }, signal: AbortSignal): Promise<{ bytes: Buffer; format: PictureFormat }> {
    if (item.b64_json) return decodeBase64Image(item.b64_json, 'picture');
    if (!item.url) throw new RemoteError(`${this.http.urlFor(IMAGES_PATH)} answered neither b64_json nor a url`, { failure: 'invalid-response', url: this.http.urlFor(IMAGES_PATH) });
    const url = item.url;
    const client = isOtherOrigin(url, this.options.baseUrl) ? this.download : this.http;
    const response = await withRetries(() => client.fetchBytes({ path: url, signal, headers: { Accept: 'image/*' } }), { ...this.retry, signal });
    return imageFromBytes(response.body, 'picture');
  }

  private requireKey(): void {
    if (this.options.flavor === 'openai' && this.options.apiKey === undefined) {
      throw new ProviderError(`no API key: set ${this.options.keyHint}`);
    }
  }

  protected async probe(signal: AbortSignal): Promise<void> {
    this.requireKey();
    const path = this.options.healthPath ?? (this.options.flavor === 'qwen' ? OPENAPI_PATH : MODELS_PATH);
    const response = await this.http.send({ path, signal });
    if (response.status >= 200 && response.status < 300) return;
    throw openAiError(response, { providerId: this.id, size: '', keyHint: this.options.keyHint });
  }
}
