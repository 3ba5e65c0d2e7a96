/**
 * One update of each scheduler on a known tensor. Expected values come from the formulas of
 * shared/onnx-sd.md §3.3 evaluated on the §3.6 reference constants (copied in as literals), so
 * a wrong coefficient, σ or ᾱ shows up; tolerances allow float32 storage and 6-digit literals.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createScheduler, readScheduleConfig } from '../../src/providers/onnx-sd/scheduler/index.js';
import { trainingSchedule } from '../../src/providers/onnx-sd/scheduler/training-schedule.js';
import { sd15ScheduleConfig } from '../support/sd15-schedule-config.js';

const X = [1, -0.5, 0.25, 2, -3];
const EPS = [0.5, 0.1, -1, 0.3, -0.2];
const Z = 0.75;

const constantNoise = (): number => Z;
const noNoise = (): number => {
  throw new Error('this step must not draw noise');
};

function assertClose(actual: Float32Array, expected: readonly number[], tolerance = 1e-5): void {
  assert.ok(actual instanceof Float32Array, 'expected a Float32Array');
  assert.equal(actual.length, expected.length);
  expected.forEach((want, i) => {
    const got = actual[i] as number;
    assert.ok(Number.isFinite(got), `[${i}] is ${got}`);
    assert.ok(Math.abs(got - want) <= tolerance * Math.max(1, Math.abs(want)), `[${i}] ${got} vs ${want}`);
  });
}

const f32 = (values: readonly number[]): Float32Array => new Float32Array(values);

describe('Euler', () => {
  test('linspace step 0: x + ε·(σ1 − σ0), σ 14.614641 → 10.746844; input x/√(σ²+1)', () => {
    const euler = createScheduler('euler', sd15ScheduleConfig({ timestep_spacing: 'linspace' }), 20);
    const sample = f32(X);
    const next = euler.step(f32(EPS), 0, sample, noNoise);
    assertClose(next, X.map((x, i) => x + (EPS[i] as number) * (10.746844 - 14.614641)));
    assertClose(euler.scaleModelInput(sample, 0), X.map((x) => x / Math.sqrt(14.614641 ** 2 + 1)));
    assert.deepEqual(Array.from(sample), X, 'the input latents are not modified');
    assert.notEqual(next, sample);
  });

  test('leading step 0: σ 11.028331 → 8.390685', () => {
    const euler = createScheduler('euler', sd15ScheduleConfig(), 20);
    assertClose(euler.step(f32(EPS), 0, f32(X), noNoise), X.map((x, i) => x + (EPS[i] as number) * (8.390685 - 11.028331)));
  });

  test('last step lands on x0 = x − σ·ε (σ 0.029167 → 0)', () => {
    const euler = createScheduler('euler', sd15ScheduleConfig({ timestep_spacing: 'linspace' }), 20);
    assertClose(euler.step(f32(EPS), 19, f32(X), noNoise), X.map((x, i) => x - 0.029167 * (EPS[i] as number)));
  });

  test('v-prediction: x0 = −σ/√(σ²+1)·v + x/(σ²+1)', () => {
    const euler = createScheduler('euler', sd15ScheduleConfig({ prediction_type: 'v_prediction' }), 20);
    const [s, sNext] = [11.028331, 8.390685];
    const expected = X.map((x, i) => {
      const x0 = (EPS[i] as number) * (-s / Math.sqrt(s * s + 1)) + x / (s * s + 1);
      return x + ((x - x0) / s) * (sNext - s);
    });
    assertClose(euler.step(f32(EPS), 0, f32(X), noNoise), expected);
  });
});

describe('Euler ancestral', () => {
  test('linspace step 0: σ_up 7.283028, σ_down 7.902668, fresh noise × σ_up', () => {
    const ancestral = createScheduler('euler_a', sd15ScheduleConfig({ timestep_spacing: 'linspace' }), 20);
    const expected = X.map((x, i) => x + (EPS[i] as number) * (7.902668 - 14.614641) + 7.283028 * Z);
    assertClose(ancestral.step(f32(EPS), 0, f32(X), constantNoise), expected);
  });

  test('leading step 0: σ_up 5.445146, σ_down 6.383884', () => {
    const ancestral = createScheduler('euler_a', sd15ScheduleConfig(), 20);
    const expected = X.map((x, i) => x + (EPS[i] as number) * (6.383884 - 11.028331) + 5.445146 * Z);
    assertClose(ancestral.step(f32(EPS), 0, f32(X), constantNoise), expected);
  });

  test('draws one number per element, and none on the last step (σ_up = 0)', () => {
    const ancestral = createScheduler('euler_a', sd15ScheduleConfig({ timestep_spacing: 'linspace' }), 20);
    let draws = 0;
    ancestral.step(f32(EPS), 0, f32(X), () => {
      draws++;
      return 0;
    });
    assert.equal(draws, X.length);
    assertClose(ancestral.step(f32(EPS), 19, f32(X), noNoise), X.map((x, i) => x - 0.029167 * (EPS[i] as number)));
  });
});

describe('turbo', () => {
  test('the single step returns x0 = latents − 14.614641·ε', () => {
    const turbo = createScheduler('turbo', sd15ScheduleConfig({ timestep_spacing: 'trailing' }), 1);
    assertClose(turbo.step(f32(EPS), 0, f32(X), noNoise), X.map((x, i) => x - 14.614641 * (EPS[i] as number)));
  });
});

describe('DDIM (η = 0)', () => {
  // Trailing N = 4 steps t = 999 → 749 → 499 → 249 → end; the stride T//N = 250 matches.
  const ddimExpected = (alpha: number, alphaPrev: number): number[] =>
    X.map((x, i) => {
      const eps = EPS[i] as number;
      const x0 = (x - Math.sqrt(1 - alpha) * eps) / Math.sqrt(alpha);
      return Math.sqrt(alphaPrev) * x0 + Math.sqrt(1 - alphaPrev) * eps;
    });

  test('step 0: ᾱ_999 0.004660099 → ᾱ_749 0.056623492', () => {
    const ddim = createScheduler('ddim', sd15ScheduleConfig({ timestep_spacing: 'trailing' }), 4);
    assertClose(ddim.step(f32(EPS), 0, f32(X), noNoise), ddimExpected(0.004660099, 0.056623492));
  });

  test('last step goes to ᾱ_0 = 0.99915, or to a clean x0 with set_alpha_to_one', () => {
    const ddim = createScheduler('ddim', sd15ScheduleConfig({ timestep_spacing: 'trailing' }), 4);
    assertClose(ddim.step(f32(EPS), 3, f32(X), noNoise), ddimExpected(0.675432414, 0.99915));
    const toOne = createScheduler('ddim', sd15ScheduleConfig({ timestep_spacing: 'trailing', set_alpha_to_one: true }), 4);
    assertClose(toOne.step(f32(EPS), 3, f32(X), noNoise), ddimExpected(0.675432414, 1));
  });

  test('clip_sample clamps x0 to ±1', () => {
    const ddim = createScheduler('ddim', sd15ScheduleConfig({ timestep_spacing: 'trailing', clip_sample: true }), 4);
    const [alpha, alphaPrev] = [0.004660099, 0.056623492];
    const expected = X.map((x, i) => {
      const eps = EPS[i] as number;
      const x0 = Math.max(-1, Math.min(1, (x - Math.sqrt(1 - alpha) * eps) / Math.sqrt(alpha)));
      return Math.sqrt(alphaPrev) * x0 + Math.sqrt(1 - alphaPrev) * eps;
    });
    assertClose(ddim.step(f32(EPS), 0, f32(X), noNoise), expected);
  });

  test('v-prediction: x0 = √ᾱ·x − √(1−ᾱ)·v, ε = √ᾱ·v + √(1−ᾱ)·x', () => {
    const ddim = createScheduler('ddim', sd15ScheduleConfig({ timestep_spacing: 'trailing', prediction_type: 'v_prediction' }), 4);
    const [alpha, alphaPrev] = [0.004660099, 0.056623492];
    const expected = X.map((x, i) => {
      const v = EPS[i] as number;
      const x0 = Math.sqrt(alpha) * x - Math.sqrt(1 - alpha) * v;
      const eps = Math.sqrt(alpha) * v + Math.sqrt(1 - alpha) * x;
      return Math.sqrt(alphaPrev) * x0 + Math.sqrt(1 - alphaPrev) * eps;
    });
    assertClose(ddim.step(f32(EPS), 0, f32(X), noNoise), expected);
  });
});

/** DPM-Solver++ 2M written out plainly from §3.3, for σs given as literals. */
function dpmReference(sigmas: readonly number[], steps: number, vPrediction = false): number[][] {
  const alphaOf = (s: number): number => 1 / Math.sqrt(s * s + 1);
  const lambdaOf = (s: number): number => Math.log(alphaOf(s)) - Math.log(s * alphaOf(s));
  let x = X.slice();
  let previousX0: number[] = [];
  const outputs: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const s = sigmas[k] as number;
    const sNext = sigmas[k + 1] as number;
    const x0 = x.map((value, i) => {
      const m = EPS[i] as number;
      return vPrediction ? alphaOf(s) * value - s * alphaOf(s) * m : (value - s * alphaOf(s) * m) / alphaOf(s);
    });
    let next: number[];
    if (sNext === 0) {
      next = x0;
    } else {
      const h = lambdaOf(sNext) - lambdaOf(s);
      const ratio = (sNext * alphaOf(sNext)) / (s * alphaOf(s));
      const factor = alphaOf(sNext) * (Math.exp(-h) - 1);
      if (k === 0) {
        next = x.map((value, i) => ratio * value - factor * (x0[i] as number));
      } else {
        const r0 = (lambdaOf(s) - lambdaOf(sigmas[k - 1] as number)) / h;
        next = x.map((value, i) => {
          const d0 = x0[i] as number;
          const d1 = (d0 - (previousX0[i] as number)) / r0;
          return ratio * value - factor * d0 - 0.5 * factor * d1;
        });
      }
    }
    outputs.push(next);
    previousX0 = x0;
    x = next;
  }
  return outputs;
}

