/**
 * ComfyUI as a provider: the user's own API-format workflow, placeholders filled, submitted
 * with POST /prompt, followed through GET /history/{id} (ComfyUI queues the work itself) and
 * the picture fetched through GET /view. Facts: ../shared/provider-apis.md §6.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from '../../util/logger.js';
import { sleep } from '../http/abortable-sleep.js';
import { imageFromBytes } from '../http/image-payload.js';
import { parseAnswer } from '../http/parse-answer.js';
import { RemoteError } from '../http/remote-error.js';
import { RemoteHttp } from '../http/remote-http.js';
import { RemoteProvider } from '../http/remote-provider.js';
import type { AfterDrop, RetryPolicy } from '../http/retry.js';
import { timeoutIsFinal } from '../http/timeout-is-final.js';
import { sizeForFrame } from '../remote-size.js';
import { ProviderError, type GenerateRequest, type ProviderCapabilities, type ProviderResult, type Readiness } from '../types.js';
import {
  comfyError,
  describeExecutionFailure,
  describeNodeErrors,
  historyEntrySchema,
  HISTORY_PATH,
  historyPath,
  INTERRUPT_PATH,
  pickImage,
  PROMPT_PATH,
  QUEUE_PATH,
  queueAnswerSchema,
  queuedIds,
  submitAnswerSchema,
  SYSTEM_STATS_PATH,
  VIEW_PATH,
  type HistoryEntry,
} from './comfyui-api.js';
import { fillWorkflow, loadWorkflowFile, type Workflow } from './workflow.js';

export interface ComfyUIProviderOptions {
  readonly id?: string;
  readonly baseUrl: string;
  /** The API-format workflow file; read at construction (a bad file throws a WorkflowError). */
  readonly workflowFile: string;
  /** Fills {{steps}}. */
  readonly steps: number;
  /** Fills {{negative}} when the request has no negative prompt. */
  readonly negativePrompt: string;
  readonly targetPixels: number;
  /** From submit to picture, queue included. */
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly healthIntervalMs: number;
  readonly logger: Logger;
  readonly retry?: Omit<RetryPolicy, 'signal' | 'onRetry'>;
}

/** Consecutive failed history polls tolerated (a restart of ComfyUI, a Wi-Fi hiccup). */
const MAX_POLL_FAILURES = 5;
/** Every this many empty history answers, check that the queue still holds the job. */
const QUEUE_CHECK_EVERY = 5;

export class ComfyUIProvider extends RemoteProvider {
  readonly displayName = 'ComfyUI';
  readonly capabilities: ProviderCapabilities = { acceptsPrompt: true, acceptsNegative: true, paid: false, generates: true };
  private readonly http: RemoteHttp;
  /** ComfyUI sends a client's progress events to its own socket; one id per provider. */
  private readonly clientId = randomUUID();
  private workflow: Workflow;
  private workflowMtimeMs: number;
  /** Set while the file, re-read after an edit, cannot be used. */
  private workflowProblem: string | undefined;

  constructor(private readonly options: ComfyUIProviderOptions) {
    // Not one at a time here: ComfyUI queues prompts itself.
    super({ id: options.id ?? 'comfyui', logger: options.logger, healthIntervalMs: options.healthIntervalMs, retry: options.retry });
    this.workflow = loadWorkflowFile(options.workflowFile);
    this.workflowMtimeMs = mtimeOf(options.workflowFile);
    this.warnAbout(this.workflow);
    this.http = new RemoteHttp({ baseUrl: options.baseUrl });
  }

  override readiness(): Readiness {
    return this.workflowProblem === undefined ? super.readiness() : { ready: false, reason: this.workflowProblem };
  }

  /** Re-reads the workflow when the file changed, and re-checks the server. */
  override async refresh(): Promise<void> {
    this.reloadWorkflowIfChanged();
    await super.refresh();
  }

