/** Smoothed seeded 1D noise for skylines, hills and waves. */
import type { Random } from './prng.js';
import type { Point } from './svg-kit.js';

export interface NoiseOptions {
  /** Bumps across the whole width for the first octave. */
  readonly frequency: number;
  readonly octaves: number;
  /** Amplitude ratio between octaves; lower is smoother. */
  readonly persistence?: number;
  /**
   * Stretch around the middle. Summed octaves crowd around 0.5, which flattens skylines;
   * the default spreads them back over most of 0..1.
   */
  readonly contrast?: number;
}

/** Fractal value noise over x in [0, 1], values in [0, 1]. */
export function fractalNoise(rng: Random, options: NoiseOptions): (x: number) => number {
  const persistence = options.persistence ?? 0.5;
  const contrast = options.contrast ?? 1.8;
  const layers: { frequency: number; amplitude: number; values: number[] }[] = [];
  let amplitude = 1;
  let total = 0;
  for (let octave = 0; octave < options.octaves; octave++) {
    const frequency = options.frequency * 2 ** octave;
    const values = Array.from({ length: Math.ceil(frequency) + 2 }, () => rng.next());
    layers.push({ frequency, amplitude, values });
    total += amplitude;
    amplitude *= persistence;
  }
  return (x) => {
    let sum = 0;
    for (const layer of layers) {
      const at = x * layer.frequency;
      const index = Math.floor(at);
      const f = at - index;
      const t = f * f * (3 - 2 * f);
      const a = layer.values[index] ?? 0;
      const b = layer.values[index + 1] ?? a;
      sum += (a + (b - a) * t) * layer.amplitude;
    }
    // tanh stretches without clipping: a clipped skyline would have flat, ruled valleys.
    return 0.5 + (0.5 * Math.tanh((sum / total - 0.5) * 2 * contrast)) / Math.tanh(contrast);
  };
}

export interface RidgeOptions extends NoiseOptions {
  readonly width: number;
  /** The y of the lowest points of the line. */
  readonly baseY: number;
  /** How far above baseY the highest points rise. */
  readonly amplitude: number;
  /** 0: rounded hills; 1: sharp ridged peaks. */
  readonly sharpness?: number;
  /** Horizontal distance between points, in pixels. */
  readonly step?: number;
}

/** A skyline from left to right edge (a little past both, so strokes never show at the edges). */
export function ridgeLine(rng: Random, options: RidgeOptions): Point[] {
  const noise = fractalNoise(rng, options);
  const sharpness = options.sharpness ?? 0;
  // The crests come from a second, independent field: folding the same field and blending
  // it with itself cancels out near a third of sharpness and leaves flat, ruled skylines.
  const crests = sharpness > 0 ? fractalNoise(rng, options) : noise;
  const step = options.step ?? 3;
  const points: Point[] = [];
  for (let x = -step; x <= options.width + step; x += step) {
    const at = Math.max(0, x) / options.width;
    // Folding noise around its middle turns rounded tops into sharp crests.
    const ridged = 1 - Math.abs(2 * crests(at) - 1);
    const value = noise(at) * (1 - sharpness) + ridged * sharpness;
    points.push([x, options.baseY - options.amplitude * value]);
  }
  return points;
}

/** The highest point (smallest y) of a line. */
export function topOf(points: readonly Point[]): number {
  return points.reduce((top, [, y]) => Math.min(top, y), Number.POSITIVE_INFINITY);
}

/** The line's y at x, by linear interpolation (points sorted by x). */
export function heightAt(points: readonly Point[], x: number): number {
  for (let i = 1; i < points.length; i++) {
    const right = points[i] as Point;
    if (right[0] >= x) {
      const left = points[i - 1] as Point;
      const t = right[0] === left[0] ? 0 : (x - left[0]) / (right[0] - left[0]);
      return left[1] + (right[1] - left[1]) * t;
    }
  }
  return points[points.length - 1]?.[1] ?? 0;
}
