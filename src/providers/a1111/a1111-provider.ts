/**
 * AUTOMATIC1111 stable-diffusion-webui (and Forge, which keeps its API) as a provider:
 * one synchronous POST /sdapi/v1/txt2img per picture, progress polled beside it.
 * Facts behind the choices: ../shared/provider-apis.md §2.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../../util/logger.js';
import { deliveryOf } from '../http/delivery.js';
import { decodeBase64Image } from '../http/image-payload.js';
import { parseAnswer } from '../http/parse-answer.js';
import { RemoteError } from '../http/remote-error.js';
import { parseJsonBody, RemoteHttp } from '../http/remote-http.js';
import { RemoteProvider } from '../http/remote-provider.js';
import type { AfterDrop, RetryPolicy } from '../http/retry.js';
import { timeoutIsFinal } from '../http/timeout-is-final.js';
import { sizeForFrame } from '../remote-size.js';
import { ProviderError, type GenerateRequest, type ProviderCapabilities, type ProviderResult } from '../types.js';
import {
  a1111Error,
  INTERRUPT_PATH,
  MODELS_PATH,
  parseGenerationInfo,
  PROGRESS_PATH,
  progressSchema,
  TASK_PROGRESS_PATH,
  taskProgressSchema,
  TXT2IMG_PATH,
  txt2imgAnswerSchema,
} from './a1111-api.js';
import { ProgressWatch } from './a1111-progress.js';

export interface A1111ProviderOptions {
  readonly id?: string;
  readonly baseUrl: string;
  readonly auth?: { readonly username: string; readonly password: string };
  readonly checkpoint?: string;
  readonly steps: number;
  readonly cfgScale: number;
  readonly sampler: string;
  readonly scheduler?: string;
  /** `request`: the frame server's seed; `random`: -1, the server picks (and reports it). */
  readonly seedMode: 'request' | 'random';
  readonly negativePrompt: string;
  /** About this many pixels, in the frame's aspect ratio. */
  readonly targetPixels: number;
  readonly timeoutMs: number;
  readonly progressIntervalMs: number;
  /** 0: no periodic re-check (refresh() still checks). */
  readonly healthIntervalMs: number;
  readonly logger: Logger;
  /** Retry back-off; the default suits a box on the home network. */
  readonly retry?: Omit<RetryPolicy, 'signal' | 'onRetry'>;
}

const modelsSchema = z.array(z.object({ title: z.string(), model_name: z.string().optional(), filename: z.string().optional() }));

export class A1111Provider extends RemoteProvider {
  readonly displayName = 'AUTOMATIC1111 / Forge';
  readonly capabilities: ProviderCapabilities = { acceptsPrompt: true, acceptsNegative: true, paid: false, generates: true };
  private readonly http: RemoteHttp;
  /** The checkpoint's title as the server spells it, found by the readiness check. */
  private checkpointTitle: string | undefined;

  constructor(private readonly options: A1111ProviderOptions) {
    // One at a time: the server queues behind a lock with no timeout of its own.
    super({ id: options.id ?? 'a1111', logger: options.logger, healthIntervalMs: options.healthIntervalMs, retry: options.retry, oneAtATime: true });
    this.http = new RemoteHttp({
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      ...(options.auth === undefined ? {} : { basicAuth: options.auth }),
    });
  }

  protected async generateNow(request: GenerateRequest): Promise<ProviderResult> {
    const { signal } = request;
    const { width, height } = sizeForFrame(request.width, request.height, this.options.targetPixels, 64);
    // Named so progress and an interrupt can tell our job from someone else's on a shared box.
    const taskId = `task(aiframe-${randomUUID()})`;
    const checkpoint = this.checkpointTitle ?? this.options.checkpoint;
    const body = {
      prompt: request.prompt,
      negative_prompt: request.negative ?? this.options.negativePrompt,
      steps: this.options.steps,
      cfg_scale: this.options.cfgScale,
      sampler_name: this.options.sampler,
      ...(this.options.scheduler === undefined ? {} : { scheduler: this.options.scheduler }),
      seed: this.options.seedMode === 'random' ? -1 : request.seed,
      width,
      height,
      batch_size: 1,
      n_iter: 1,
      send_images: true,
      save_images: false,
      force_task_id: taskId,
      ...(checkpoint === undefined ? {} : { override_settings: { sd_model_checkpoint: checkpoint }, override_settings_restore_afterwards: true }),
    };
    const watch = request.onProgress
      ? new ProgressWatch({ http: this.http, taskId, intervalMs: this.options.progressIntervalMs, onProgress: request.onProgress, logger: this.options.logger })
      : undefined;
    let answer: z.output<typeof txt2imgAnswerSchema>;
    try {
      answer = await this.retrying(signal, { ask: () => this.whereIsTask(taskId) }, () => this.txt2img(body, signal));
    } catch (error) {
      // A job nobody waits for any more (aborted, timed out, its answer lost) is stopped if it runs.
      if (signal.aborted || error instanceof JobTimeoutError || deliveryOf(error) === 'may-have-arrived') await this.interrupt(taskId);
      if (signal.aborted) throw signal.reason;
      // The server may be gone (or its password changed): check now, not at the next interval.
      if (error instanceof RemoteError && (error.failure === 'network' || error.isAuthFailure)) void this.health.refresh();
      throw error;
    } finally {
      await watch?.stop();
    }
    this.health.markUp();
    const image = decodeBase64Image(answer.images[0], 'picture');
    const info = parseGenerationInfo(answer.info);
    return {
      kind: 'bytes',
      bytes: new Uint8Array(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength),
      ...(info.seed === undefined ? {} : { seed: info.seed }),
      details: {
        sampler: info.sampler ?? this.options.sampler,
        ...(this.options.scheduler === undefined ? {} : { scheduler: this.options.scheduler }),
        steps: this.options.steps,
        cfg_scale: this.options.cfgScale,
        width: info.width ?? width,
        height: info.height ?? height,
        ...(info.model === undefined ? {} : { model: info.model }),
      },
    };
  }

