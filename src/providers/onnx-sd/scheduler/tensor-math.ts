/**
 * Small guards, loops and coefficients shared by the schedulers. They run once per step on
 * 4×64×64 latents, so they stay plain indexed loops over typed arrays: no closures, no
 * intermediate arrays.
 */

/** Throws when a step index does not belong to a schedule of `count` steps. */
export function checkStep(step: number, count: number): void {
  if (!Number.isInteger(step) || step < 0 || step >= count) {
    throw new RangeError(`step ${step} is outside this ${count}-step schedule`);
  }
}

/** The model output must match the latents element for element. */
export function checkSizes(modelOutput: Float32Array, sample: Float32Array): void {
  if (modelOutput.length !== sample.length) {
    throw new RangeError(`model output has ${modelOutput.length} values, latents have ${sample.length}`);
  }
}

/**
 * The clean-latent prediction as x0 = px·x + pm·m (x the latents, m the model output), from
 * √ᾱ and √(1−ᾱ) of the step: ε-prediction x0 = (x − √(1−ᾱ)·ε)/√ᾱ, v-prediction x0 = √ᾱ·x − √(1−ᾱ)·v.
 */
export function x0Coefficients(rootAlpha: number, rootBeta: number, vPrediction: boolean): { readonly px: number; readonly pm: number } {
  return vPrediction ? { px: rootAlpha, pm: -rootBeta } : { px: 1 / rootAlpha, pm: -rootBeta / rootAlpha };
}

/** out = factor·source; returns `out`. */
export function scaleInto(out: Float32Array, source: Float32Array, factor: number): Float32Array {
  for (let i = 0; i < source.length; i++) out[i] = factor * (source[i] as number);
  return out;
}
