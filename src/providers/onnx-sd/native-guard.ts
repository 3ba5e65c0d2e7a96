/**
 * Keeps the main thread from terminating the inference worker while onnxruntime is inside one
 * of its native calls (session creation, run, release).
 *
 * Why: onnxruntime-node runs those calls synchronously on the worker's thread. `worker.terminate()`
 * cannot interrupt them; it waits until the call returns, and then the binding throws into a
 * torn-down environment and the whole process aborts ("terminate called after throwing an
 * instance of 'Napi::Error'", SIGABRT). Checked with onnxruntime-node 1.30 on Node 20, for
 * terminate() and for process.exit() alike. A real UNet step on a CPU lasts seconds, so a cancel
 * or a shutdown lands inside one most of the time.
 *
 * Protocol over one Int32 slot of shared memory, race-free through compare-and-exchange:
 *   JS (0) → NATIVE (1)   the worker, just before an onnxruntime call; back to JS after it
 *   JS (0) → STOPPING (2) the main thread, before terminating; the worker then refuses to start
 *                         another native call, so terminating is safe from that moment on
 * The NATIVE window is conservative: it spans from the call until its promise settles, event-loop
 * turns included.
 */

/** Runs one onnxruntime call. */
export type NativeGuard = <T>(call: () => Promise<T>) => Promise<T>;

/** For code that runs outside a worker (tests, the benchmark): no bookkeeping. */
export const unguarded: NativeGuard = (call) => call();

const JS = 0;
const NATIVE = 1;
const STOPPING = 2;

/** The worker is being terminated: no further onnxruntime call is started. */
export class WorkerStopping extends Error {
  constructor() {
    super('the ONNX worker is stopping');
    this.name = 'WorkerStopping';
  }
}

/** The worker's side: marks every onnxruntime call in `state[slot]`. */
export function createNativeGuard(state: Int32Array, slot: number): NativeGuard {
  return async (call) => {
    const before = Atomics.compareExchange(state, slot, JS, NATIVE);
    if (before === STOPPING) throw new WorkerStopping();
    // Nested calls do not happen in the pipeline; if one did, it stays inside the outer window.
    const outer = before === NATIVE;
    try {
      return await call();
    } finally {
      if (!outer) Atomics.compareExchange(state, slot, NATIVE, JS);
    }
  };
}

/**
 * The main thread's side: true when the worker was not inside an onnxruntime call and now never
 * will be (terminate it), false while it is inside one (it cannot be interrupted; wait).
 */
export function markStopping(state: Int32Array, slot: number): boolean {
  const before = Atomics.compareExchange(state, slot, JS, STOPPING);
  return before === JS || before === STOPPING;
}