describe('DPM++ 2M', () => {
  const trailingSigmas = [14.614641, 4.0817294, 1.6128862, 0.6932049, 0];

  test('trailing N = 4: first order, then second order, then x0 on the last step', () => {
    const dpm = createScheduler('dpmpp_2m', sd15ScheduleConfig({ timestep_spacing: 'trailing' }), 4);
    const expected = dpmReference(trailingSigmas, 4);
    let latents = f32(X);
    for (let k = 0; k < 4; k++) {
      assert.equal(dpm.scaleModelInput(latents, k), latents, 'the sample is not scaled');
      latents = dpm.step(f32(EPS), k, latents, noNoise);
      assertClose(latents, expected[k] as number[]);
    }
  });

  test('Karras N = 20, steps 0 and 1 (σ 14.614641 → 11.725365 → 9.340203)', () => {
    const dpm = createScheduler('dpmpp_2m_karras', sd15ScheduleConfig(), 20);
    const expected = dpmReference([14.614641, 11.725365, 9.340203], 2);
    const first = dpm.step(f32(EPS), 0, f32(X), noNoise);
    assertClose(first, expected[0] as number[]);
    assertClose(dpm.step(f32(EPS), 1, first, noNoise), expected[1] as number[]);
  });

  test('v-prediction', () => {
    const dpm = createScheduler('dpmpp_2m', sd15ScheduleConfig({ timestep_spacing: 'trailing', prediction_type: 'v_prediction' }), 4);
    const expected = dpmReference(trailingSigmas, 2, true);
    const first = dpm.step(f32(EPS), 0, f32(X), noNoise);
    assertClose(first, expected[0] as number[]);
    assertClose(dpm.step(f32(EPS), 1, first, noNoise), expected[1] as number[]);
  });

  test('the last step (σ\' = 0, λ\' = +∞) returns x0 with no NaN, also as the only step', () => {
    const single = createScheduler('dpmpp_2m', sd15ScheduleConfig({ timestep_spacing: 'trailing' }), 1);
    const s = 14.614641;
    const alpha = 1 / Math.sqrt(s * s + 1);
    assertClose(single.step(f32(EPS), 0, f32(X), noNoise), X.map((x, i) => (x - s * alpha * (EPS[i] as number)) / alpha));
    const karras = createScheduler('dpmpp_2m_karras', sd15ScheduleConfig(), 20);
    let latents = f32(X);
    for (let k = 0; k < 20; k++) latents = karras.step(f32(EPS), k, latents, noNoise);
    assert.ok(latents.every(Number.isFinite));
  });

  test('a restarted loop does not reuse the history of the previous run', () => {
    const dpm = createScheduler('dpmpp_2m', sd15ScheduleConfig({ timestep_spacing: 'trailing' }), 4);
    const firstRun = dpm.step(f32(EPS), 0, f32(X), noNoise);
    dpm.step(f32(EPS), 1, firstRun, noNoise);
    const again = dpm.step(f32(EPS), 0, f32(X), noNoise);
    assert.deepEqual(Array.from(again), Array.from(firstRun));
    // Step 2 without step 1 before it falls back to first order instead of using stale x0.
    const fresh = createScheduler('dpmpp_2m', sd15ScheduleConfig({ timestep_spacing: 'trailing' }), 4);
    fresh.step(f32(EPS), 0, f32(X), noNoise);
    const skipped = fresh.step(f32(EPS), 2, f32(X), noNoise);
    const s = 1.6128862;
    const sNext = 0.6932049;
    const alphaOf = (v: number): number => 1 / Math.sqrt(v * v + 1);
    const h = Math.log(1 / sNext) - Math.log(1 / s); // λ = ln(α/σ) = −ln s
    const expected = X.map((x, i) => {
      const x0 = (x - s * alphaOf(s) * (EPS[i] as number)) / alphaOf(s);
      return ((sNext * alphaOf(sNext)) / (s * alphaOf(s))) * x - alphaOf(sNext) * (Math.exp(-h) - 1) * x0;
    });
    assertClose(skipped, expected);
  });
});

