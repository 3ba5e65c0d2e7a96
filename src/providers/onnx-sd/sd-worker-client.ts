/**
 * The main thread's side of the inference worker: one job at a time (queued here), progress
 * relayed as it comes, cancellation through the request's AbortSignal, and a worker that
 * dies (a crash, an out-of-memory kill) turned into a failed job and a fresh worker for the
 * next one, never a promise that hangs.
 *
 * The worker is spawned on the first job and kept, with its sessions loaded, between
 * pictures. It is unref'd while idle so it never keeps the process alive by itself.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Logger } from '../../util/logger.js';
import { SerialQueue } from '../../util/serial-queue.js';
import { ProviderError } from '../types.js';
import type { GenerateParams } from './sd-pipeline.js';
import type { DebugAction, FromWorker, LoadedModel, LoadSpec, ToWorker, WorkerImage, WorkerStart } from './worker-protocol.js';

export interface SdWorkerClientOptions {
  readonly logger: Logger;
  /** How long a cancelled job may take to stop between steps before the worker is terminated. */
  readonly cancelGraceMs?: number;
  /** Heap limits for the worker (onnxruntime's native memory is not counted by V8). */
  readonly resourceLimits?: ResourceLimits;
}

export interface JobOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (step: number, total: number) => void;
}

const DEFAULT_CANCEL_GRACE_MS = 5000;

interface RunningJob {
  readonly job: number;
  onMessage(message: FromWorker): void;
  /** Ends the job with this error (the worker died, or the client was closed). */
  fail(error: Error): void;
}

interface LiveWorker {
  readonly worker: Worker;
  readonly cancelFlag: Int32Array;
  current: RunningJob | undefined;
  /** Why it died, from its 'error' event (which comes before 'exit'). */
  error: Error | undefined;
}

export class SdWorkerClient {
  private live: LiveWorker | undefined;
  private readonly queue = new SerialQueue();
  private nextJob = 1;
  private closed = false;
  private spawned = 0;

  constructor(private readonly options: SdWorkerClientOptions) {}

  /** How many workers were started so far (a crash makes the next job start another). */
  get workersStarted(): number {
    return this.spawned;
  }

  /** Loads (or keeps) the model in the worker without generating. */
  load(spec: LoadSpec, options: JobOptions = {}): Promise<LoadedModel> {
    return this.enqueue(() => this.runJob<LoadedModel>({ kind: 'load', spec }, options, (message) => (message.kind === 'loaded' ? message.model : undefined)), options.signal);
  }

  /** Generates one picture; rejects with the signal's reason when aborted, a ProviderError on failure. */
  generate(spec: LoadSpec, params: GenerateParams, options: JobOptions = {}): Promise<WorkerImage> {
    return this.enqueue(
      () => this.runJob<WorkerImage>({ kind: 'generate', spec, params }, options, (message) => (message.kind === 'done' ? message.image : undefined)),
      options.signal,
    );
  }

  /**
   * Queues a job. A job aborted while it still waits is rejected at once (and skipped when
   * its turn comes); once running, it ends when the worker has stopped.
   */
  private enqueue<T>(task: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    let started = false;
    const queued = this.queue.run(() => {
      started = true;
      return task();
    });
    if (!signal) return queued;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (!started) reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      queued.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error as Error);
        },
      );
    });
  }

  /** Test hook: makes the current worker misbehave (see {@link DebugAction}). */
  debug(action: DebugAction): void {
    if (!this.live) throw new Error('no worker is running');
    this.live.worker.postMessage({ kind: 'debug', ...action } satisfies ToWorker);
  }

  async close(): Promise<void> {
    this.closed = true;
    const live = this.live;
    if (!live) return;
    this.live = undefined;
    live.current?.fail(new ProviderError('the ONNX provider was closed'));
    await live.worker.terminate();
  }

  private runJob<T>(
    request: { kind: 'load'; spec: LoadSpec } | { kind: 'generate'; spec: LoadSpec; params: GenerateParams },
    options: JobOptions,
    resultOf: (message: FromWorker) => T | undefined,
  ): Promise<T> {
    if (this.closed) return Promise.reject(new ProviderError('the ONNX provider is closed'));
    const { signal } = options;
    // A job aborted while it waited in the queue never reaches the worker.
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const live = this.ensureWorker();
    const job = this.nextJob++;
    const graceMs = this.options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    return new Promise<T>((resolve, reject) => {
      let graceTimer: NodeJS.Timeout | undefined;
      const finish = (outcome: () => void): void => {
        if (live.current?.job !== job) return;
        live.current = undefined;
        clearTimeout(graceTimer);
        signal?.removeEventListener('abort', onAbort);
        live.worker.unref();
        outcome();
      };
      const onAbort = (): void => {
        Atomics.store(live.cancelFlag, 0, job);
        live.worker.postMessage({ kind: 'cancel', job } satisfies ToWorker);
        graceTimer = setTimeout(() => {
          this.options.logger.warn(`ONNX worker did not stop within ${graceMs / 1000} s of a cancel; terminating it`);
          finish(() => reject(signal!.reason as Error));
          this.discard(live);
        }, graceMs);
        graceTimer.unref();
      };
      live.current = {
        job,
        onMessage: (message) => {
          switch (message.kind) {
            case 'progress':
              options.onProgress?.(message.step, message.total);
              return;
            case 'cancelled':
              finish(() => reject(signal?.aborted ? (signal.reason as Error) : new ProviderError('generation cancelled')));
              return;
            case 'failed':
              finish(() => reject(new ProviderError(message.message)));
              return;
            default: {
              const result = resultOf(message);
              if (result !== undefined) finish(() => resolve(result));
            }
          }
        },
        fail: (error) => finish(() => reject(error)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      live.worker.ref();
      live.worker.postMessage({ ...request, job } satisfies ToWorker);
    });
  }

  private ensureWorker(): LiveWorker {
    if (this.live) return this.live;
    const cancelFlag = new SharedArrayBuffer(4);
    const workerData: WorkerStart = { cancelFlag };
    const worker = new Worker(new URL('./sd-worker.js', import.meta.url), {
      workerData,
      ...(this.options.resourceLimits === undefined ? {} : { resourceLimits: this.options.resourceLimits }),
    });
    this.spawned += 1;
    const live: LiveWorker = { worker, cancelFlag: new Int32Array(cancelFlag), current: undefined, error: undefined };
    worker.on('message', (message: FromWorker) => {
      if (message.kind === 'warning') {
        this.options.logger.warn(message.message);
        return;
      }
      if (live.current && 'job' in message && message.job === live.current.job) live.current.onMessage(message);
    });
    worker.on('error', (error) => {
      live.error = error;
      this.options.logger.error('ONNX worker crashed', { error: error.message });
    });
    worker.on('exit', (code) => {
      if (this.live === live) this.live = undefined;
      const reason = live.error ? live.error.message : `exit code ${code}`;
      live.current?.fail(new ProviderError(`the ONNX worker stopped unexpectedly (${reason}); the next picture starts a fresh worker`));
    });
    worker.unref();
    this.live = live;
    return live;
  }

  /** Forgets a worker and terminates it; the next job starts a fresh one. */
  private discard(live: LiveWorker): void {
    if (this.live === live) this.live = undefined;
    void live.worker.terminate();
  }
}