  protected async generateNow(request: GenerateRequest): Promise<ProviderResult> {
    const { signal } = request;
    signal.throwIfAborted();
    if (this.workflowProblem !== undefined) throw new ProviderError(this.workflowProblem);
    const workflow = this.workflow;
    const { width, height } = sizeForFrame(request.width, request.height, this.options.targetPixels, 64);
    const graph = fillWorkflow(workflow, {
      prompt: request.prompt,
      negative: request.negative ?? this.options.negativePrompt,
      seed: request.seed,
      width,
      height,
      steps: this.options.steps,
    });
    // The submit is not cut short by an abort: a prompt the server queued while we stopped
    // listening would run with nobody waiting. The caller is released at once, and the
    // prompt is taken off the server as soon as its id is known.
    // Marks the prompt so that, after a dropped connection, /queue or /history can tell
    // whether the server took it (the prompt id came in the lost answer).
    const mark = randomUUID();
    const submission = this.retrying(signal, { ask: () => this.findSubmission(mark) }, () => this.submit(graph, mark));
    let promptId: string;
    try {
      promptId = await untilAborted(submission, signal);
    } catch (error) {
      if (signal.aborted) {
        submission.then((id) => this.cancel(id), () => undefined);
        throw signal.reason;
      }
      // The server may be gone: check now, not at the next interval.
      if (error instanceof RemoteError && error.failure === 'network') void this.health.refresh();
      throw error;
    }
    request.onProgress?.({ step: 0, total: 1 });
    let entry: HistoryEntry;
    try {
      entry = await this.waitUntilDone(promptId, signal);
    } catch (error) {
      if (!signal.aborted) throw error;
      await this.cancel(promptId);
      throw signal.reason;
    }
    const image = pickImage(entry);
    if (!image) throw new ProviderError('the workflow finished without an image (does it end in a SaveImage node?)');
    const response = await this.retrying(signal, 'always', () =>
      this.http.fetchBytes({ path: VIEW_PATH, query: { filename: image.filename, subfolder: image.subfolder, type: image.type }, signal }),
    );
    const picture = imageFromBytes(response.body, 'picture');
    this.health.markUp();
    request.onProgress?.({ step: 1, total: 1 });
    return {
      kind: 'bytes',
      bytes: new Uint8Array(picture.bytes.buffer, picture.bytes.byteOffset, picture.bytes.byteLength),
      details: {
        workflow: basename(workflow.file),
        prompt_id: promptId,
        width,
        height,
        ...(workflow.placeholders.has('steps') ? { steps: this.options.steps } : {}),
      },
    };
  }

  private async submit(graph: Record<string, unknown>, mark: string): Promise<string> {
    // The prompt may be queued already: sending it again could make the picture twice.
    const response = await timeoutIsFinal(async () => {
      const answer = await this.http.send({ path: PROMPT_PATH, json: { prompt: graph, client_id: this.clientId, extra_data: { [SUBMISSION_KEY]: mark } } });
      if (answer.status < 200 || answer.status >= 300) throw comfyError(answer);
      return answer;
    });
    const { prompt_id: promptId, node_errors: nodeErrors } = parseAnswer(submitAnswerSchema, response, 'the new prompt');
    // Queued although some output nodes failed validation: ComfyUI runs the others and skips
    // these, so the picture may not come from the node the user meant.
    const skipped = describeNodeErrors(nodeErrors);
    if (skipped.length > 0) {
      this.options.logger.warn(`provider ${this.id}: ComfyUI skips part of workflow ${basename(this.options.workflowFile)}: ${skipped.join('; ')}`, { prompt_id: promptId });
    }
    return promptId;
  }

  /**
   * The prompt whose submit carried `mark`, after the connection of that submit dropped:
   * ComfyUI keeps a request's extra_data with the prompt, in the queue (item 3) and in the
   * history (`prompt[3]`). Found, it is followed like any other; absent, it is sent again.
   */
  private async findSubmission(mark: string): Promise<AfterDrop<string>> {
    const signal = AbortSignal.timeout(10_000);
    const queue = queueAnswerSchema.parse(await this.http.fetchJson({ path: QUEUE_PATH, signal }));
    const queued = [...queue.queue_running, ...queue.queue_pending].find((item) => carriesMark(item[3], mark));
    if (typeof queued?.[1] === 'string') return { kind: 'found', value: queued[1] };
    // Read after the queue: a prompt that finished in between is in the history by now.
    const history = await this.http.fetchJson<Record<string, unknown>>({ path: HISTORY_PATH, query: { max_items: RECENT_HISTORY }, signal });
    for (const [promptId, entry] of Object.entries(history)) {
      const prompt = (entry as { prompt?: unknown } | null)?.prompt;
      if (Array.isArray(prompt) && carriesMark(prompt[3], mark)) return { kind: 'found', value: promptId };
    }
    return { kind: 'absent' };
  }

