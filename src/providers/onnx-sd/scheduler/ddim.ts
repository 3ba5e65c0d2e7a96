/**
 * DDIM with η = 0 (diffusers DDIMScheduler defaults; shared/onnx-sd.md §3.3): deterministic,
 * integer timesteps, latents of unit variance, so the UNet sees them unscaled.
 */
import type { ScheduleConfig, Scheduler } from './scheduler.js';
import { spacedTimesteps } from './timestep-spacing.js';
import { alphaAt, type TrainingSchedule } from './training-schedule.js';
import { checkSizes, checkStep } from './tensor-math.js';

export class DdimScheduler implements Scheduler {
  readonly name = 'ddim' as const;
  readonly timesteps: readonly number[];
  readonly initNoiseSigma = 1;
  private readonly config: ScheduleConfig;
  private readonly schedule: TrainingSchedule;
  /** diffusers steps back by T // N whatever the spacing, so "linspace" visits other ᾱ_prev than its own timesteps. */
  private readonly stride: number;
  /** ᾱ used after the last step: 1 (a clean image) or ᾱ_0, per `set_alpha_to_one`. */
  private readonly finalAlpha: number;

  constructor(config: ScheduleConfig, schedule: TrainingSchedule, steps: number) {
    this.config = config;
    this.schedule = schedule;
    this.timesteps = spacedTimesteps(config.timestepSpacing, config.numTrainTimesteps, steps, config.stepsOffset, true);
    this.stride = Math.floor(config.numTrainTimesteps / steps);
    this.finalAlpha = config.setAlphaToOne ? 1 : alphaAt(schedule, 0);
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
    const alphaPrev = previous >= 0 ? alphaAt(this.schedule, previous) : this.finalAlpha;
    const rootAlpha = Math.sqrt(alpha);
    const rootBeta = Math.sqrt(1 - alpha);

    // x0 = px·x + pm·m and ε = ex·x + em·m for the prediction type.
    let px = 1 / rootAlpha;
    let pm = -rootBeta / rootAlpha;
    let ex = 0;
    let em = 1;
    if (this.config.predictionType === 'v_prediction') {
      px = rootAlpha;
      pm = -rootBeta;
      ex = rootBeta;
      em = rootAlpha;
    }
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
