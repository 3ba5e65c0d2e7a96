/**
 * Builds a scheduler for one run of `steps` denoising steps.
 */
import { DdimScheduler } from './ddim.js';
import { DpmSolverPlusPlus2MScheduler } from './dpmpp-2m.js';
import { EulerScheduler } from './euler.js';
import { LcmScheduler } from './lcm.js';
import type { ScheduleConfig, Scheduler, SchedulerName } from './scheduler.js';
import { trainingSchedule } from './training-schedule.js';

/** SD-Turbo is distilled for 1 step and still good at up to 4 (diffusers sdxl_turbo.md). */
export const TURBO_MAX_STEPS = 4;

export function createScheduler(name: SchedulerName, config: ScheduleConfig, steps: number): Scheduler {
  const limit = maxSteps(name, config);
  if (!Number.isInteger(steps) || steps < 1 || steps > limit) {
    throw new RangeError(`scheduler ${name} takes 1 to ${limit} steps, got ${steps}`);
  }
  const schedule = trainingSchedule(config);
  switch (name) {
    case 'euler':
      return new EulerScheduler(config, schedule, steps, { name, ancestral: false, spacing: config.timestepSpacing });
    case 'euler_a':
      return new EulerScheduler(config, schedule, steps, { name, ancestral: true, spacing: config.timestepSpacing });
    case 'turbo':
      // Trailing spacing starts at t = 999 with σ_max, the single step SD-Turbo was distilled on.
      return new EulerScheduler(config, schedule, steps, { name, ancestral: false, spacing: 'trailing' });
    case 'ddim':
      return new DdimScheduler(config, schedule, steps);
    case 'dpmpp_2m':
      return new DpmSolverPlusPlus2MScheduler(config, schedule, steps, false);
    case 'dpmpp_2m_karras':
      return new DpmSolverPlusPlus2MScheduler(config, schedule, steps, true);
    case 'lcm':
      return new LcmScheduler(config, schedule, steps);
    default:
      throw new Error(`unknown scheduler ${String(name satisfies never)}`);
  }
}

function maxSteps(name: SchedulerName, config: ScheduleConfig): number {
  if (name === 'turbo') return TURBO_MAX_STEPS;
  // LCM samples its distillation grid, which has original_inference_steps points.
  if (name === 'lcm') return config.originalInferenceSteps;
  // DPM-Solver spaces N+1 points over the training range.
  if (name === 'dpmpp_2m' || name === 'dpmpp_2m_karras') return config.numTrainTimesteps - 1;
  return config.numTrainTimesteps;
}
