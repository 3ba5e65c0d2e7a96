/**
 * Timesteps, σs and initial noise scales against the reference numbers of shared/onnx-sd.md §3.6
 * (a float64 numpy port of diffusers, cross-checked against public printouts).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createScheduler, lcmTimesteps } from '../../src/providers/onnx-sd/scheduler/index.js';
import type { ScheduleConfig } from '../../src/providers/onnx-sd/scheduler/index.js';
import { trainingSchedule } from '../../src/providers/onnx-sd/scheduler/training-schedule.js';
import { roundHalfEven } from '../../src/providers/onnx-sd/scheduler/timestep-spacing.js';
import { sd15ScheduleConfig } from '../support/sd15-schedule-config.js';

/** SD 1.5's config (PNDM, scaled_linear 0.00085→0.012, steps_offset 1) with a chosen spacing. */
function sdConfig(timestepSpacing: ScheduleConfig['timestepSpacing']): ScheduleConfig {
  return sd15ScheduleConfig({ timestep_spacing: timestepSpacing });
}

/** Relative tolerance for float64 math against 6–9 digit literals. */
function assertClose(actual: readonly number[] | undefined, expected: readonly number[], tolerance = 2e-6): void {
  assert.ok(actual, 'values missing');
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  expected.forEach((want, i) => {
    const got = actual[i] as number;
    const allowed = tolerance * Math.max(1, Math.abs(want));
    assert.ok(Math.abs(got - want) <= allowed, `[${i}] ${got} vs ${want}`);
  });
}

function countdown(from: number, stride: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from - i * stride);
}

describe('training schedule (scaled_linear, T = 1000)', () => {
  const schedule = trainingSchedule(sdConfig('leading'));

  test('ᾱ at the reference timesteps', () => {
    const picks = [0, 249, 499, 749, 999].map((t) => schedule.alphasCumprod[t] as number);
    assertClose(picks, [0.99915, 0.675432414, 0.27766965, 0.056623492, 0.004660099], 1e-6);
  });

  test('σ(t) = √((1−ᾱ)/ᾱ) at the reference timesteps', () => {
    const picks = [0, 1, 249, 499, 749, 999].map((t) => schedule.sigmas[t] as number);
    assertClose(picks, [0.0291672, 0.0413144, 0.6932049, 1.6128862, 4.0817294, 14.6146412], 1e-6);
  });

  test('rounding follows numpy: halves go to the even neighbour', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 812.5, 937.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 812, 938, 2, 3]);
  });
});

describe('Euler (N = 20)', () => {
  test('leading (offset 1): 951, 901, …, 1; init σ √(σ_max²+1)', () => {
    const euler = createScheduler('euler', sdConfig('leading'), 20);
    assert.deepEqual(euler.timesteps, countdown(951, 50, 20));
    assertClose(euler.sigmas, [
      11.028331, 8.390685, 6.506398, 5.134431, 4.116696, 3.347764, 2.756196, 2.292854, 1.923443, 1.623692, 1.376179,
      1.168216, 0.990409, 0.835653, 0.698398, 0.57405, 0.458333, 0.346187, 0.228147, 0.041314, 0,
    ]);
    assertClose([euler.initNoiseSigma], [11.073576]);
  });

  test('linspace: fractional timesteps from 999 to 0; init σ = σ_max', () => {
    const euler = createScheduler('euler', sdConfig('linspace'), 20);
    assertClose(euler.timesteps.slice(0, 3), [999, 946.421053, 893.842105]);
    assert.equal(euler.timesteps[19], 0);
    assertClose(euler.sigmas, [
      14.614641, 10.746844, 8.081534, 6.204948, 4.855663, 3.865382, 3.123768, 2.557167, 2.115661, 1.764824, 1.480582,
      1.245815, 1.048142, 0.878429, 0.729719, 0.596435, 0.473586, 0.355546, 0.232168, 0.029167, 0,
    ]);
    assertClose([euler.initNoiseSigma], [14.614641]);
  });

  test('trailing: 999, 949, …, 49', () => {
    const euler = createScheduler('euler', sdConfig('trailing'), 20);
    assert.deepEqual(euler.timesteps, countdown(999, 50, 20));
    const sigmas = euler.sigmas as readonly number[];
    assertClose([sigmas[0], sigmas[1], sigmas[19], sigmas[20]] as number[], [14.614641, 10.904235, 0.223003, 0]);
    assertClose([euler.initNoiseSigma], [14.614641]);
  });

  test('Euler ancestral uses the same schedule', () => {
    for (const spacing of ['leading', 'linspace', 'trailing'] as const) {
      const euler = createScheduler('euler', sdConfig(spacing), 20);
      const ancestral = createScheduler('euler_a', sdConfig(spacing), 20);
      assert.deepEqual(ancestral.timesteps, euler.timesteps);
      assert.deepEqual(ancestral.sigmas, euler.sigmas);
      assert.equal(ancestral.initNoiseSigma, euler.initNoiseSigma);
    }
  });
});

