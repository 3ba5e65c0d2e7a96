/**
 * Creates onnxruntime sessions from file paths (so external weight files such as
 * `model.onnx_data` or `weights.pb` resolve beside the model, shared/onnx-sd.md §1.1) with
 * the user's thread count, execution provider and graph optimisation level.
 *
 * CUDA is tried only when asked for. Without onnxruntime-node's CUDA binaries session
 * creation throws rather than falling back by itself (§5.2), so the factory retries on the
 * CPU once, warns, and stays on the CPU for the other models of the pipeline.
 */
import { InferenceSession } from 'onnxruntime-node';
import { unguarded, WorkerStopping, type NativeGuard } from './native-guard.js';

export type ExecutionProviderName = 'cpu' | 'cuda';
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionSettings {
  /** intraOpNumThreads; absent = onnxruntime's default (one per physical core). */
  readonly threads?: number;
  readonly executionProvider: ExecutionProviderName;
  readonly graphOptimization: GraphOptimization;
}

export class SessionFactory {
  private provider: ExecutionProviderName;

  constructor(
    private readonly settings: SessionSettings,
    private readonly warn: (message: string) => void,
    private readonly native: NativeGuard = unguarded,
  ) {
    this.provider = settings.executionProvider;
  }

  /** The execution provider the sessions actually use. */
  get executionProvider(): ExecutionProviderName {
    return this.provider;
  }

  async create(path: string): Promise<InferenceSession> {
    if (this.provider === 'cuda') {
      try {
        return await this.native(() => InferenceSession.create(path, this.options('cuda')));
      } catch (error) {
        if (error instanceof WorkerStopping) throw error;
        this.warn(
          `CUDA execution provider unavailable, using the CPU (${firstLine(error)}); install onnxruntime-node's CUDA 12 binaries to use the GPU`,
        );
        this.provider = 'cpu';
      }
    }
    return this.native(() => InferenceSession.create(path, this.options('cpu')));
  }

  private options(provider: ExecutionProviderName): InferenceSession.SessionOptions {
    return {
      executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: 0 }, 'cpu'] : ['cpu'],
      graphOptimizationLevel: this.settings.graphOptimization,
      // The three models run one after another, never concurrently: no inter-op pool needed,
      // and memory-pattern planning works only in sequential mode.
      executionMode: 'sequential',
      interOpNumThreads: 1,
      // No CPU memory arena: an arena keeps the peak of every run's activations (gigabytes
      // for a UNet step) for as long as the session lives, i.e. all the time between pictures.
      // Without it the scratch memory goes back to the system after each run; the few large
      // allocations per step cost nothing next to a step's seconds of compute.
      enableCpuMemArena: false,
      ...(this.settings.threads === undefined ? {} : { intraOpNumThreads: this.settings.threads }),
      // onnxruntime's pool threads busy-wait after each run by default, taking CPU from the
      // server's event loop and the pipeline's own step math; UNet runs are long, so waking
      // the threads costs nothing measurable. (The Node binding joins nested keys with dots.)
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 300);
}
