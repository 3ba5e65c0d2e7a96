/**
 * The training noise schedule every SD scheduler derives its steps from (shared/onnx-sd.md §3.1).
 * Computed once per scheduler in float64; diffusers uses float32 torch, which moves the low
 * digits by about 1e-6 relative (σ_max 14.6146412 here vs 14.6146555 there).
 */
import type { ScheduleConfig } from './scheduler.js';

export interface TrainingSchedule {
  /** ᾱ_t = Π_{j≤t} (1 − β_j), t = 0..T−1. */
  readonly alphasCumprod: Float64Array;
  /** σ(t) = √((1 − ᾱ_t)/ᾱ_t), increasing with t. */
  readonly sigmas: Float64Array;
  /** ln σ(t), for mapping a σ back to a (fractional) timestep. */
  readonly logSigmas: Float64Array;
}

export function trainingSchedule(config: ScheduleConfig): TrainingSchedule {
  const count = config.numTrainTimesteps;
  const alphasCumprod = new Float64Array(count);
  const sigmas = new Float64Array(count);
  const logSigmas = new Float64Array(count);
  const scaled = config.betaSchedule === 'scaled_linear';
  // "scaled_linear" is a linspace of √β, squared (the schedule SD was trained with).
  const start = scaled ? Math.sqrt(config.betaStart) : config.betaStart;
  const end = scaled ? Math.sqrt(config.betaEnd) : config.betaEnd;
  const stepSize = (end - start) / (count - 1);
  let product = 1;
  for (let t = 0; t < count; t++) {
    const root = t === count - 1 ? end : start + t * stepSize;
    const beta = scaled ? root * root : root;
    product *= 1 - beta;
    alphasCumprod[t] = product;
    sigmas[t] = Math.sqrt((1 - product) / product);
    logSigmas[t] = Math.log(sigmas[t] as number);
  }
  return { alphasCumprod, sigmas, logSigmas };
}

/** ᾱ at an integer timestep, with a clear error instead of `undefined` arithmetic. */
export function alphaAt(schedule: TrainingSchedule, timestep: number): number {
  const value = schedule.alphasCumprod[timestep];
  if (value === undefined) throw new RangeError(`timestep ${timestep} is outside the training schedule`);
  return value;
}

/**
 * ᾱ of the timestep a DDIM/LCM step moves to; past t = 0 (a negative timestep) that is the final
 * ᾱ: 1 (a clean image) with `set_alpha_to_one`, else ᾱ_0.
 */
export function alphaPrevAt(schedule: TrainingSchedule, config: ScheduleConfig, timestep: number): number {
  if (timestep >= 0) return alphaAt(schedule, timestep);
  return config.setAlphaToOne ? 1 : alphaAt(schedule, 0);
}
