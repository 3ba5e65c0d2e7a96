/**
 * Euler, Euler ancestral and the SD-Turbo setup (diffusers EulerDiscreteScheduler and
 * EulerAncestralDiscreteScheduler with s_churn 0; shared/onnx-sd.md §3.3). They work in σ space:
 * the latents carry noise of standard deviation σ, so the UNet sees x/√(σ²+1).
 *
 * Every update here is linear, x_next = a·x + b·model_output (+ c·z), so each step computes three
 * scalars in float64 and then runs one plain loop over the latents.
 */
import type { ScheduleConfig, Scheduler, SchedulerName } from './scheduler.js';
import { sigmaAtTimestep, spacedTimesteps } from './timestep-spacing.js';
import type { TrainingSchedule } from './training-schedule.js';
import { checkSizes, checkStep, scaleInto } from './tensor-math.js';

export interface EulerOptions {
  readonly name: SchedulerName;
  readonly ancestral: boolean;
  /** Overrides the config's spacing (turbo always uses "trailing"). */
  readonly spacing: ScheduleConfig['timestepSpacing'];
}

export class EulerScheduler implements Scheduler {
  readonly name: SchedulerName;
  readonly timesteps: readonly number[];
  readonly sigmas: readonly number[];
  readonly initNoiseSigma: number;
  private readonly ancestral: boolean;
  private readonly vPrediction: boolean;

  constructor(config: ScheduleConfig, schedule: TrainingSchedule, steps: number, options: EulerOptions) {
    this.name = options.name;
    this.ancestral = options.ancestral;
    this.vPrediction = config.predictionType === 'v_prediction';
    this.timesteps = spacedTimesteps(options.spacing, config.numTrainTimesteps, steps, config.stepsOffset, false);
    this.sigmas = [...this.timesteps.map((t) => sigmaAtTimestep(schedule, t)), 0];
    const maxSigma = Math.max(...this.sigmas);
    // diffusers: max σ for linspace/trailing, √(σ²+1) for leading (it does not start at T−1).
    this.initNoiseSigma = options.spacing === 'leading' ? Math.sqrt(maxSigma * maxSigma + 1) : maxSigma;
  }

  scaleModelInput(sample: Float32Array, step: number): Float32Array {
    checkStep(step, this.timesteps.length);
    const sigma = this.sigmaAt(step);
    return scaleInto(new Float32Array(sample.length), sample, 1 / Math.sqrt(sigma * sigma + 1));
  }

  step(modelOutput: Float32Array, step: number, sample: Float32Array, gaussian: () => number): Float32Array {
    checkStep(step, this.timesteps.length);
    checkSizes(modelOutput, sample);
    const sigma = this.sigmaAt(step);
    const sigmaNext = this.sigmaAt(step + 1);

    // Derivative d = (x − x0)/σ = dx·x + dm·m, with x0 from the prediction type.
    let dx = 0;
    let dm = 1; // ε-prediction: x0 = x − σ·ε, so d = ε.
    if (this.vPrediction) {
      // x0 = −σ/√(σ²+1)·v + x/(σ²+1)
      const scale = sigma * sigma + 1;
      dx = (1 - 1 / scale) / sigma;
      dm = 1 / Math.sqrt(scale);
    }

    let target = sigmaNext;
    let noiseScale = 0;
    if (this.ancestral) {
      // Split the move to σ' into a deterministic part down to σ_down and fresh noise σ_up.
      noiseScale = Math.sqrt((sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext)) / (sigma * sigma));
      target = Math.sqrt(Math.max(0, sigmaNext * sigmaNext - noiseScale * noiseScale));
    }
    const dt = target - sigma;
    const a = 1 + dx * dt;
    const b = dm * dt;

    const out = new Float32Array(sample.length);
    if (noiseScale > 0) {
      for (let i = 0; i < out.length; i++) {
        out[i] = a * (sample[i] as number) + b * (modelOutput[i] as number) + noiseScale * gaussian();
      }
    } else {
      for (let i = 0; i < out.length; i++) {
        out[i] = a * (sample[i] as number) + b * (modelOutput[i] as number);
      }
    }
    return out;
  }

  private sigmaAt(index: number): number {
    return this.sigmas[index] as number;
  }
}
