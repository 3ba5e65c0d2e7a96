import { sleep } from '../http/abortable-sleep.js';
import { decodeBase64Image } from '../http/image-payload.js';
import { parseJsonBody, type RemoteHttp } from '../http/remote-http.js';
import type { Logger } from '../../util/logger.js';
import type { GenerationProgress } from '../types.js';
import { PROGRESS_PATH, progressSchema, type ProgressAnswer } from './a1111-api.js';

export interface ProgressWatchOptions {
  readonly http: RemoteHttp;
  /** The `force_task_id` sent with our txt2img: progress of another user's job is not ours. */
  readonly taskId: string;
  readonly intervalMs: number;
  readonly onProgress: (progress: GenerationProgress) => void;
  readonly logger: Logger;
}

/**
 * Polls `/sdapi/v1/progress` while a txt2img call runs (the call itself says nothing until
 * it ends). One poll at a time; a failed poll is skipped, never a failed generation. Stops
 * when {@link stop} is called.
 */
export class ProgressWatch {
  private readonly controller = new AbortController();
  private readonly done: Promise<void>;
  private lastStep = -1;

  constructor(private readonly options: ProgressWatchOptions) {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.controller.abort(new Error('generation finished'));
    await this.done;
  }

  private async loop(): Promise<void> {
    const { signal } = this.controller;
    while (!signal.aborted) {
      try {
        await sleep(this.options.intervalMs, signal);
        const answer = await this.poll(signal);
        this.report(answer);
      } catch (error) {
        if (signal.aborted) return;
        this.options.logger.debug('progress poll failed', { error: (error as Error).message });
      }
    }
  }

  private async poll(signal: AbortSignal): Promise<ProgressAnswer> {
    const response = await this.options.http.fetchBytes({
      path: PROGRESS_PATH,
      query: { skip_current_image: false },
      signal,
      timeoutMs: Math.max(5000, this.options.intervalMs * 5),
    });
    return progressSchema.parse(parseJsonBody(response));
  }

  private report(answer: ProgressAnswer): void {
    // Servers before v1.6 do not name the running task; then any running job is taken as ours
    // (this adapter sends one at a time).
    if (answer.current_task !== undefined && answer.current_task !== this.options.taskId) return;
    const step = answer.state?.sampling_step ?? 0;
    const total = answer.state?.sampling_steps ?? 0;
    if (total <= 0 || step === this.lastStep) return;
    this.lastStep = step;
    let preview: Uint8Array | undefined;
    if (answer.current_image) {
      try {
        preview = decodeBase64Image(answer.current_image, 'preview').bytes;
      } catch {
        preview = undefined;
      }
    }
    this.options.onProgress({ step: Math.min(step, total), total, ...(preview === undefined ? {} : { preview }) });
  }
}
