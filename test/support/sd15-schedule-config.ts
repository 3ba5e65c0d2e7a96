import { readScheduleConfig, type ScheduleConfig } from '../../src/providers/onnx-sd/scheduler/index.js';

/**
 * SD 1.5's scheduler config (PNDM, scaled_linear 0.00085→0.012, steps_offset 1), read as the
 * pipeline reads it; `overrides` change keys by their diffusers names (timestep_spacing...).
 */
export function sd15ScheduleConfig(overrides: Record<string, unknown> = {}): ScheduleConfig {
  return readScheduleConfig({
    _class_name: 'PNDMScheduler',
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    num_train_timesteps: 1000,
    set_alpha_to_one: false,
    steps_offset: 1,
    clip_sample: false,
    ...overrides,
  });
}
