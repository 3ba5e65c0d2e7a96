/**
 * A tiny seeded random source. The offline generator must give the same bytes for the same
 * prompt, seed and size, so nothing in a scene may touch Math.random().
 */

/** mulberry32: a fast 32-bit generator, plenty for scenery (https://gist.github.com/tommyettinger/46a874533244883189143505d203312c). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit FNV-1a hash of a string's UTF-16 units, for turning prompts into numbers. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Folds any JS number into 32 bits without losing the high part, so seeds above 2^32
 * (callers may record 53-bit seeds) still give different pictures.
 */
export function foldSeed(seed: number): number {
  if (!Number.isFinite(seed)) return 0;
  const whole = Math.trunc(Math.abs(seed));
  const low = whole % 4294967296;
  const high = Math.floor(whole / 4294967296);
  return (low ^ Math.imul(high, 0x9e3779b1) ^ (seed < 0 ? 0x5bd1e995 : 0)) >>> 0;
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  range(min: number, max: number): number;
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks by weight; weights need not sum to 1. */
  weighted<T>(items: readonly (readonly [T, number])[]): T;
  /** Roughly normal around 0 with the given spread (sum of uniforms, cheap and bounded). */
  spread(sigma: number): number;
  /** An independent stream, so adding a detail to one part of a scene does not reshuffle the rest. */
  fork(label: string): Random;
}

export function createRandom(seed: number): Random {
  const next = mulberry32(seed);
  const random: Random = {
    next,
    range: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (probability) => next() < probability,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    weighted: (items) => {
      const total = items.reduce((sum, [, weight]) => sum + weight, 0);
      let at = next() * total;
      for (const [item, weight] of items) {
        at -= weight;
        if (at < 0) return item;
      }
      const last = items[items.length - 1];
      if (last === undefined) throw new RangeError('pick from an empty list');
      return last[0];
    },
    spread: (sigma) => (next() + next() + next() - 1.5) * sigma * 2,
    fork: (label) => createRandom((seed ^ hashString(label)) >>> 0),
  };
  return random;
}
