/**
 * The main thread's side of the inference worker: one job at a time (queued here), progress
 * relayed as it comes, cancellation through the request's AbortSignal, and a worker that
 * dies (a crash, an out-of-memory kill) turned into a failed job and a fresh worker for the
 * next one, never a promise that hangs.
 *
 * The worker is spawned on the first job and kept, with its sessions loaded, between
 * pictures. It is unref'd while idle so it never keeps the process alive by itself.
 *
 * It is never terminated while onnxruntime is inside a native call: that cannot interrupt
 * the call, and when the call returns the whole process aborts (native-guard.ts). A cancelled
 * job stops between steps; its caller is answered after a grace time that allows for the
 * step in progress; only a worker stuck in JavaScript is terminated.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Logger } from '../../util/logger.js';
import { SerialQueue } from '../../util/serial-queue.js';
import { ProviderError } from '../types.js';
import { markStopping } from './native-guard.js';
import type { GenerateParams } from './sd-pipeline.js';
import {
  CANCEL_ALL,
  CANCEL_SLOT,
  CONTROL_SLOTS,
  NATIVE_SLOT,
  type DebugAction,
  type FromWorker,
  type LoadedModel,
  type LoadSpec,
  type ToWorker,
  type WorkerImage,
  type WorkerStart,
} from './worker-protocol.js';

export interface SdWorkerClientOptions {
  readonly logger: Logger;
  /**
   * How long a cancelled job may take to stop, beyond the step in progress (the grace also
   * counts {@link STEP_GRACE_FACTOR} times the slowest step seen, which is seconds on a CPU).
   */
  readonly cancelGraceMs?: number;
  /** Heap limits for the worker (onnxruntime's native memory is not counted by V8). */
  readonly resourceLimits?: ResourceLimits;
}

export interface JobOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (step: number, total: number) => void;
}

const DEFAULT_CANCEL_GRACE_MS = 5000;
/** A cancel waits for the step in progress: this many times the slowest step seen so far. */
export const STEP_GRACE_FACTOR = 3;
/** How often close() looks whether an onnxruntime call has returned. */
const CLOSE_POLL_MS = 25;

interface RunningJob {
  readonly job: number;
  onMessage(message: FromWorker): void;
  /** Ends the job with this error (the worker died, or the client was closed). */
  fail(error: Error): void;
}

interface LiveWorker {
  readonly worker: Worker;
  readonly control: Int32Array;
  /** Settles when the thread has exited. */
  readonly exited: Promise<void>;
  current: RunningJob | undefined;
  /** Jobs posted to the worker that it has not finished yet (an answered cancel may still run). */
  readonly unfinished: Set<number>;
  /** Why it died, from its 'error' event (which comes before 'exit'). */
  error: Error | undefined;
}

export class SdWorkerClient {
  private live: LiveWorker | undefined;
  /** A terminated worker whose thread has not exited yet: the next one waits for it. */
  private retiring: Promise<void> | undefined;
  private readonly queue = new SerialQueue();
  private nextJob = 1;
  private closed = false;
  private spawned = 0;
  private running = 0;
  /** The longest time between two progress messages of a job, over all jobs so far. */
  private slowestStepMs = 0;

  constructor(private readonly options: SdWorkerClientOptions) {}

  /** How many workers were started so far (a crash makes the next job start another). */
  get workersStarted(): number {
    return this.spawned;
  }

