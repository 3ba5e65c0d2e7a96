/**
 * Reads diffusers' `scheduler/scheduler_config.json` into a ScheduleConfig.
 *
 * A missing (or null) key takes the default that diffusers itself would use: the constructor
 * default of the class named in `_class_name`. diffusers registers those defaults into the config
 * of the loaded scheduler, and `OtherScheduler.from_config(pipe.scheduler.config)` carries them
 * over. That is why Euler on the original SD 1.5 config (a PNDM config without
 * `timestep_spacing`) runs with "leading" spacing (shared/onnx-sd.md §3.2).
 * Keys the named class does not have fall back to the values of SD's own configs.
 */
import type { ScheduleConfig } from './scheduler.js';

type SpacingName = ScheduleConfig['timestepSpacing'];

/** Constructor defaults per diffusers class (diffusers src/diffusers/schedulers/scheduling_*.py). */
const CLASS_DEFAULTS: Record<string, Partial<ScheduleConfig>> = {
  PNDMScheduler: { timestepSpacing: 'leading', setAlphaToOne: false },
  DDIMScheduler: { timestepSpacing: 'leading', setAlphaToOne: true, clipSample: true },
  EulerDiscreteScheduler: { timestepSpacing: 'linspace' },
  EulerAncestralDiscreteScheduler: { timestepSpacing: 'linspace' },
  DPMSolverMultistepScheduler: { timestepSpacing: 'linspace' },
  LCMScheduler: {
    timestepSpacing: 'leading',
    setAlphaToOne: true,
    clipSample: false,
    betaStart: 0.00085,
    betaEnd: 0.012,
    betaSchedule: 'scaled_linear',
  },
};

/** The defaults every class shares (betas are diffusers' generic ones; SD configs always set theirs). */
const COMMON_DEFAULTS: ScheduleConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  stepsOffset: 0,
  setAlphaToOne: false,
  clipSample: false,
  originalInferenceSteps: 50,
};

export function readScheduleConfig(json: unknown): ScheduleConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error('scheduler_config.json: expected a JSON object');
  }
  const raw = json as Record<string, unknown>;
  const className = typeof raw['_class_name'] === 'string' ? raw['_class_name'] : '';
  const classDefaults = Object.hasOwn(CLASS_DEFAULTS, className) ? CLASS_DEFAULTS[className] : undefined;
  const defaults: ScheduleConfig = { ...COMMON_DEFAULTS, ...classDefaults };

  const trainedBetas = raw['trained_betas'];
  if (trainedBetas !== undefined && trainedBetas !== null) {
    throw new Error('scheduler_config.json: trained_betas is not supported (only beta_schedule)');
  }

  const config: ScheduleConfig = {
    numTrainTimesteps: readInteger(raw, 'num_train_timesteps', defaults.numTrainTimesteps, 2),
    betaStart: readBeta(raw, 'beta_start', defaults.betaStart),
    betaEnd: readBeta(raw, 'beta_end', defaults.betaEnd),
    betaSchedule: readChoice(raw, 'beta_schedule', defaults.betaSchedule, ['scaled_linear', 'linear'] as const),
    predictionType: readChoice(raw, 'prediction_type', defaults.predictionType, ['epsilon', 'v_prediction'] as const),
    timestepSpacing: readChoice<SpacingName>(raw, 'timestep_spacing', defaults.timestepSpacing, [
      'leading',
      'trailing',
      'linspace',
    ] as const),
    stepsOffset: readInteger(raw, 'steps_offset', defaults.stepsOffset, 0),
    setAlphaToOne: readBoolean(raw, 'set_alpha_to_one', defaults.setAlphaToOne),
    clipSample: readBoolean(raw, 'clip_sample', defaults.clipSample),
    originalInferenceSteps: readInteger(raw, 'original_inference_steps', defaults.originalInferenceSteps, 1),
  };
  if (config.betaStart > config.betaEnd) {
    throw new Error(`scheduler_config.json: beta_start (${config.betaStart}) is above beta_end (${config.betaEnd})`);
  }
  if (config.originalInferenceSteps > config.numTrainTimesteps) {
    throw new Error('scheduler_config.json: original_inference_steps is above num_train_timesteps');
  }
  return config;
}

function present(raw: Record<string, unknown>, key: string): unknown {
  const value = raw[key];
  return value === null ? undefined : value;
}

function bad(key: string, value: unknown, expected: string): Error {
  return new Error(`scheduler_config.json: ${key} must be ${expected}, got ${JSON.stringify(value)}`);
}

function readInteger(raw: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const value = present(raw, key);
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > 100_000) {
    throw bad(key, value, `an integer from ${min} to 100000`);
  }
  return value;
}

function readBeta(raw: Record<string, unknown>, key: string, fallback: number): number {
  const value = present(raw, key);
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw bad(key, value, 'a number between 0 and 1');
  }
  return value;
}

function readBoolean(raw: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = present(raw, key);
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw bad(key, value, 'true or false');
  return value;
}

function readChoice<T extends string>(
  raw: Record<string, unknown>,
  key: string,
  fallback: T,
  choices: readonly T[],
): T {
  const value = present(raw, key);
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw bad(key, value, `one of ${choices.join(', ')}`);
  }
  return value as T;
}
