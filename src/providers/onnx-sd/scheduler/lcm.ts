/**
 * LCM (diffusers LCMScheduler ≥ 0.24; shared/onnx-sd.md §3.3 and §3.5). Each step predicts the
 * clean latents (`denoised`) with the consistency boundary condition, then re-noises them to the
 * next timestep with fresh noise; the last step returns `denoised` itself, which the VAE decodes.
 */
import type { ScheduleConfig, Scheduler } from './scheduler.js';
import { alphaAt, alphaPrevAt, type TrainingSchedule } from './training-schedule.js';
import { checkSizes, checkStep, x0Coefficients } from './tensor-math.js';

/** diffusers' `timestep_scaling` default and the σ_data of the boundary condition. */
const TIMESTEP_SCALING = 10;
const SIGMA_DATA = 0.5;

/**
 * The ≥ 0.24 rule (commit dc21498b, #5836): the distillation grid [1..50]·(T/50) − 1, reversed,
 * sampled at floor(linspace(0, 50, N, endpoint=False)). Older releases took every (50/N)-th entry.
 */
export function lcmTimesteps(trainSteps: number, originalSteps: number, steps: number): number[] {
  const stride = Math.floor(trainSteps / originalSteps);
  const spacing = originalSteps / steps; // numpy's linspace step, multiplied as numpy does
  const values = new Array<number>(steps);
  for (let i = 0; i < steps; i++) {
    const index = Math.floor(i * spacing);
    values[i] = (originalSteps - index) * stride - 1;
  }
  return values;
}

export class LcmScheduler implements Scheduler {
  readonly name = 'lcm' as const;
  readonly timesteps: readonly number[];
  readonly initNoiseSigma = 1;
  private readonly config: ScheduleConfig;
  private readonly schedule: TrainingSchedule;

  constructor(config: ScheduleConfig, schedule: TrainingSchedule, steps: number) {
    this.config = config;
    this.schedule = schedule;
    this.timesteps = lcmTimesteps(config.numTrainTimesteps, config.originalInferenceSteps, steps);
  }

  scaleModelInput(sample: Float32Array, step: number): Float32Array {
    checkStep(step, this.timesteps.length);
    return sample;
  }

  step(modelOutput: Float32Array, step: number, sample: Float32Array, gaussian: () => number): Float32Array {
    checkStep(step, this.timesteps.length);
    checkSizes(modelOutput, sample);
    const timestep = this.timesteps[step] as number;
    const last = step === this.timesteps.length - 1;
    const alpha = alphaAt(this.schedule, timestep);
    const rootAlpha = Math.sqrt(alpha);
    const rootBeta = Math.sqrt(1 - alpha);

    const scaled = timestep * TIMESTEP_SCALING;
    const cSkip = (SIGMA_DATA * SIGMA_DATA) / (scaled * scaled + SIGMA_DATA * SIGMA_DATA);
    const cOut = scaled / Math.sqrt(scaled * scaled + SIGMA_DATA * SIGMA_DATA);

    const { px, pm } = x0Coefficients(rootAlpha, rootBeta, this.config.predictionType === 'v_prediction');

    // On the last step x_next = denoised; before it, √ᾱ_prev·denoised + √(1−ᾱ_prev)·z.
    let toDenoised = 1;
    let noiseScale = 0;
    if (!last) {
      const previous = this.timesteps[step + 1] as number;
      const alphaPrev = alphaPrevAt(this.schedule, this.config, previous);
      toDenoised = Math.sqrt(alphaPrev);
      noiseScale = Math.sqrt(1 - alphaPrev);
    }

    const out = new Float32Array(sample.length);
    const clip = this.config.clipSample;
    for (let i = 0; i < out.length; i++) {
      const x = sample[i] as number;
      let x0 = px * x + pm * (modelOutput[i] as number);
      if (clip) {
        if (x0 > 1) x0 = 1;
        else if (x0 < -1) x0 = -1;
      }
      const denoised = cOut * x0 + cSkip * x;
      out[i] = noiseScale > 0 ? toDenoised * denoised + noiseScale * gaussian() : denoised;
    }
    return out;
  }
}