  private async txt2img(body: Record<string, unknown>, signal: AbortSignal): Promise<z.output<typeof txt2imgAnswerSchema>> {
    const response = await timeoutIsFinal(
      async () => {
        const answer = await this.http.send({ path: TXT2IMG_PATH, json: body, signal });
        if (answer.status < 200 || answer.status >= 300) throw a1111Error(answer);
        return answer;
      },
      (timeout) => new JobTimeoutError(timeout),
    );
    return parseAnswer(txt2imgAnswerSchema, response, 'the generation');
  }

  /**
   * Where our task is after the connection of its txt2img dropped. The picture travels only in
   * that lost answer (nothing is saved on the server), so a task the server took is final, not
   * waited for: it is interrupted if it still runs. Only a server that names its tasks (v1.6+,
   * `current_task`) and serves the web UI's /internal/progress (which lists queued and finished
   * ones) can say it never got it; any other cannot be asked, and the txt2img is not sent again.
   */
  private async whereIsTask(taskId: string): Promise<AfterDrop<never>> {
    const signal = AbortSignal.timeout(10_000);
    const progress = progressSchema.parse(parseJsonBody(await this.http.fetchBytes({ path: PROGRESS_PATH, query: { skip_current_image: true }, signal })));
    if (progress.current_task === undefined) return { kind: 'final', reason: 'the server (older than v1.6) cannot say which jobs it has' };
    const response = await this.http.send({ method: 'POST', path: TASK_PROGRESS_PATH, json: { id_task: taskId, id_live_preview: -1 }, signal });
    if (response.status === 404) return { kind: 'final', reason: 'the server runs without its web UI (--nowebui), whose /internal/progress alone lists queued jobs' };
    if (response.status < 200 || response.status >= 300) throw a1111Error(response);
    const task = parseAnswer(taskProgressSchema, response, 'the task progress');
    if (task.active) return { kind: 'final', reason: 'the server is running the job, and its picture was lost with the answer' };
    if (task.queued) return { kind: 'final', reason: 'the server has the job in its queue, and its picture will be lost with the answer' };
    if (task.completed) return { kind: 'final', reason: 'the server finished the job, and its picture was lost with the answer' };
    return { kind: 'absent' };
  }

  /**
   * Stops our job on the server after an abort, a timeout or a lost answer (the server finishes a request
   * whose caller left). `/interrupt` stops whatever runs, so it is sent only when the running task is ours,
   * or the server is too old to say which task runs.
   */
  private async interrupt(taskId: string): Promise<void> {
    const signal = AbortSignal.timeout(5000);
    try {
      const progress = progressSchema.parse(parseJsonBody(await this.http.fetchBytes({ path: PROGRESS_PATH, query: { skip_current_image: true }, signal })));
      const ours = progress.current_task === taskId || (progress.current_task === undefined && (progress.state?.job_count ?? 0) > 0);
      if (!ours) {
        this.options.logger.debug(`provider ${this.id}: our job is not running on the server; nothing to interrupt`);
        return;
      }
      await this.http.fetchBytes({ method: 'POST', path: INTERRUPT_PATH, json: {}, signal });
      this.options.logger.info(`provider ${this.id}: nobody waits for the job any more; asked the server to interrupt it`);
    } catch (error) {
      this.options.logger.warn(`provider ${this.id}: could not interrupt the aborted generation`, { reason: (error as Error).message });
    }
  }

  /**
   * Readiness: the model list answers (auth included), and a configured checkpoint is on
   * it. The server silently keeps its current model for an unknown checkpoint name, so a
   * typo would otherwise go unnoticed.
   */
  protected async probe(signal: AbortSignal): Promise<void> {
    const response = await this.http.send({ path: MODELS_PATH, signal });
    if (response.status < 200 || response.status >= 300) throw a1111Error(response);
    const wanted = this.options.checkpoint;
    if (wanted === undefined) return;
    const parsed = modelsSchema.safeParse(parseJsonBody(response));
    if (!parsed.success) throw new Error(`${response.url} answered an unexpected model list`);
    const match = parsed.data.find((model) => checkpointNames(model).includes(wanted));
    if (!match) {
      const known = parsed.data.map((model) => model.model_name ?? model.title).join(', ');
      throw new Error(`checkpoint "${wanted}" is not on the server (it has: ${known || 'none'})`);
    }
    this.checkpointTitle = match.title;
  }
}

/**
 * The server has no timeout of its own and keeps working on a request we (or a reverse
 * proxy's 504) stopped waiting for: not retryable, since sending it again would queue a
 * second copy behind the first; the job is interrupted instead.
 */
class JobTimeoutError extends ProviderError {
  constructor(cause: RemoteError) {
    super(cause.message, { cause });
    this.name = 'JobTimeoutError';
  }
}

/** The spellings a user may copy: the title ("name.safetensors [hash]"), its file name, the bare name. */
function checkpointNames(model: { title: string; model_name?: string | undefined; filename?: string | undefined }): string[] {
  const names = [model.title, model.title.replace(/\s*\[[0-9a-f]+\]$/i, '')];
  if (model.model_name) names.push(model.model_name);
  if (model.filename) names.push(model.filename, model.filename.split(/[\\/]/).pop() ?? '');
  return names;
}