describe('LCM', () => {
  const lcmConfig = readScheduleConfig({
    _class_name: 'LCMScheduler',
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    original_inference_steps: 50,
    set_alpha_to_one: true,
    steps_offset: 0,
    timestep_spacing: 'leading',
    prediction_type: 'epsilon',
  });

  test('diffusers reference vectors: x 0.25, ε −0.5, z 0.75 → 3.2367105 (step 0), 0.66765785 (step 3 of 4)', () => {
    const lcm = createScheduler('lcm', lcmConfig, 4);
    assertClose(lcm.step(f32([-0.5]), 0, f32([0.25]), constantNoise), [3.2367105], 1e-6);
    // The last step returns `denoised` itself: no noise drawn.
    assertClose(lcm.step(f32([-0.5]), 3, f32([0.25]), noNoise), [0.66765785], 1e-6);
  });

  test('step 0 from the formulas: c_skip 2.505e-9, c_out ≈ 1, re-noised to ᾱ_759', () => {
    const lcm = createScheduler('lcm', lcmConfig, 4);
    assert.equal(lcm.scaleModelInput(f32(X), 0)[0], X[0]);
    const out = lcm.step(f32(EPS), 0, f32(X), constantNoise);
    const alpha = 0.004660099;
    const cSkip = 0.25 / (9990 ** 2 + 0.25);
    const cOut = 9990 / Math.sqrt(9990 ** 2 + 0.25);
    assert.ok(Math.abs(cSkip - 2.505e-9) < 1e-12);
    // ᾱ_759 is not among the §3.6 literals; the training schedule is checked against them elsewhere.
    const alphaPrev = trainingSchedule(lcmConfig).alphasCumprod[759] as number;
    const expected = X.map((x, i) => {
      const x0 = (x - Math.sqrt(1 - alpha) * (EPS[i] as number)) / Math.sqrt(alpha);
      return Math.sqrt(alphaPrev) * (cOut * x0 + cSkip * x) + Math.sqrt(1 - alphaPrev) * Z;
    });
    assertClose(out, expected);
  });

  test('t = 259 scalings: c_skip 3.727e-8, c_out 0.999999981', () => {
    const scaled = 2590;
    assert.ok(Math.abs(0.25 / (scaled ** 2 + 0.25) - 3.727e-8) < 1e-11);
    assert.ok(Math.abs(scaled / Math.sqrt(scaled ** 2 + 0.25) - 0.999999981) < 1e-9);
    // With x = 0 the last step is c_out·x0 = c_out·(−√(1−ᾱ)/√ᾱ)·ε: c_skip plays no part.
    const lcm = createScheduler('lcm', lcmConfig, 4);
    const alpha = trainingSchedule(lcmConfig).alphasCumprod[259] as number;
    assertClose(lcm.step(f32([1]), 3, f32([0]), noNoise), [(-0.999999981 * Math.sqrt(1 - alpha)) / Math.sqrt(alpha)]);
  });
});

