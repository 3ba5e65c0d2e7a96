/**
 * The inference worker: keeps one pipeline loaded and runs the jobs the main thread sends,
 * one at a time. onnxruntime's `run()` blocks the thread it runs on, so it runs here and the
 * server's event loop keeps answering frames. Spawned by sd-worker-client.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createNativeGuard } from './native-guard.js';
import { GenerationCancelled, SdPipeline } from './sd-pipeline.js';
import { CANCEL_ALL, CANCEL_SLOT, NATIVE_SLOT, type DebugAction, type FromWorker, type LoadSpec, type ToWorker, type WorkerStart } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('sd-worker.js must run as a worker thread');
const control = new Int32Array((workerData as WorkerStart).control);
const native = createNativeGuard(control, NATIVE_SLOT);

let loaded: { readonly key: string; readonly pipeline: SdPipeline } | undefined;
/** Jobs cancelled by message: seen between steps even if the shared slot was reused since. */
const cancelledJobs = new Set<number>();
let pendingHangMs = 0;
let work: Promise<void> = Promise.resolve();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'cancel') {
    cancelledJobs.add(message.job);
    return;
  }
  if (message.kind === 'debug') {
    debug(message);
    return;
  }
  work = work.then(() => handle(message));
});

async function handle(message: Extract<ToWorker, { kind: 'load' | 'generate' }>): Promise<void> {
  const { job } = message;
  const cancelled = (): boolean => {
    const flag = Atomics.load(control, CANCEL_SLOT);
    return flag === job || flag === CANCEL_ALL || cancelledJobs.has(job);
  };
  try {
    if (cancelled()) throw new GenerationCancelled();
    const pipeline = await ensureLoaded(message.spec);
    if (message.kind === 'load') {
      const info = pipeline.info;
      post({
        kind: 'loaded',
        job,
        model: { executionProvider: info.executionProvider, defaultScheduler: info.defaultScheduler, lcm: info.lcm, ...(info.fixedSize ? { fixedSize: info.fixedSize } : {}) },
      });
      return;
    }
    if (cancelled()) throw new GenerationCancelled();
    const image = await pipeline.generate(message.params, {
      shouldStop: () => {
        hangIfAsked();
        return cancelled();
      },
      onProgress: (step, total) => post({ kind: 'progress', job, step, total }),
    });
    const { rgb, width, height, scheduler, steps, guidance, seed, seconds, executionProvider } = image;
    post({ kind: 'done', job, image: { rgb, width, height, scheduler, steps, guidance, seed, seconds, executionProvider } }, [rgb.buffer as ArrayBuffer]);
  } catch (error) {
    if (error instanceof GenerationCancelled) post({ kind: 'cancelled', job });
    else post({ kind: 'failed', job, message: error instanceof Error ? error.message : String(error) });
  } finally {
    cancelledJobs.delete(job);
  }
}

async function ensureLoaded(spec: LoadSpec): Promise<SdPipeline> {
  const key = JSON.stringify([spec.modelDir, spec.revision ?? null, spec.threads ?? null, spec.executionProvider, spec.graphOptimization]);
  if (loaded?.key === key) return loaded.pipeline;
  if (loaded) {
    // Free the old weights before loading new ones: two UNets may not fit side by side.
    const old = loaded;
    loaded = undefined;
    await old.pipeline.release();
  }
  const pipeline = await SdPipeline.load({
    modelDir: spec.modelDir,
    executionProvider: spec.executionProvider,
    graphOptimization: spec.graphOptimization,
    ...(spec.threads === undefined ? {} : { threads: spec.threads }),
    onWarning: (message) => post({ kind: 'warning', message }),
    native,
  });
  loaded = { key, pipeline };
  return pipeline;
}

/** The `hang` test hook: blocks this thread's JavaScript, between two onnxruntime calls. */
function hangIfAsked(): void {
  if (pendingHangMs <= 0) return;
  const ms = pendingHangMs;
  pendingHangMs = 0;
  // Said before blocking, so a test knows the worker is stuck from here on.
  post({ kind: 'warning', message: `debug: blocking the worker for ${ms} ms` });
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Blocks the thread the way a bug in our own code would.
  }
}

function debug(message: DebugAction): void {
  switch (message.action) {
    case 'exit':
      process.exit(70);
      break;
    case 'hang':
      pendingHangMs = message.ms;
      break;
    case 'exhaust-memory': {
      const hold: number[][] = [];
      for (;;) hold.push(new Array<number>(1_000_000).fill(hold.length));
    }
  }
}
