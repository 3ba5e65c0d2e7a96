/**
 * Checks that a model's outputs are a picture at all. A broken export (most often an fp16 one
 * whose activations overflow) gives NaN or Infinity, which the scheduler spreads over every
 * latent and the RGB conversion turns into black; or a VAE that decodes everything to one
 * colour. Either way the owner should get a stored picture and a note, not a blank frame.
 */

const TRY_NEXT = 'try an fp32 export or another model';

/**
 * Whole-image range (max − min, in 0..255 levels) every channel must reach for a picture not
 * to count as uniform. Real SD pictures span tens of levels even when dark; the tiny test
 * models' flattest picture spans 11.
 */
export const MIN_CHANNEL_RANGE = 4;

/** The model's output is not a picture; retrying the same model will not help. */
export class ModelOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelOutputError';
  }
}

/** Index of the first NaN or ±Infinity, or -1. A plain loop: it runs after every step. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return i;
  }
  return -1;
}

/** Throws when the latents after step `k` (0-based) of `total` hold NaN or Infinity. */
export function checkLatents(latents: Float32Array, k: number, total: number): void {
  const at = firstNonFinite(latents);
  if (at >= 0) throw new ModelOutputError(`the model produced ${nonFiniteName(latents[at]!)} at step ${k + 1} of ${total}: ${TRY_NEXT}`);
}

/** Throws when the VAE decoder's output holds NaN or Infinity (which would become black pixels). */
export function checkVaeOutput(planes: Float32Array): void {
  const at = firstNonFinite(planes);
  if (at >= 0) throw new ModelOutputError(`the model produced ${nonFiniteName(planes[at]!)} in the VAE decoder: ${TRY_NEXT}`);
}

/** Throws when the decoded picture is one colour (or nearly): all black, all grey, all white. */
export function checkNotUniform(rgb: Uint8Array): void {
  if (isUniformImage(rgb)) throw new ModelOutputError(`the model produced a uniform (blank) image: ${TRY_NEXT}`);
}

/** Interleaved RGB whose every channel stays within fewer than {@link MIN_CHANNEL_RANGE} levels. */
export function isUniformImage(rgb: Uint8Array): boolean {
  for (let channel = 0; channel < 3; channel++) {
    let min = 255;
    let max = 0;
    for (let i = channel; i < rgb.length; i += 3) {
      const value = rgb[i]!;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    if (max - min >= MIN_CHANNEL_RANGE) return false;
  }
  return true;
}

function nonFiniteName(value: number): string {
  return Number.isNaN(value) ? 'NaN' : 'Infinity';
}
