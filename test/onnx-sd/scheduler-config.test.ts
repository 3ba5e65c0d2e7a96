import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  SCHEDULER_NAMES,
  defaultSchedulerFor,
  parseSchedulerName,
  readScheduleConfig,
} from '../../src/providers/onnx-sd/scheduler/index.js';

/** stable-diffusion-v1-5 scheduler/scheduler_config.json as published (diffusers 0.6, PNDM). */
const SD15_CONFIG = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

describe('readScheduleConfig', () => {
  test('reads the SD 1.5 config; the missing timestep_spacing is PNDM\'s "leading"', () => {
    assert.deepEqual(readScheduleConfig(SD15_CONFIG), {
      numTrainTimesteps: 1000,
      betaStart: 0.00085,
      betaEnd: 0.012,
      betaSchedule: 'scaled_linear',
      predictionType: 'epsilon',
      timestepSpacing: 'leading',
      stepsOffset: 1,
      setAlphaToOne: false,
      clipSample: false,
      originalInferenceSteps: 50,
    });
  });

  test('reads the SD-Turbo config (Euler, trailing)', () => {
    const config = readScheduleConfig({
      _class_name: 'EulerDiscreteScheduler',
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      interpolation_type: 'linear',
      num_train_timesteps: 1000,
      prediction_type: 'epsilon',
      steps_offset: 1,
      timestep_spacing: 'trailing',
      trained_betas: null,
      use_karras_sigmas: false,
    });
    assert.equal(config.timestepSpacing, 'trailing');
    assert.equal(config.stepsOffset, 1);
    assert.equal(config.setAlphaToOne, false);
  });

  test('v-prediction and LCM keys', () => {
    const config = readScheduleConfig({
      _class_name: 'LCMScheduler',
      prediction_type: 'v_prediction',
      original_inference_steps: 25,
    });
    assert.equal(config.predictionType, 'v_prediction');
    assert.equal(config.originalInferenceSteps, 25);
    // LCMScheduler's own defaults: the SD betas, leading spacing, ᾱ_final = 1.
    assert.equal(config.betaSchedule, 'scaled_linear');
    assert.equal(config.betaStart, 0.00085);
    assert.equal(config.timestepSpacing, 'leading');
    assert.equal(config.setAlphaToOne, true);
  });

  test('missing keys take the defaults of the named class', () => {
    const empty = readScheduleConfig({});
    assert.deepEqual(empty, {
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
    });
    assert.equal(readScheduleConfig({ _class_name: 'EulerDiscreteScheduler' }).timestepSpacing, 'linspace');
    assert.equal(readScheduleConfig({ _class_name: 'EulerAncestralDiscreteScheduler' }).timestepSpacing, 'linspace');
    assert.equal(readScheduleConfig({ _class_name: 'DPMSolverMultistepScheduler' }).timestepSpacing, 'linspace');
    const ddim = readScheduleConfig({ _class_name: 'DDIMScheduler' });
    assert.equal(ddim.timestepSpacing, 'leading');
    assert.equal(ddim.setAlphaToOne, true);
    assert.equal(ddim.clipSample, true);
    // null counts as missing, as diffusers writes it for unset keys.
    assert.equal(readScheduleConfig({ steps_offset: null }).stepsOffset, 0);
  });

  test('a bad value throws an Error naming the key', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ num_train_timesteps: 0 }, /num_train_timesteps/],
      [{ num_train_timesteps: '1000' }, /num_train_timesteps/],
      [{ beta_start: -1 }, /beta_start/],
      [{ beta_end: 'high' }, /beta_end/],
      [{ beta_schedule: 'squaredcos_cap_v2' }, /beta_schedule/],
      [{ prediction_type: 'sample' }, /prediction_type/],
      [{ timestep_spacing: 'even' }, /timestep_spacing/],
      [{ steps_offset: 1.5 }, /steps_offset/],
      [{ set_alpha_to_one: 'yes' }, /set_alpha_to_one/],
      [{ clip_sample: 0 }, /clip_sample/],
      [{ original_inference_steps: 0 }, /original_inference_steps/],
      [{ trained_betas: [0.1, 0.2] }, /trained_betas/],
      [{ beta_start: 0.02, beta_end: 0.01 }, /beta_start/],
    ];
    for (const [json, message] of cases) {
      assert.throws(() => readScheduleConfig({ ...SD15_CONFIG, ...json }), message, JSON.stringify(json));
    }
    assert.throws(() => readScheduleConfig(null), /JSON object/);
    assert.throws(() => readScheduleConfig([1, 2]), /JSON object/);
  });
});

