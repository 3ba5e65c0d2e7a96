/**
 * The scheduler seam of the ONNX Stable Diffusion pipeline. A scheduler is pure math over
 * Float32Arrays (no onnxruntime, no I/O), so it is unit-tested against reference numbers and
 * costs little per step. The pipeline drives it:
 *
 *   latents = noise × initNoiseSigma
 *   for k in 0..timesteps.length-1:
 *     input   = scaleModelInput(latents, k)          (the UNet's `sample`)
 *     ε       = UNet(input, timesteps[k], text)      (with guidance applied by the pipeline)
 *     latents = step(ε, k, latents, gaussian)
 *   decode(latents)
 *
 * The formulas and reference numbers are in shared/onnx-sd.md §3.
 */

/** The fields of diffusers' `scheduler/scheduler_config.json` the schedulers read. */
export interface ScheduleConfig {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: 'scaled_linear' | 'linear';
  readonly predictionType: 'epsilon' | 'v_prediction';
  readonly timestepSpacing: 'leading' | 'trailing' | 'linspace';
  readonly stepsOffset: number;
  readonly setAlphaToOne: boolean;
  readonly clipSample: boolean;
  /** LCM: the number of steps the model was distilled with (50). */
  readonly originalInferenceSteps: number;
}

/** Canonical scheduler ids, named after the samplers of the other servers users know. */
export type SchedulerName = 'euler' | 'euler_a' | 'ddim' | 'dpmpp_2m' | 'dpmpp_2m_karras' | 'lcm' | 'turbo';

export interface Scheduler {
  readonly name: SchedulerName;
  /** Model timesteps in order of use: the UNet's `timestep` input at step k. */
  readonly timesteps: readonly number[];
  /** Multiplies the initial unit-normal noise. */
  readonly initNoiseSigma: number;
  /**
   * The σ of each step in the k-diffusion parameterisation, σ = √((1−ᾱ)/ᾱ), with a final 0:
   * timesteps.length + 1 values. Present for the σ-based schedulers (Euler family, turbo, DPM++);
   * absent for DDIM and LCM, which step on ᾱ directly.
   */
  readonly sigmas?: readonly number[];
  /** The UNet's `sample` input at step k (the Euler family divides by √(σ²+1)); may return `sample` itself. */
  scaleModelInput(sample: Float32Array, step: number): Float32Array;
  /**
   * One denoising step from the guided model output; returns the next latents (a new array).
   * `gaussian` draws one N(0,1) number, for the steps that add fresh noise (ancestral, LCM).
   * After the last step the result is what the VAE decodes (LCM: the last `denoised`).
   */
  step(modelOutput: Float32Array, step: number, sample: Float32Array, gaussian: () => number): Float32Array;
}
