/**
 * The messages between the provider (main thread) and the inference worker, in one file so
 * both sides agree. One job at a time: the main thread queues, the worker never sees two.
 *
 * Cancellation travels two ways: a `cancel` message, and a flag in shared memory the
 * worker reads between steps, so it is seen even while the worker's event loop is busy.
 */
import type { GenerateParams, PipelineImage, PipelineInfo } from './sd-pipeline.js';
import type { SessionSettings } from './session-factory.js';

/** Which model to have loaded, and how. A different spec reloads the sessions. */
export interface LoadSpec extends SessionSettings {
  readonly modelDir: string;
  /** Changes when the model's files change (a pull over it), so the worker reloads them. */
  readonly revision?: string;
}

export interface WorkerStart {
  /** Int32Array over it, {@link CONTROL_SLOTS} long: see {@link CANCEL_SLOT} and {@link NATIVE_SLOT}. */
  readonly control: SharedArrayBuffer;
}

/** Slot holding the id of the job to cancel, or {@link CANCEL_ALL}. */
export const CANCEL_SLOT = 0;
/** Slot holding whether the worker is inside an onnxruntime call (native-guard.ts). */
export const NATIVE_SLOT = 1;
export const CONTROL_SLOTS = 2;
/** In the cancel slot: stop whatever runs (the client is closing). */
export const CANCEL_ALL = -1;

/**
 * Test hooks, so tests can make the real worker misbehave: `exit` ends the thread at once,
 * `hang` blocks its JavaScript for `ms` at the next step boundary without reading messages (a
 * bug in our own code; a stuck native call is another matter, see native-guard.ts),
 * `exhaust-memory` fills the JS heap until the worker's resource limit kills it.
 */
export type DebugAction = { readonly action: 'exit' } | { readonly action: 'hang'; readonly ms: number } | { readonly action: 'exhaust-memory' };

export type ToWorker =
  | { readonly kind: 'load'; readonly job: number; readonly spec: LoadSpec }
  | { readonly kind: 'generate'; readonly job: number; readonly spec: LoadSpec; readonly params: GenerateParams }
  | { readonly kind: 'cancel'; readonly job: number }
  | ({ readonly kind: 'debug' } & DebugAction);

/** What the main thread learns about a loaded model. */
export type LoadedModel = Pick<PipelineInfo, 'executionProvider' | 'defaultScheduler' | 'lcm' | 'fixedSize'>;

/** A finished picture, less the pipeline's timings; `rgb` is transferred (not copied) from the worker. */
export type WorkerImage = Omit<PipelineImage, 'timings'>;

export type FromWorker =
  | { readonly kind: 'loaded'; readonly job: number; readonly model: LoadedModel }
  | { readonly kind: 'progress'; readonly job: number; readonly step: number; readonly total: number }
  | { readonly kind: 'warning'; readonly message: string }
  | { readonly kind: 'done'; readonly job: number; readonly image: WorkerImage }
  | { readonly kind: 'cancelled'; readonly job: number }
  | { readonly kind: 'failed'; readonly job: number; readonly message: string };