describe('scheduler names', () => {
  test('our ids', () => {
    assert.deepEqual(SCHEDULER_NAMES, ['euler', 'euler_a', 'ddim', 'dpmpp_2m', 'dpmpp_2m_karras', 'lcm', 'turbo']);
    for (const name of SCHEDULER_NAMES) assert.equal(parseSchedulerName(name), name);
  });

  test('A1111 / Forge sampler names', () => {
    assert.equal(parseSchedulerName('Euler'), 'euler');
    assert.equal(parseSchedulerName('Euler a'), 'euler_a');
    assert.equal(parseSchedulerName('DDIM'), 'ddim');
    assert.equal(parseSchedulerName('DPM++ 2M'), 'dpmpp_2m');
    assert.equal(parseSchedulerName('DPM++ 2M Karras'), 'dpmpp_2m_karras');
    assert.equal(parseSchedulerName('LCM'), 'lcm');
  });

  test('ComfyUI sampler names', () => {
    assert.equal(parseSchedulerName('euler'), 'euler');
    assert.equal(parseSchedulerName('euler_ancestral'), 'euler_a');
    assert.equal(parseSchedulerName('dpmpp_2m'), 'dpmpp_2m');
    assert.equal(parseSchedulerName('dpmpp_2m_karras'), 'dpmpp_2m_karras');
    assert.equal(parseSchedulerName('ddim'), 'ddim');
    assert.equal(parseSchedulerName('lcm'), 'lcm');
  });

  test('diffusers class names', () => {
    assert.equal(parseSchedulerName('EulerDiscreteScheduler'), 'euler');
    assert.equal(parseSchedulerName('EulerAncestralDiscreteScheduler'), 'euler_a');
    assert.equal(parseSchedulerName('DDIMScheduler'), 'ddim');
    assert.equal(parseSchedulerName('DPMSolverMultistepScheduler'), 'dpmpp_2m');
    assert.equal(parseSchedulerName('LCMScheduler'), 'lcm');
  });

  test('case, surrounding space and separators do not matter; unknown names are undefined', () => {
    assert.equal(parseSchedulerName('  EULER A '), 'euler_a');
    assert.equal(parseSchedulerName('euler-a'), 'euler_a');
    assert.equal(parseSchedulerName('dpm++  2m   karras'), 'dpmpp_2m_karras');
    assert.equal(parseSchedulerName('Turbo'), 'turbo');
    assert.equal(parseSchedulerName('PNDMScheduler'), undefined);
    assert.equal(parseSchedulerName('heun'), undefined);
    assert.equal(parseSchedulerName(''), undefined);
  });

  test('defaultSchedulerFor maps the config class; PNDM and unknown get Euler', () => {
    assert.equal(defaultSchedulerFor('EulerDiscreteScheduler'), 'euler');
    assert.equal(defaultSchedulerFor('EulerAncestralDiscreteScheduler'), 'euler_a');
    assert.equal(defaultSchedulerFor('DDIMScheduler'), 'ddim');
    assert.equal(defaultSchedulerFor('DPMSolverMultistepScheduler'), 'dpmpp_2m');
    assert.equal(defaultSchedulerFor('LCMScheduler'), 'lcm');
    assert.equal(defaultSchedulerFor('PNDMScheduler'), 'euler');
    assert.equal(defaultSchedulerFor('UniPCMultistepScheduler'), 'euler');
    assert.equal(defaultSchedulerFor(undefined), 'euler');
  });
});
