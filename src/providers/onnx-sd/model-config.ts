/**
 * The small JSON files of a diffusers/optimum export (shared/onnx-sd.md §1.1): which
 * scheduler it was made for, the VAE scaling factor and the UNet's native sample size.
 * model_index.json and the per-model config.json files are optional; the scheduler config
 * is required.
 */
import { join } from 'node:path';
import { readTextIfExists } from '../../util/read-if-exists.js';

export interface ModelConfig {
  /** model_index.json `_class_name` (OnnxStableDiffusionPipeline, ORTStableDiffusionPipeline, ...). */
  readonly pipelineClass?: string;
  /** The scheduler class the model ships with (EulerDiscreteScheduler, LCMScheduler, PNDMScheduler, ...). */
  readonly schedulerClass?: string;
  /** scheduler/scheduler_config.json as read. */
  readonly schedulerJson: Readonly<Record<string, unknown>>;
  /** vae_decoder/config.json `scaling_factor`, when present. */
  readonly vaeScalingFactor?: number;
  /** unet/config.json `sample_size` (latent pixels), when present. */
  readonly unetSampleSize?: number;
}

/** SD 1.x/2.x/Turbo/LCM-SD1.5; SDXL uses 0.13025 and says so in its VAE config (§1.3). */
export const DEFAULT_VAE_SCALING_FACTOR = 0.18215;

export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const index = await readOptionalJson(join(dir, 'model_index.json'));
  const schedulerJson = await readOptionalJson(join(dir, 'scheduler', 'scheduler_config.json'));
  if (schedulerJson === undefined) throw new Error(`${join(dir, 'scheduler', 'scheduler_config.json')} is missing`);
  const vae = await readOptionalJson(join(dir, 'vae_decoder', 'config.json'));
  const unet = await readOptionalJson(join(dir, 'unet', 'config.json'));
  const indexScheduler = Array.isArray(index?.['scheduler']) ? (index['scheduler'] as unknown[])[1] : undefined;
  const schedulerClass = stringOf(schedulerJson['_class_name']) ?? stringOf(indexScheduler);
  const pipelineClass = stringOf(index?.['_class_name']);
  const vaeScalingFactor = positiveNumber(vae?.['scaling_factor']);
  const unetSampleSize = positiveNumber(unet?.['sample_size']);
  return {
    schedulerJson,
    ...(pipelineClass === undefined ? {} : { pipelineClass }),
    ...(schedulerClass === undefined ? {} : { schedulerClass }),
    ...(vaeScalingFactor === undefined ? {} : { vaeScalingFactor }),
    ...(unetSampleSize === undefined ? {} : { unetSampleSize }),
  };
}

async function readOptionalJson(path: string): Promise<Record<string, unknown> | undefined> {
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path} is not a JSON object`);
  return value as Record<string, unknown>;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function positiveNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
