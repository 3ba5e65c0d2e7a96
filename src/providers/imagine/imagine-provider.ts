/**
 * The Imagine server (architector1324/imagine, `imagine serve`) as a provider: one POST
 * /generate per picture, non-stream. The server loads the model on every request and has no
 * queue (two requests load two pipelines), so calls go one at a time from here.
 * Facts behind the choices: ../shared/provider-apis.md §4.
 */
import type { Logger } from '../../util/logger.js';
import { decodeBase64Image } from '../http/image-payload.js';
import { parseAnswer } from '../http/parse-answer.js';
import { RemoteError } from '../http/remote-error.js';
import { httpStatusError, parseJsonBody, RemoteHttp } from '../http/remote-http.js';
import { RemoteProvider } from '../http/remote-provider.js';
import type { RetryPolicy } from '../http/retry.js';
import { timeoutIsFinal } from '../http/timeout-is-final.js';
import { sizeForFrame } from '../remote-size.js';
import type { GenerateRequest, ProviderCapabilities, ProviderResult } from '../types.js';
import { exactSeed, GENERATE_PATH, generateAnswerSchema, imagineError, MODELS_PATH, modelsAnswerSchema } from './imagine-api.js';

export interface ImagineProviderOptions {
  readonly id?: string;
  readonly baseUrl: string;
  /** File stem of `<models>/<model>.safetensors` on the server. */
  readonly model: string;
  readonly steps: number;
  readonly guidance: number;
  readonly sampler: string;
  /** `request`: the frame server's seed; `random`: none sent, the server picks (and reports it). */
  readonly seedMode: 'request' | 'random';
  readonly negativePrompt: string;
  /** Also send `num_steps`, the name servers before 2025-06-29 read; those have no GET /models either. */
  readonly legacyFieldNames: boolean;
  readonly targetPixels: number;
  readonly timeoutMs: number;
  readonly healthIntervalMs: number;
  readonly logger: Logger;
  readonly retry?: Omit<RetryPolicy, 'signal' | 'onRetry'>;
}

export class ImagineProvider extends RemoteProvider {
  readonly displayName = 'Imagine';
  readonly capabilities: ProviderCapabilities = { acceptsPrompt: true, acceptsNegative: true, paid: false, generates: true };
  private readonly http: RemoteHttp;

  constructor(private readonly options: ImagineProviderOptions) {
    // One at a time: the server has no queue, and each request loads its own pipeline.
    // It cannot stop a non-stream job either: an abort only stops our waiting.
    super({ id: options.id ?? 'imagine', logger: options.logger, healthIntervalMs: options.healthIntervalMs, retry: options.retry, oneAtATime: true });
    this.http = new RemoteHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
  }

  protected async generateNow(request: GenerateRequest): Promise<ProviderResult> {
    const { signal } = request;
    const { width, height } = sizeForFrame(request.width, request.height, this.options.targetPixels, 64);
    const body = {
      model: this.options.model,
      prompt: request.prompt,
      neg: request.negative ?? this.options.negativePrompt,
      width,
      height,
      steps: this.options.steps,
      ...(this.options.legacyFieldNames ? { num_steps: this.options.steps } : {}),
      guidance: this.options.guidance,
      sampler: this.options.sampler,
      // A number: the current server reads it with int() (text or number), the early ones hand
      // it to torch's manual_seed as it came, which refuses text.
      ...(this.options.seedMode === 'random' ? {} : { seed: request.seed }),
    };
    request.onProgress?.({ step: 0, total: this.options.steps });
    let answer;
    try {
      // The API lists no jobs: a request that may have reached it is not sent again.
      answer = await this.retrying(signal, 'if-not-sent', () => this.post(body, signal));
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      // The server may be gone: check now, not at the next interval.
      if (error instanceof RemoteError && error.failure === 'network') void this.health.refresh();
      throw error;
    }
    this.health.markUp();
    const image = decodeBase64Image(answer.img, 'picture');
    request.onProgress?.({ step: this.options.steps, total: this.options.steps });
    const seed = exactSeed(answer.seed);
    return {
      kind: 'bytes',
      bytes: new Uint8Array(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength),
      ...(seed === undefined ? {} : { seed }),
      details: {
        model: this.options.model,
        sampler: this.options.sampler,
        steps: this.options.steps,
        guidance: this.options.guidance,
        width,
        height,
        ...(seed === undefined && answer.seed !== undefined ? { seed: String(answer.seed) } : {}),
      },
    };
  }

  private async post(body: Record<string, unknown>, signal: AbortSignal) {
    // The server keeps generating for a caller that left: a second copy would load a second
    // pipeline beside the first.
    const response = await timeoutIsFinal(async () => {
      const answer = await this.http.send({ path: GENERATE_PATH, json: body, signal });
      if (answer.status < 200 || answer.status >= 300) throw imagineError(answer);
      return answer;
    });
    return parseAnswer(generateAnswerSchema, response, 'the generation');
  }

  /**
   * Readiness: the model list answers and holds the configured model. Servers from before
   * the field rename have no GET /models: with legacy field names a 404 there is a server
   * that answers, whose models cannot be listed.
   */
  protected async probe(signal: AbortSignal): Promise<void> {
    const response = await this.http.send({ path: MODELS_PATH, signal });
    if (response.status === 404) {
      if (this.options.legacyFieldNames) return;
      throw httpStatusError(response, ': no model list here; for an early server (from before the field rename of June 2025) set legacy_field_names: true');
    }
    if (response.status < 200 || response.status >= 300) throw imagineError(response);
    const parsed = modelsAnswerSchema.safeParse(parseJsonBody(response));
    if (!parsed.success) throw new Error(`${response.url} answered an unexpected model list`);
    if (!parsed.data.models.includes(this.options.model)) {
      throw new Error(`model "${this.options.model}" is not in the server's models folder (it has: ${parsed.data.models.join(', ') || 'none'})`);
    }
  }
}