  /** Polls the history until the prompt is done; a failed run is a final failure. */
  private async waitUntilDone(promptId: string, signal: AbortSignal): Promise<HistoryEntry> {
    const deadline = Date.now() + this.options.timeoutMs;
    let failures = 0;
    let emptyAnswers = 0;
    for (;;) {
      await sleep(this.options.pollIntervalMs, signal);
      if (Date.now() > deadline) {
        await this.cancel(promptId);
        throw new ProviderError(`no picture within ${Math.round(this.options.timeoutMs / 1000)} s (prompt ${promptId})`);
      }
      let entry: HistoryEntry | undefined;
      try {
        entry = await this.readHistory(promptId, signal);
        failures = 0;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        failures += 1;
        if (!(error instanceof ProviderError && error.retryable) || failures >= MAX_POLL_FAILURES) throw error;
        this.options.logger.debug(`provider ${this.id}: history poll failed`, { reason: (error as Error).message });
        continue;
      }
      if (entry !== undefined) {
        if (entry.status?.status_str === 'error') throw new ProviderError(describeExecutionFailure(entry));
        return entry;
      }
      emptyAnswers += 1;
      if (emptyAnswers % QUEUE_CHECK_EVERY === 0 && !(await this.isQueued(promptId, signal))) {
        // It may have finished between the two reads: look once more before giving up.
        const late = await this.readHistory(promptId, signal);
        if (late !== undefined) {
          if (late.status?.status_str === 'error') throw new ProviderError(describeExecutionFailure(late));
          return late;
        }
        throw new ProviderError(`ComfyUI no longer knows prompt ${promptId} (was it restarted, or the queue cleared?)`);
      }
    }
  }

  private async readHistory(promptId: string, signal: AbortSignal): Promise<HistoryEntry | undefined> {
    const answer = await this.http.fetchJson<Record<string, unknown>>({ path: historyPath(promptId), signal });
    const raw = answer[promptId];
    if (raw === undefined) return undefined;
    const parsed = historyEntrySchema.safeParse(raw);
    if (!parsed.success) throw new ProviderError(`the history of prompt ${promptId} has an unexpected shape: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }

  private async isQueued(promptId: string, signal: AbortSignal): Promise<boolean> {
    try {
      const queue = queueAnswerSchema.parse(await this.http.fetchJson({ path: QUEUE_PATH, signal }));
      return [...queuedIds(queue.queue_running), ...queuedIds(queue.queue_pending)].includes(promptId);
    } catch {
      if (signal.aborted) throw signal.reason;
      return true; // cannot tell: keep waiting
    }
  }

  /**
   * Takes our prompt off the server after an abort: out of the queue while it waits, or
   * interrupted while it runs. `/interrupt` with a prompt_id stops only that prompt on
   * current versions; it is sent only when ours runs, so an older server that ignores the
   * id never stops someone else's job.
   */
  private async cancel(promptId: string): Promise<void> {
    const signal = AbortSignal.timeout(5000);
    try {
      const queue = queueAnswerSchema.parse(await this.http.fetchJson({ path: QUEUE_PATH, signal }));
      if (queuedIds(queue.queue_pending).includes(promptId)) {
        await this.http.fetchBytes({ method: 'POST', path: QUEUE_PATH, json: { delete: [promptId] }, signal });
        this.options.logger.info(`provider ${this.id}: generation aborted; removed it from the ComfyUI queue`);
      } else if (queuedIds(queue.queue_running).includes(promptId)) {
        await this.http.fetchBytes({ method: 'POST', path: INTERRUPT_PATH, json: { prompt_id: promptId }, signal });
        this.options.logger.info(`provider ${this.id}: generation aborted; asked ComfyUI to interrupt it`);
      }
    } catch (error) {
      this.options.logger.warn(`provider ${this.id}: could not cancel the aborted generation`, { reason: (error as Error).message });
    }
  }

  protected async probe(signal: AbortSignal): Promise<void> {
    await this.http.fetchJson({ path: SYSTEM_STATS_PATH, signal });
  }

  private reloadWorkflowIfChanged(): void {
    const file = this.options.workflowFile;
    const mtimeMs = mtimeOf(file);
    if (mtimeMs === this.workflowMtimeMs && this.workflowProblem === undefined) return;
    this.workflowMtimeMs = mtimeMs;
    try {
      this.workflow = loadWorkflowFile(file);
      this.warnAbout(this.workflow);
      if (this.workflowProblem !== undefined) this.options.logger.info(`provider ${this.id}: workflow ${file} is usable again`);
      this.workflowProblem = undefined;
    } catch (error) {
      const problem = (error as Error).message;
      if (problem !== this.workflowProblem) this.options.logger.warn(`provider ${this.id}: not ready: ${problem}`);
      this.workflowProblem = problem;
    }
  }

  private warnAbout(workflow: Workflow): void {
    for (const warning of workflow.warnings) this.options.logger.warn(`provider ${this.id}: workflow ${workflow.file}: ${warning}`);
  }
}

/** The extra_data key that marks one submit of ours. */
const SUBMISSION_KEY = 'aiframe_submission';
/** History entries read when looking for a submit: far more than finish within a retry's wait. */
const RECENT_HISTORY = 64;

function carriesMark(extraData: unknown, mark: string): boolean {
  return typeof extraData === 'object' && extraData !== null && (extraData as Record<string, unknown>)[SUBMISSION_KEY] === mark;
}

/** The promise's outcome, or the signal's reason as soon as it aborts (the promise runs on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}
