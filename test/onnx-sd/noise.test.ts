import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createGaussian, fillGaussian } from '../../src/providers/onnx-sd/noise.js';

function draw(seed: number, count: number): number[] {
  const gaussian = createGaussian(seed);
  return Array.from({ length: count }, () => gaussian());
}

function assertNear(actual: readonly number[], expected: readonly number[]): void {
  expected.forEach((want, i) => assert.ok(Math.abs((actual[i] as number) - want) < 1e-12, `[${i}] ${actual[i]} vs ${want}`));
}

describe('seeded Gaussian noise', () => {
  test('the same seed gives the same sequence, bit for bit', () => {
    assert.deepEqual(draw(42, 1000), draw(42, 1000));
    const a = new Float32Array(4 * 8 * 8);
    const b = new Float32Array(4 * 8 * 8);
    fillGaussian(a, createGaussian(7));
    fillGaussian(b, createGaussian(7));
    assert.deepEqual(a, b);
  });

  test('golden values (pins the algorithm: SplitMix64 → xoshiro128** → Box–Muller)', () => {
    // Cross-checked with an independent Python port of the same algorithm.
    assertNear(draw(0, 4), [-0.42319047143672595, -0.31440157642340455, 0.08513957851515364, -0.8912418374305422]);
    assertNear(draw(42, 4), [1.304748619457789, -0.25070183295444787, -3.222246082709066, -0.8173552857420178]);
    assertNear(draw(-1, 4), [-1.8322577901365515, -1.0175003069854387, 1.2741980357692293, 1.5704699436423761]);
    assertNear(draw(2 ** 53 - 1, 2), [-0.4849720026927869, 1.5035023451524216]);
  });

  test('different seeds, neighbouring ones included, give different sequences', () => {
    const first = draw(1, 16);
    assert.notDeepEqual(draw(2, 16), first);
    assert.notDeepEqual(draw(-1, 16), first);
    assert.notDeepEqual(draw(1.5, 16), first);
    assert.notDeepEqual(draw(2 ** 32 + 1, 16), first, 'seeds above 32 bits are not folded onto small ones');
  });

  test('mean ≈ 0 and variance ≈ 1 over 100k draws, with sane tails', () => {
    const samples = new Float32Array(100_000);
    fillGaussian(samples, createGaussian(12345));
    let sum = 0;
    let sumSquares = 0;
    let beyondTwo = 0;
    for (const value of samples) {
      assert.ok(Number.isFinite(value));
      sum += value;
      sumSquares += value * value;
      if (Math.abs(value) > 2) beyondTwo++;
    }
    const mean = sum / samples.length;
    const variance = sumSquares / samples.length - mean * mean;
    // Standard errors: mean 0.0032, variance 0.0045; these bounds are about 5σ.
    assert.ok(Math.abs(mean) < 0.016, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.025, `variance ${variance}`);
    // P(|z| > 2) = 4.55 %.
    assert.ok(Math.abs(beyondTwo / samples.length - 0.0455) < 0.004, `tail ${beyondTwo / samples.length}`);
  });

  test('non-finite seeds are refused', () => {
    assert.throws(() => createGaussian(Number.NaN), RangeError);
    assert.throws(() => createGaussian(Number.POSITIVE_INFINITY), RangeError);
  });
});