describe('trailing spacing for small N (Euler and DDIM)', () => {
  const expected: Record<number, number[]> = {
    1: [999],
    2: [999, 499],
    3: [999, 666, 332],
    4: [999, 749, 499, 249],
    6: [999, 832, 666, 499, 332, 166],
    8: [999, 874, 749, 624, 499, 374, 249, 124],
    // 1000 − 62.5·k lands on halves: numpy rounds 812.5 to 812 (→ 811), not 813.
    16: [999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61],
  };
  for (const [steps, timesteps] of Object.entries(expected)) {
    test(`N = ${steps}`, () => {
      assert.deepEqual(createScheduler('euler', sdConfig('trailing'), Number(steps)).timesteps, timesteps);
      assert.deepEqual(createScheduler('ddim', sdConfig('trailing'), Number(steps)).timesteps, timesteps);
    });
  }

  test("N = 48: numpy's arange steps by (T − T/N) − T, so 1000 − 3·20.83 is 937.4999… (→ 936), not 937.5", () => {
    // np.arange(1000, 0, -1000/48).round() - 1, printed by numpy.
    const expected = [
      999, 978, 957, 936, 916, 895, 874, 853, 832, 811, 791, 770, 749, 728, 707, 686, 666, 645, 624, 603, 582, 561, 541, 520,
      499, 478, 457, 436, 416, 395, 374, 353, 332, 311, 291, 270, 249, 228, 207, 186, 166, 145, 124, 103, 82, 61, 41, 20,
    ];
    assert.deepEqual(createScheduler('euler', sdConfig('trailing'), 48).timesteps, expected);
    assert.deepEqual(createScheduler('ddim', sdConfig('trailing'), 48).timesteps, expected);
    assert.deepEqual(createScheduler('dpmpp_2m', sdConfig('trailing'), 48).timesteps, expected);
  });

  test('Euler trailing N = 4 σs', () => {
    assertClose(createScheduler('euler', sdConfig('trailing'), 4).sigmas, [14.614641, 4.081729, 1.612886, 0.693205, 0]);
  });
});

describe('turbo', () => {
  test('one step: timestep 999, σ 14.614641 → 0, init σ 14.614641, UNet input ×0.0682649', () => {
    // SD-Turbo's own config says trailing, but turbo forces it even on a leading config.
    for (const config of [sdConfig('trailing'), sdConfig('leading')]) {
      const turbo = createScheduler('turbo', config, 1);
      assert.equal(turbo.name, 'turbo');
      assert.deepEqual(turbo.timesteps, [999]);
      assertClose(turbo.sigmas, [14.614641, 0]);
      assertClose([turbo.initNoiseSigma], [14.614641]);
      const input = turbo.scaleModelInput(new Float32Array([1, -2]), 0);
      assertClose(Array.from(input), [0.0682649, -0.1365298], 2e-6);
    }
  });

  test('2 to 4 steps follow Euler trailing', () => {
    assert.deepEqual(createScheduler('turbo', sdConfig('leading'), 4).timesteps, [999, 749, 499, 249]);
    assert.deepEqual(createScheduler('turbo', sdConfig('leading'), 2).timesteps, [999, 499]);
  });
});

describe('DDIM', () => {
  test('leading (offset 1): N = 20 → 951 … 1, N = 50 → 981 … 1; no input scaling', () => {
    const ddim = createScheduler('ddim', sdConfig('leading'), 20);
    assert.deepEqual(ddim.timesteps, countdown(951, 50, 20));
    assert.deepEqual(createScheduler('ddim', sdConfig('leading'), 50).timesteps, countdown(981, 20, 50));
    assert.equal(ddim.initNoiseSigma, 1);
    assert.equal(ddim.sigmas, undefined);
    const sample = new Float32Array([1, 2]);
    assert.equal(ddim.scaleModelInput(sample, 0), sample);
  });

  test('linspace rounds to integers', () => {
    const ddim = createScheduler('ddim', sdConfig('linspace'), 20);
    assert.deepEqual(ddim.timesteps.slice(0, 3), [999, 946, 894]);
    assert.equal(ddim.timesteps[19], 0);
  });
});