  /** Worker threads started and not yet exited. */
  get workersRunning(): number {
    return this.running;
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

  /**
   * Stops the worker: the job in progress is answered at once and told to stop; the thread
   * is terminated once it is outside onnxruntime (after the step in progress, at worst).
   */
  async close(): Promise<void> {
    this.closed = true;
    const live = this.live;
    this.live = undefined;
    if (live) {
      live.current?.fail(new ProviderError('the ONNX provider was closed'));
      Atomics.store(live.control, CANCEL_SLOT, CANCEL_ALL);
      let waited = 0;
      while (!markStopping(live.control, NATIVE_SLOT)) {
        if (waited === 1000) this.options.logger.info('waiting for the ONNX worker to finish its current step before stopping it');
        await new Promise((resolve) => setTimeout(resolve, CLOSE_POLL_MS));
        waited += CLOSE_POLL_MS;
      }
      await live.worker.terminate();
    }
    await this.retiring;
  }

  private async runJob<T>(
    request: { kind: 'load'; spec: LoadSpec } | { kind: 'generate'; spec: LoadSpec; params: GenerateParams },
    options: JobOptions,
    resultOf: (message: FromWorker) => T | undefined,
  ): Promise<T> {
    const { signal } = options;
    // A worker being terminated holds its model until its thread is gone: never two at once.
    if (!this.live && this.retiring) await this.retiring;
    if (this.closed) throw new ProviderError('the ONNX provider is closed');
    // A job aborted while it waited in the queue never reaches the worker.
    if (signal?.aborted) throw signal.reason as Error;
    const live = this.ensureWorker();
    const job = this.nextJob++;
    return new Promise<T>((resolve, reject) => {
      let graceTimer: NodeJS.Timeout | undefined;
      let lastProgressAt: number | undefined;
      const finish = (outcome: () => void): void => {
        if (live.current?.job !== job) return;
        live.current = undefined;
        clearTimeout(graceTimer);
        signal?.removeEventListener('abort', onAbort);
        if (live.unfinished.size === 0) live.worker.unref();
        outcome();
      };
      const onAbort = (): void => {
        Atomics.store(live.control, CANCEL_SLOT, job);
        live.worker.postMessage({ kind: 'cancel', job } satisfies ToWorker);
        const graceMs = (this.options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS) + STEP_GRACE_FACTOR * this.slowestStepMs;
        graceTimer = setTimeout(() => {
          finish(() => reject(signal!.reason as Error));
          const seconds = (graceMs / 1000).toFixed(1);
          if (markStopping(live.control, NATIVE_SLOT)) {
            this.options.logger.warn(`ONNX worker did not stop within ${seconds} s of a cancel; terminating it`);
            this.discard(live);
          } else {
            // Terminating now would abort the process when onnxruntime returns (native-guard.ts).
            this.options.logger.warn(
              `ONNX worker did not stop within ${seconds} s of a cancel: it is inside an onnxruntime call, which cannot be interrupted; the next picture waits for it`,
            );
          }
        }, graceMs);
        graceTimer.unref();
      };
      live.current = {
        job,
        onMessage: (message) => {
          switch (message.kind) {
            case 'progress': {
              const now = performance.now();
              if (lastProgressAt !== undefined) this.slowestStepMs = Math.max(this.slowestStepMs, now - lastProgressAt);
              lastProgressAt = now;
              options.onProgress?.(message.step, message.total);
              return;
            }
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
      live.unfinished.add(job);
      live.worker.ref();
      live.worker.postMessage({ ...request, job } satisfies ToWorker);
    });
  }

  private ensureWorker(): LiveWorker {
    if (this.live) return this.live;
    const control = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const workerData: WorkerStart = { control };
    const worker = new Worker(new URL('./sd-worker.js', import.meta.url), {
      workerData,
      ...(this.options.resourceLimits === undefined ? {} : { resourceLimits: this.options.resourceLimits }),
    });
    this.spawned += 1;
    this.running += 1;
    let exited!: () => void;
    const live: LiveWorker = {
      worker,
      control: new Int32Array(control),
      exited: new Promise<void>((resolve) => {
        exited = resolve;
      }),
      current: undefined,
      unfinished: new Set(),
      error: undefined,
    };
    worker.on('message', (message: FromWorker) => {
      if (message.kind === 'warning') {
        this.options.logger.warn(message.message);
        return;
      }
      if (message.kind === 'cancelled' || message.kind === 'failed' || message.kind === 'done' || message.kind === 'loaded') {
        live.unfinished.delete(message.job);
        // The worker is idle again after a job whose caller was already answered.
        if (live.unfinished.size === 0 && live.current === undefined) worker.unref();
      }
      if (live.current && 'job' in message && message.job === live.current.job) live.current.onMessage(message);
    });
    worker.on('error', (error) => {
      live.error = error;
      this.options.logger.error('ONNX worker crashed', { error: error.message });
    });
    worker.on('exit', (code) => {
      this.running -= 1;
      exited();
      if (this.live === live) this.live = undefined;
      const reason = live.error ? live.error.message : `exit code ${code}`;
      live.current?.fail(new ProviderError(`the ONNX worker stopped unexpectedly (${reason}); the next picture starts a fresh worker`));
    });
    worker.unref();
    this.live = live;
    return live;
  }

  /** Forgets a worker stuck in JavaScript and terminates it; the next job starts a fresh one. */
  private discard(live: LiveWorker): void {
    if (this.live === live) this.live = undefined;
    this.retiring = live.exited;
    void live.worker.terminate();
  }
}
