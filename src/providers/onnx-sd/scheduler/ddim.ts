/**
 * DDIM with η = 0 (diffusers DDIMScheduler defaults; shared/onnx-sd.md §3.3): deterministic,
 * integer timesteps, latents of unit variance, so the UNet sees them unscaled.
 */
import type { ScheduleConfig, Scheduler } from './scheduler.js';
import { spacedTimesteps } from './timestep-spacing.js';
import { alphaAt, alphaPrevAt, type TrainingSchedule } from './training-schedule.js';
import { checkSizes, checkStep, x0Coefficients } from './tensor-math.js';

export class DdimScheduler implements Scheduler {
  readonly name = 'ddim' as const;
  readonly timesteps: readonly number[];
  readonly initNoiseSigma = 1;
  private readonly config: ScheduleConfig;
  private readonly schedule: TrainingSchedule;
  /** diffusers steps back by T // N whatever the spacing, so "linspace" visits other ᾱ_prev than its own timesteps. */
  private readonly stride: number;

  constructor(config: ScheduleConfig, schedule: TrainingSchedule, steps: number) {
    this.config = config;
    this.schedule = schedule;
    this.timesteps = spacedTimesteps(config.timestepSpacing, config.numTrainTimesteps, steps, config.stepsOffset, true);
    this.stride = Math.floor(config.numTrainTimesteps / steps);
  }

  scaleModelInput(sample: Float32Array, step: number): Float32Array {
    checkStep(step, this.timesteps.length);
    return sample;
  }

  step(modelOutput: Float32Array, step: number, sample: Float32Array): Float32Array {
    checkStep(step, this.timesteps.length);
    checkSizes(modelOutput, sample);
    const timestep = this.timesteps[step] as number;
    const previous = timestep - this.stride;
    const alpha = alphaAt(this.schedule, timestep);
    const alphaPrev = alphaPrevAt(this.schedule, this.config, previous);
    const rootAlpha = Math.sqrt(alpha);
    const rootBeta = Math.sqrt(1 - alpha);

    // x0 = px·x + pm·m and ε = ex·x + em·m for the prediction type.
    const vPrediction = this.config.predictionType === 'v_prediction';
    const { px, pm } = x0Coefficients(rootAlpha, rootBeta, vPrediction);
    const ex = vPrediction ? rootBeta : 0;
    const em = vPrediction ? rootAlpha : 1;
    // η = 0: no noise term, x_prev = √ᾱ_prev·x0 + √(1−ᾱ_prev)·ε.
    const toX0 = Math.sqrt(alphaPrev);
    const toEps = Math.sqrt(1 - alphaPrev);

    const out = new Float32Array(sample.length);
    if (this.config.clipSample) {
      for (let i = 0; i < out.length; i++) {
        const x = sample[i] as number;
        const m = modelOutput[i] as number;
        let x0 = px * x + pm * m;
        if (x0 > 1) x0 = 1;
        else if (x0 < -1) x0 = -1;
        out[i] = toX0 * x0 + toEps * (ex * x + em * m);
      }
    } else {
      // Without clipping the update is linear in x and m; fold the coefficients once.
      const a = toX0 * px + toEps * ex;
      const b = toX0 * pm + toEps * em;
      for (let i = 0; i < out.length; i++) {
        out[i] = a * (sample[i] as number) + b * (modelOutput[i] as number);
      }
    }
    return out;
  }
}