describe('DPM++ 2M (N = 20)', () => {
  test('linspace: N+1 points, last dropped: 999, 949, …, 100, 50', () => {
    const dpm = createScheduler('dpmpp_2m', sdConfig('linspace'), 20);
    assert.deepEqual(dpm.timesteps.slice(0, 4), [999, 949, 899, 849]);
    assert.deepEqual(dpm.timesteps.slice(-2), [100, 50]);
    const sigmas = dpm.sigmas as readonly number[];
    assertClose([sigmas[0], sigmas[19], sigmas[20]] as number[], [14.614641, 0.225582, 0]);
    assert.equal(dpm.initNoiseSigma, 1);
  });

  test('leading (offset 1): 941, 894, 847, 800, …, 95, 48', () => {
    const dpm = createScheduler('dpmpp_2m', sdConfig('leading'), 20);
    assert.deepEqual(dpm.timesteps.slice(0, 4), [941, 894, 847, 800]);
    assert.deepEqual(dpm.timesteps.slice(-2), [95, 48]);
    const sigmas = dpm.sigmas as readonly number[];
    assertClose([sigmas[0], sigmas[19]] as number[], [10.425041, 0.22041]);
  });

  test('Karras: σ over the whole training range, timesteps recovered from σ', () => {
    const expectedTimesteps = [999, 962, 921, 876, 827, 772, 710, 640, 561, 474, 380, 285, 197, 123, 69, 35, 15, 6, 2, 0];
    const expectedSigmas = [
      14.614641, 11.725365, 9.340203, 7.383617, 5.789412, 4.499835, 3.464747, 2.64084, 1.990915, 1.483211, 1.090786,
      0.790946, 0.564721, 0.39639, 0.273038, 0.184168, 0.121341, 0.07786, 0.048481, 0.029167, 0,
    ];
    // The same whatever the configured spacing.
    for (const spacing of ['leading', 'linspace', 'trailing'] as const) {
      const karras = createScheduler('dpmpp_2m_karras', sdConfig(spacing), 20);
      assert.equal(karras.name, 'dpmpp_2m_karras');
      assert.deepEqual(karras.timesteps, expectedTimesteps);
      assertClose(karras.sigmas, expectedSigmas);
      assert.equal(karras.initNoiseSigma, 1);
    }
  });
});

describe('LCM (original_inference_steps 50, diffusers ≥ 0.24 rule)', () => {
  test('timesteps for 1, 2, 4 and 8 steps', () => {
    const config = sdConfig('leading');
    assert.deepEqual(createScheduler('lcm', config, 1).timesteps, [999]);
    assert.deepEqual(createScheduler('lcm', config, 2).timesteps, [999, 499]);
    assert.deepEqual(createScheduler('lcm', config, 4).timesteps, [999, 759, 499, 259]);
    assert.deepEqual(createScheduler('lcm', config, 8).timesteps, [999, 879, 759, 639, 499, 379, 259, 139]);
  });

  test('not the pre-0.24 rule (which gave 999, 759, 519, 279)', () => {
    assert.notDeepEqual(lcmTimesteps(1000, 50, 4), [999, 759, 519, 279]);
  });

  test('50 steps visit the whole distillation grid; no input scaling', () => {
    const lcm = createScheduler('lcm', sdConfig('leading'), 50);
    assert.deepEqual(lcm.timesteps, countdown(999, 20, 50));
    assert.equal(lcm.initNoiseSigma, 1);
  });
});

describe('step counts', () => {
  test('out-of-range step counts throw', () => {
    const config = sdConfig('leading');
    assert.throws(() => createScheduler('euler', config, 0), /1 to 1000/);
    assert.throws(() => createScheduler('euler', config, 2.5), RangeError);
    assert.throws(() => createScheduler('turbo', config, 5), /turbo takes 1 to 4/);
    assert.throws(() => createScheduler('lcm', config, 51), /lcm takes 1 to 50/);
    assert.throws(() => createScheduler('ddim', config, 1001), RangeError);
  });
});
