/**
 * `onnx`: Stable Diffusion on this machine with onnxruntime-node, no network, no key. The
 * pipeline runs in a worker thread (sd-worker-client.ts), so the server keeps answering
 * frames while a picture takes minutes on a CPU. Ready once the model's files are in place;
 * re-checked by the scan cron, so a model pulled while the server runs is picked up.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Logger } from '../../util/logger.js';
import {
  ProviderError,
  type GenerateRequest,
  type ImageProvider,
  type ProviderCapabilities,
  type ProviderResult,
  type Readiness,
} from '../types.js';
import { generationSize } from './generation-size.js';
import { checkModelLayout, MODEL_GRAPH_FILES } from './model-store/model-layout.js';
import { defaultsForScheduler, readModelDefaults, type ModelDefaults } from './model-defaults.js';
import type { OnnxOptions } from './onnx-options.js';
import type { GenerateParams } from './sd-pipeline.js';
import { SdWorkerClient } from './sd-worker-client.js';
import type { LoadSpec } from './worker-protocol.js';

export interface OnnxProviderOptions {
  readonly id?: string;
  /** The validated `providers.onnx` section. */
  readonly options: OnnxOptions;
  /** The export folder `options.model` resolved to. */
  readonly modelDir: string;
  readonly logger: Logger;
  /** How long a cancelled generation may take to stop before its worker is terminated. */
  readonly cancelGraceMs?: number;
}

export class OnnxProvider implements ImageProvider {
  readonly id: string;
  readonly displayName = 'Local Stable Diffusion (ONNX)';
  readonly capabilities: ProviderCapabilities = { acceptsPrompt: true, acceptsNegative: true, paid: false, generates: true };
  /** The worker that runs the pipeline; exposed for tests (crash hooks, worker count). */
  readonly worker: SdWorkerClient;
  private readonly options: OnnxOptions;
  private readonly logger: Logger;
  private state: Readiness = { ready: false, reason: 'model not checked yet' };
  private defaults: ModelDefaults | undefined;
  private revision = '';

  constructor(private readonly settings: OnnxProviderOptions) {
    this.id = settings.id ?? 'onnx';
    this.options = settings.options;
    this.logger = settings.logger;
    this.worker = new SdWorkerClient({ logger: settings.logger, ...(settings.cancelGraceMs === undefined ? {} : { cancelGraceMs: settings.cancelGraceMs }) });
  }

  get modelDir(): string {
    return this.settings.modelDir;
  }

  readiness(): Readiness {
    return this.state;
  }

  async start(): Promise<void> {
    await this.checkModel();
  }

  async refresh(): Promise<void> {
    await this.checkModel();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  async generate(request: GenerateRequest): Promise<ProviderResult> {
    request.signal.throwIfAborted();
    const defaults = this.defaults;
    if (!this.state.ready || defaults === undefined) {
      throw new ProviderError(`model not ready: ${this.state.ready ? 'not checked yet' : this.state.reason}`);
    }
    const params = this.paramsFor(request, defaults);
    const image = await this.worker.generate(this.loadSpec(), params, {
      signal: request.signal,
      onProgress: (step, total) => request.onProgress?.({ step, total }),
    });
    const png = await sharp(Buffer.from(image.rgb.buffer, image.rgb.byteOffset, image.rgb.byteLength), {
      raw: { width: image.width, height: image.height, channels: 3 },
    })
      .png()
      .toBuffer();
    this.logger.debug('onnx picture made', { seconds: round(image.seconds, 1), steps: image.steps, size: `${image.width}x${image.height}` });
    return {
      kind: 'bytes',
      bytes: new Uint8Array(png.buffer, png.byteOffset, png.byteLength),
      ...(image.seed === request.seed ? {} : { seed: image.seed }),
      details: {
        model: this.options.model,
        scheduler: image.scheduler,
        steps: image.steps,
        guidance: image.guidance,
        seed: image.seed,
        size: `${image.width}x${image.height}`,
        seconds: round(image.seconds, 2),
        executionProvider: image.executionProvider,
      },
    };
  }

  /** The pipeline's parameters: options.yml first, then the model's defaults. */
  paramsFor(request: Pick<GenerateRequest, 'prompt' | 'negative' | 'seed' | 'width' | 'height'>, defaults: ModelDefaults): GenerateParams {
    const o = this.options;
    const scheduler = o.scheduler ?? defaults.scheduler;
    const kind = defaultsForScheduler(defaults, scheduler);
    const size = generationSize({ width: request.width, height: request.height }, defaults.nativePixels, { width: o.width, height: o.height });
    return {
      prompt: request.prompt,
      ...(request.negative === undefined ? {} : { negative: request.negative }),
      seed: o.seed === 'random' ? request.seed : o.seed,
      steps: o.steps ?? kind.steps,
      guidance: o.guidance ?? kind.guidance,
      scheduler,
      width: size.width,
      height: size.height,
    };
  }

  private loadSpec(): LoadSpec {
    const o = this.options;
    return {
      modelDir: this.settings.modelDir,
      revision: this.revision,
      executionProvider: o.execution_provider,
      graphOptimization: o.graph_optimization,
      ...(o.threads === undefined ? {} : { threads: o.threads }),
    };
  }

  private async checkModel(): Promise<void> {
    const before = this.state;
    let next: Readiness;
    try {
      const layout = await checkModelLayout(this.settings.modelDir);
      if (layout.ok) {
        this.defaults = await readModelDefaults(this.settings.modelDir, this.options.model);
        this.revision = await modelRevision(this.settings.modelDir);
        next = { ready: true };
      } else {
        next = { ready: false, reason: layout.summary };
      }
    } catch (error) {
      next = { ready: false, reason: `model ${this.options.model} cannot be read: ${(error as Error).message}` };
    }
    this.state = next;
    const changed = before.ready !== next.ready || (!before.ready && !next.ready && before.reason !== next.reason);
    // The first check is logged by the server's start-up summary; later changes here.
    if (changed && !(!before.ready && before.reason === 'model not checked yet')) {
      if (next.ready) this.logger.info(`provider ${this.id}: model ${this.options.model} is now ready`);
      else this.logger.warn(`provider ${this.id}: not ready: ${next.reason}`);
    }
  }
}

/** Sizes and times of the model files: a model pulled again over the old one reads differently. */
async function modelRevision(dir: string): Promise<string> {
  const parts = await Promise.all(
    MODEL_GRAPH_FILES.map(async (file) => {
      const info = await stat(join(dir, file));
      return `${info.size}@${info.mtimeMs}`;
    }),
  );
  return parts.join(',');
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
