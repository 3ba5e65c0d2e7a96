/**
 * DPM-Solver++ 2M (diffusers DPMSolverMultistepScheduler: dpmsolver++, order 2, midpoint,
 * lower_order_final, final σ 0; shared/onnx-sd.md §3.3), optionally on Karras σs.
 *
 * It is a multistep method: step k also uses the x0 prediction of step k−1, kept in a buffer
 * that is allocated once and reused. Step 0 and the last step are first order; so is any step
 * whose predecessor was not the previous call (a restarted loop never mixes in stale history).
 */
import type { ScheduleConfig, Scheduler } from './scheduler.js';
import { dpmSolverTimesteps, karrasSigmas, roundHalfEven, sigmaAtTimestep, timestepForSigma } from './timestep-spacing.js';
import type { TrainingSchedule } from './training-schedule.js';
import { checkSizes, checkStep, x0Coefficients } from './tensor-math.js';

export class DpmSolverPlusPlus2MScheduler implements Scheduler {
  readonly name: 'dpmpp_2m' | 'dpmpp_2m_karras';
  readonly timesteps: readonly number[];
  readonly sigmas: readonly number[];
  readonly initNoiseSigma = 1;
  private readonly vPrediction: boolean;
  /** x0 of the step before (`previousStep`), and the buffer this step writes into. */
  private previousX0: Float32Array | undefined;
  private currentX0: Float32Array | undefined;
  private previousStep = -1;

  constructor(config: ScheduleConfig, schedule: TrainingSchedule, steps: number, karras: boolean) {
    this.name = karras ? 'dpmpp_2m_karras' : 'dpmpp_2m';
    this.vPrediction = config.predictionType === 'v_prediction';
    if (karras) {
      // Unlike Euler, DPM-Solver takes σ_max/σ_min from the whole training range, and the
      // timesteps follow from the σs (rounded), whatever the configured spacing.
      const trainSigmas = schedule.sigmas;
      const sigmas = karrasSigmas(trainSigmas[trainSigmas.length - 1] as number, trainSigmas[0] as number, steps);
      this.timesteps = sigmas.map((sigma) => roundHalfEven(timestepForSigma(schedule, sigma)));
      this.sigmas = [...sigmas, 0];
    } else {
      this.timesteps = dpmSolverTimesteps(config.timestepSpacing, config.numTrainTimesteps, steps, config.stepsOffset);
      this.sigmas = [...this.timesteps.map((t) => sigmaAtTimestep(schedule, t)), 0];
    }
  }

  scaleModelInput(sample: Float32Array, step: number): Float32Array {
    checkStep(step, this.timesteps.length);
    return sample;
  }

  step(modelOutput: Float32Array, step: number, sample: Float32Array): Float32Array {
    checkStep(step, this.timesteps.length);
    checkSizes(modelOutput, sample);
    const size = sample.length;
    if (this.currentX0?.length !== size || this.previousX0?.length !== size) {
      this.currentX0 = new Float32Array(size);
      this.previousX0 = new Float32Array(size);
      this.previousStep = -1;
    }
    const current = this.currentX0;
    const previous = this.previousX0 as Float32Array;

    const s = this.sigmas[step] as number;
    const sNext = this.sigmas[step + 1] as number;
    // α = √ᾱ and σ = √(1−ᾱ) of the step, from the k-diffusion σ.
    const alphaS = 1 / Math.sqrt(s * s + 1);
    const sigmaS = s * alphaS;
    const { px, pm } = x0Coefficients(alphaS, sigmaS, this.vPrediction);

    const out = new Float32Array(size);
    const last = step === this.timesteps.length - 1;
    if (last) {
      // σ' = 0: α' = 1, λ' = +∞ and the first-order update is exactly x0 (no log(0) needed).
      for (let i = 0; i < size; i++) {
        const x0 = px * (sample[i] as number) + pm * (modelOutput[i] as number);
        current[i] = x0;
        out[i] = x0;
      }
    } else {
      const alphaT = 1 / Math.sqrt(sNext * sNext + 1);
      const sigmaT = sNext * alphaT;
      const lambdaS = Math.log(alphaS) - Math.log(sigmaS);
      const lambdaT = Math.log(alphaT) - Math.log(sigmaT);
      const h = lambdaT - lambdaS;
      const keep = sigmaT / sigmaS;
      const push = -alphaT * Math.expm1(-h); // −α'(e^{−h} − 1)
      if (this.previousStep === step - 1 && step > 0) {
        // Second order (midpoint): D0 = x0_k, D1 = (x0_k − x0_{k−1})/r0.
        const sPrev = this.sigmas[step - 1] as number;
        const alphaP = 1 / Math.sqrt(sPrev * sPrev + 1);
        const lambdaP = Math.log(alphaP) - Math.log(sPrev * alphaP);
        const r0 = (lambdaS - lambdaP) / h;
        const onCurrent = push * (1 + 0.5 / r0);
        const onPrevious = -push * (0.5 / r0);
        for (let i = 0; i < size; i++) {
          const x = sample[i] as number;
          const x0 = px * x + pm * (modelOutput[i] as number);
          current[i] = x0;
          out[i] = keep * x + onCurrent * x0 + onPrevious * (previous[i] as number);
        }
      } else {
        for (let i = 0; i < size; i++) {
          const x = sample[i] as number;
          const x0 = px * x + pm * (modelOutput[i] as number);
          current[i] = x0;
          out[i] = keep * x + push * x0;
        }
      }
    }
    // This step's x0 becomes the history of the next.
    this.currentX0 = previous;
    this.previousX0 = current;
    this.previousStep = step;
    return out;
  }
}