describe('guards', () => {
  test('step indices outside the schedule and mismatched sizes throw', () => {
    for (const name of ['euler', 'euler_a', 'ddim', 'dpmpp_2m', 'dpmpp_2m_karras', 'lcm', 'turbo'] as const) {
      const scheduler = createScheduler(name, sd15ScheduleConfig(), 4);
      assert.throws(() => scheduler.step(f32(EPS), 4, f32(X), constantNoise), /outside this 4-step schedule/, name);
      assert.throws(() => scheduler.step(f32(EPS), -1, f32(X), constantNoise), RangeError, name);
      assert.throws(() => scheduler.scaleModelInput(f32(X), 4), RangeError, name);
      assert.throws(() => scheduler.step(f32([1, 2]), 0, f32(X), constantNoise), /model output has 2 values/, name);
    }
  });

  test('every scheduler returns a new Float32Array of finite values over a whole run', () => {
    for (const name of ['euler', 'euler_a', 'ddim', 'dpmpp_2m', 'dpmpp_2m_karras', 'lcm', 'turbo'] as const) {
      const scheduler = createScheduler(name, sd15ScheduleConfig(), 4);
      let latents = f32(X.map((x) => x * scheduler.initNoiseSigma));
      for (let k = 0; k < scheduler.timesteps.length; k++) {
        const input = scheduler.scaleModelInput(latents, k);
        const next = scheduler.step(f32(EPS), k, latents, constantNoise);
        assert.ok(next instanceof Float32Array && next !== latents && next !== input, name);
        assert.ok(next.every(Number.isFinite), name);
        latents = next;
      }
    }
  });
});
