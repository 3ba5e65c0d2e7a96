/**
 * Text-to-image with a diffusers/optimum ONNX export of Stable Diffusion (SD 1.x/2.x family,
 * Turbo, LCM): tokenizer → text encoder → seeded noise → denoising loop (scheduler +
 * UNet, with classifier-free guidance) → VAE decoder → RGB bytes.
 *
 * Pure of threads: it runs wherever it is called (the provider calls it inside a worker,
 * the benchmark directly). Every dtype and shape comes from the models' own metadata
 * (see model-io.ts); the contract followed is shared/onnx-sd.md §8.
 */
import { join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { guidanceEmbedding } from './guidance-embedding.js';
import { DEFAULT_VAE_SCALING_FACTOR, readModelConfig } from './model-config.js';
import { describeTextEncoder, describeUnet, describeVaeDecoder, type TextEncoderIo, type UnetIo, type VaeDecoderIo } from './model-io.js';
import { unguarded, type NativeGuard } from './native-guard.js';
import { createGaussian, fillGaussian } from './noise.js';
import { checkLatents, checkNotUniform, checkVaeOutput } from './output-checks.js';
import { createScheduler, defaultSchedulerFor, readScheduleConfig } from './scheduler/index.js';
import type { ScheduleConfig, Scheduler, SchedulerName } from './scheduler/scheduler.js';
import { SessionFactory, type ExecutionProviderName, type SessionSettings } from './session-factory.js';
import { floatTensor, idsTensor, readFloats, repeatedFloatTensor, timestepTensor } from './tensors.js';
import { ClipTokenizer } from './tokenizer/clip-tokenizer.js';
import { vaeOutputToRgb } from './vae-image.js';

export interface PipelineLoadOptions extends SessionSettings {
  /** The export's folder (with text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/). */
  readonly modelDir: string;
  /** Things worth a log line that do not stop loading (a CUDA fallback). */
  readonly onWarning?: (message: string) => void;
  /** Wraps every onnxruntime call (the worker marks them; see native-guard.ts). */
  readonly native?: NativeGuard;
}

export interface GenerateParams {
  readonly prompt: string;
  /** Used when guidance > 1 (classifier-free guidance); empty when absent, as diffusers does. */
  readonly negative?: string;
  readonly seed: number;
  readonly steps: number;
  /** Classifier-free guidance scale; ≤ 1 means one UNet pass per step (Turbo). LCM: the w-embedding. */
  readonly guidance: number;
  /** Absent: the one the model's scheduler config names. */
  readonly scheduler?: SchedulerName;
  /** Wanted picture size; rounded down to multiples of 64. A model with fixed dims forces its own. */
  readonly width: number;
  readonly height: number;
}

export interface GenerateHooks {
  /** Checked between steps: true stops the generation with {@link GenerationCancelled}. */
  readonly shouldStop?: () => boolean;
  /** Step k of n done (0 when denoising starts). */
  readonly onProgress?: (step: number, total: number) => void;
}

export interface StepTiming {
  /** The whole step: scaling, tensor building, UNet, guidance, scheduler step. */
  readonly totalMs: number;
  /** Time inside `session.run` for the step. */
  readonly runMs: number;
}

export interface PipelineImage {
  /** Interleaved RGB, width × height × 3. */
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly scheduler: SchedulerName;
  readonly steps: number;
  readonly guidance: number;
  readonly seed: number;
  readonly seconds: number;
  readonly executionProvider: ExecutionProviderName;
  readonly timings: { readonly textMs: number; readonly steps: readonly StepTiming[]; readonly decodeMs: number };
}

/** What a loaded pipeline learned about its model. */
export interface PipelineInfo {
  readonly modelDir: string;
  readonly executionProvider: ExecutionProviderName;
  readonly defaultScheduler: SchedulerName;
  /** The size a model with fixed spatial dims forces, else undefined. */
  readonly fixedSize?: { readonly width: number; readonly height: number };
  readonly lcm: boolean;
  readonly unet: UnetIo;
  readonly textEncoder: TextEncoderIo;
  readonly vaeDecoder: VaeDecoderIo;
}

/** The generation stopped between steps because it was asked to. */
export class GenerationCancelled extends Error {
  constructor() {
    super('generation cancelled');
    this.name = 'GenerationCancelled';
  }
}

interface TextEmbedding {
  readonly data: Float32Array;
  readonly sequence: number;
  readonly hidden: number;
}

/** One UNet call of a step: which text it sees. */
interface UnetPass {
  readonly text: Tensor;
  readonly cond?: Tensor;
}

/**
 * The UNet calls of every step: `plain` (no guidance: one pass, first sample used),
 * `batched` (negative and positive in one batch of 2), `separate` (two passes of batch 1).
 */
interface UnetPlan {
  readonly mode: 'plain' | 'batched' | 'separate';
  /** Samples per pass: every pass of a plan sees the same latents, so one `sample` tensor serves them all. */
  readonly batch: number;
  readonly passes: readonly UnetPass[];
}

/** Picture sides come in multiples of this (see {@link SdPipeline.sizeFor}). */
export const PIXEL_MULTIPLE = 64;

const MODEL_FILES = { textEncoder: 'text_encoder/model.onnx', unet: 'unet/model.onnx', vaeDecoder: 'vae_decoder/model.onnx' } as const;

export class SdPipeline {
  private constructor(
    readonly info: PipelineInfo,
    private readonly tokenizer: ClipTokenizer,
    private readonly schedule: ScheduleConfig,
    private readonly vaeScalingFactor: number,
    private readonly sessions: { readonly textEncoder: InferenceSession; readonly unet: InferenceSession; readonly vaeDecoder: InferenceSession },
    private readonly native: NativeGuard,
  ) {}

  static async load(options: PipelineLoadOptions): Promise<SdPipeline> {
    const dir = options.modelDir;
    const config = await readModelConfig(dir);
    const schedule = readScheduleConfig(config.schedulerJson);
    const tokenizer = await ClipTokenizer.fromFolder(join(dir, 'tokenizer'));
    const native = options.native ?? unguarded;
    const factory = new SessionFactory(options, options.onWarning ?? (() => undefined), native);
    const opened: InferenceSession[] = [];
    const open = async (file: string): Promise<InferenceSession> => {
      try {
        const session = await factory.create(join(dir, file));
        opened.push(session);
        return session;
      } catch (error) {
        throw new Error(`could not load ${file}: ${firstLine(error)}`, { cause: error });
      }
    };
    try {
      // The UNet first: it is the biggest, and the most likely not to fit.
      const unet = await open(MODEL_FILES.unet);
      const textEncoder = await open(MODEL_FILES.textEncoder);
      const vaeDecoder = await open(MODEL_FILES.vaeDecoder);
      const unetIo = describeUnet(unet);
      const textIo = describeTextEncoder(textEncoder);
      const vaeIo = describeVaeDecoder(vaeDecoder);
      if (vaeIo.batch !== undefined && vaeIo.batch !== 1) throw new Error(`${MODEL_FILES.vaeDecoder}: fixed batch ${vaeIo.batch} is not supported`);
      if (unetIo.batch !== undefined && unetIo.batch > 2) throw new Error(`${MODEL_FILES.unet}: fixed batch ${unetIo.batch} is not supported`);
      const fixedSize = forcedSize(unetIo, vaeIo);
      const lcm = unetIo.timestepCond !== undefined;
      const info: PipelineInfo = {
        modelDir: dir,
        executionProvider: factory.executionProvider,
        defaultScheduler: lcm ? 'lcm' : defaultSchedulerFor(config.schedulerClass),
        lcm,
        unet: unetIo,
        textEncoder: textIo,
        vaeDecoder: vaeIo,
        ...(fixedSize === undefined ? {} : { fixedSize }),
      };
      return new SdPipeline(info, tokenizer, schedule, config.vaeScalingFactor ?? DEFAULT_VAE_SCALING_FACTOR, { textEncoder, unet, vaeDecoder }, native);
    } catch (error) {
      await Promise.allSettled(opened.map((session) => native(() => session.release())));
      throw error;
    }
  }

  /** Frees the native sessions (and their weights). */
  async release(): Promise<void> {
    const { textEncoder, unet, vaeDecoder } = this.sessions;
    for (const session of [textEncoder, unet, vaeDecoder]) {
      await this.native(() => session.release()).catch(() => undefined);
    }
  }

  async generate(params: GenerateParams, hooks: GenerateHooks = {}): Promise<PipelineImage> {
    const started = performance.now();
    const stop = (): void => {
      if (hooks.shouldStop?.()) throw new GenerationCancelled();
    };
    const { width, height } = this.sizeFor(params);
    const unet = this.info.unet;
    const schedulerName = params.scheduler ?? this.info.defaultScheduler;
    const steps = Math.max(1, Math.round(params.steps));
    const scheduler = createScheduler(schedulerName, this.schedule, steps);
    const total = scheduler.timesteps.length;
    // LCM has guidance distilled in (the w-embedding); it never runs a CFG batch (§1.5).
    const guided = !this.info.lcm && params.guidance > 1;

    const textStarted = performance.now();
    const positive = await this.encodeText(params.prompt);
    const negative = guided ? await this.encodeText(params.negative ?? '') : undefined;
    const textMs = performance.now() - textStarted;
    stop();

    const latentHeight = height / 8;
    const latentWidth = width / 8;
    const latentSize = unet.channels * latentHeight * latentWidth;
    const plan = this.unetPlan(positive, negative, params.guidance);

    let latents: Float32Array = new Float32Array(latentSize);
    fillGaussian(latents, createGaussian(params.seed));
    for (let i = 0; i < latentSize; i++) latents[i]! *= scheduler.initNoiseSigma;
    // Fresh noise for ancestral/LCM steps comes from its own stream, so changing the step
    // count never shifts the initial latents (§4).
    const stepNoise = createGaussian(stepNoiseSeed(params.seed));

    const timings: StepTiming[] = [];
    hooks.onProgress?.(0, total);
    for (let k = 0; k < total; k++) {
      stop();
      const stepStarted = performance.now();
      const input = scheduler.scaleModelInput(latents, k);
      const { noise, runMs } = await this.predictNoise(scheduler, k, input, plan, latentHeight, latentWidth, params.guidance);
      latents = scheduler.step(noise, k, latents, stepNoise);
      // A broken export's NaN spreads to every latent within a step or two: stop at once.
      checkLatents(latents, k, total);
      timings.push({ totalMs: performance.now() - stepStarted, runMs });
      hooks.onProgress?.(k + 1, total);
    }
    stop();

    const decodeStarted = performance.now();
    const rgb = await this.decode(latents, latentHeight, latentWidth, width, height);
    const decodeMs = performance.now() - decodeStarted;
    return {
      rgb,
      width,
      height,
      scheduler: schedulerName,
      steps: total,
      guidance: params.guidance,
      seed: params.seed,
      seconds: (performance.now() - started) / 1000,
      executionProvider: this.info.executionProvider,
      timings: { textMs, steps: timings, decodeMs },
    };
  }

  /**
   * The picture size a request gets: the model's fixed size, else the wish in multiples of 64.
   * SD UNets halve the 1/8-size latents three times and concatenate each upsampled level with
   * the skip of the same size; exported graphs upsample by a fixed ×2, so latent sides must be
   * multiples of 8 (a 520-pixel side fails inside the UNet).
   */
  sizeFor(params: { readonly width: number; readonly height: number }): { width: number; height: number } {
    if (this.info.fixedSize) return { ...this.info.fixedSize };
    const fit = (value: number): number => Math.max(PIXEL_MULTIPLE, Math.floor(value / PIXEL_MULTIPLE) * PIXEL_MULTIPLE);
    return { width: fit(params.width), height: fit(params.height) };
  }

  private async encodeText(text: string): Promise<TextEmbedding> {
    const io = this.info.textEncoder;
    let ids = this.tokenizer.encode(text);
    // A fixed sequence length other than the tokenizer's: pad with the last (pad or end) id, or cut.
    if (io.sequence !== undefined && ids.length !== io.sequence) {
      const pad = ids[ids.length - 1] ?? 0;
      ids = ids.length > io.sequence ? ids.slice(0, io.sequence) : [...ids, ...new Array<number>(io.sequence - ids.length).fill(pad)];
    }
    const batch = io.batch ?? 1;
    const batchIds = batch === 1 ? ids : new Array<number[]>(batch).fill(ids).flat();
    const feeds = { [io.input]: idsTensor(batchIds, io.idsType, [batch, ids.length]) };
    const result = await this.native(() => this.sessions.textEncoder.run(feeds));
    const output = result[io.output];
    const values = readFloats(output, `${MODEL_FILES.textEncoder} ${io.output}`);
    const dims = output!.dims;
    const sequence = dims[1] ?? ids.length;
    const hidden = dims[2] ?? values.length / batch / sequence;
    return { data: values.slice(0, sequence * hidden), sequence, hidden };
  }

  /**
   * How each step calls the UNet. With guidance the negative and positive texts go in one
   * batch of 2 (what diffusers does; faster on ORT), or as two passes when the export fixes
   * batch 1. Without guidance one pass; an export fixed at batch 2 gets the text twice.
   */
  private unetPlan(positive: TextEmbedding, negative: TextEmbedding | undefined, guidance: number): UnetPlan {
    const unet = this.info.unet;
    const textTensor = (embeddings: readonly TextEmbedding[]): Tensor => {
      const first = embeddings[0]!;
      const data = new Float32Array(first.data.length * embeddings.length);
      embeddings.forEach((embedding, i) => data.set(embedding.data, i * first.data.length));
      return floatTensor(data, unet.textType, [embeddings.length, first.sequence, first.hidden]);
    };
    const cond = unet.timestepCond;
    const pass = (embeddings: readonly TextEmbedding[]): UnetPass => {
      const batch = embeddings.length;
      const text = textTensor(embeddings);
      if (!cond) return { text };
      return { text, cond: repeatedFloatTensor(guidanceEmbedding(guidance, cond.size), batch, cond.type, [batch, cond.size]) };
    };
    if (negative) {
      return unet.batch === 1
        ? { mode: 'separate', batch: 1, passes: [pass([negative]), pass([positive])] }
        : { mode: 'batched', batch: 2, passes: [pass([negative, positive])] };
    }
    const texts = unet.batch === 2 ? [positive, positive] : [positive];
    return { mode: 'plain', batch: texts.length, passes: [pass(texts)] };
  }

  /** The guided noise prediction for step k: ε_uncond + g·(ε_text − ε_uncond) when guided. */
  private async predictNoise(
    scheduler: Scheduler,
    k: number,
    input: Float32Array,
    plan: UnetPlan,
    latentHeight: number,
    latentWidth: number,
    guidance: number,
  ): Promise<{ noise: Float32Array; runMs: number }> {
    const unet = this.info.unet;
    const latentSize = input.length;
    const timestep = timestepTensor(scheduler.timesteps[k]!, unet.timestepType, unet.timestepDims);
    // Built (and converted to float16) once per step, whatever the number of passes.
    const sample = repeatedFloatTensor(input, plan.batch, unet.sampleType, [plan.batch, unet.channels, latentHeight, latentWidth]);
    const outputs: Float32Array[] = [];
    let runMs = 0;
    for (const pass of plan.passes) {
      const feeds: Record<string, Tensor> = {
        [unet.sample]: sample,
        [unet.timestep]: timestep,
        [unet.text]: pass.text,
      };
      if (pass.cond && unet.timestepCond) feeds[unet.timestepCond.name] = pass.cond;
      const runStarted = performance.now();
      const result = await this.native(() => this.sessions.unet.run(feeds));
      runMs += performance.now() - runStarted;
      outputs.push(readFloats(result[unet.output], `${MODEL_FILES.unet} ${unet.output}`));
    }
    if (plan.mode === 'plain') return { noise: outputs[0]!.subarray(0, latentSize), runMs };
    // (uncond, text) halves: one batch of two, or two passes.
    const [uncond, text] =
      plan.mode === 'batched'
        ? [outputs[0]!.subarray(0, latentSize), outputs[0]!.subarray(latentSize, 2 * latentSize)]
        : [outputs[0]!, outputs[1]!];
    const noise = new Float32Array(latentSize);
    for (let i = 0; i < latentSize; i++) {
      const u = uncond[i]!;
      noise[i] = u + guidance * (text[i]! - u);
    }
    return { noise, runMs };
  }

  private async decode(latents: Float32Array, latentHeight: number, latentWidth: number, width: number, height: number): Promise<Uint8Array> {
    const vae = this.info.vaeDecoder;
    const scaled = new Float32Array(latents.length);
    const inverse = 1 / this.vaeScalingFactor;
    for (let i = 0; i < latents.length; i++) scaled[i] = latents[i]! * inverse;
    const channels = latents.length / (latentHeight * latentWidth);
    const feeds = { [vae.input]: floatTensor(scaled, vae.inputType, [1, channels, latentHeight, latentWidth]) };
    const result = await this.native(() => this.sessions.vaeDecoder.run(feeds));
    const output = result[vae.output];
    const planes = readFloats(output, `${MODEL_FILES.vaeDecoder} ${vae.output}`);
    const [, , outHeight, outWidth] = output!.dims;
    if (outHeight !== height || outWidth !== width) {
      throw new Error(`${MODEL_FILES.vaeDecoder} gave ${outWidth}x${outHeight}; expected ${width}x${height}`);
    }
    checkVaeOutput(planes);
    const rgb = vaeOutputToRgb(planes, width, height);
    checkNotUniform(rgb);
    return rgb;
  }
}

/** A model whose UNet (or VAE) fixes the latent height and width forces that picture size. */
function forcedSize(unet: UnetIo, vae: VaeDecoderIo): { width: number; height: number } | undefined {
  const height = unet.height ?? vae.height;
  const width = unet.width ?? vae.width;
  if (height === undefined && width === undefined) return undefined;
  if (height === undefined || width === undefined) {
    throw new Error(`${MODEL_FILES.unet}: only one of the spatial dimensions is fixed; not supported`);
  }
  return { width: width * 8, height: height * 8 };
}

/** A second, independent noise stream derived from the seed (golden-ratio offset). */
function stepNoiseSeed(seed: number): number {
  return (seed + 0x9e3779b9) >>> 0;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 500);
}
