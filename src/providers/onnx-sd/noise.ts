/**
 * Seeded unit-normal noise for the initial latents and for the schedulers that add fresh noise
 * (shared/onnx-sd.md §4). What we promise: the same seed gives the same numbers, bit for bit,
 * with this code on any machine. Not equality with torch or A1111, whose generators differ
 * among themselves anyway.
 *
 * Algorithm (fixed; changing it changes every seeded picture):
 *   state  = four 32-bit words from two SplitMix64 outputs of the 64-bit seed
 *   uint32 = xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c)
 *   normal = Box–Muller on u1 = (a + 1)/2^32 ∈ (0, 1] (never log 0) and u2 = b/2^32,
 *            both outputs used: r·cos θ first, then r·sin θ.
 * V8 implements Math.log/sin/cos itself (fdlibm ports), so results do not depend on the C library.
 */

const TWO_POW_32 = 4294967296;
const MASK_64 = (1n << 64n) - 1n;

/** A source of N(0, 1) numbers, the same sequence for the same seed. */
export function createGaussian(seed: number): () => number {
  const state = initialState(seed);
  let s0 = state[0];
  let s1 = state[1];
  let s2 = state[2];
  let s3 = state[3];

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };

  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const u1 = (nextUint32() + 1) / TWO_POW_32;
    const u2 = nextUint32() / TWO_POW_32;
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    spare = radius * Math.sin(angle);
    hasSpare = true;
    return radius * Math.cos(angle);
  };
}

/** Fills `target` in index order (NCHW for latents) with draws from `gaussian`. */
export function fillGaussian(target: Float32Array, gaussian: () => number): void {
  for (let i = 0; i < target.length; i++) target[i] = gaussian();
}

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

/**
 * Seeds the 128-bit state. Safe integers (negative ones too) are taken as 64-bit two's complement;
 * any other finite number by its IEEE-754 bits, so every distinct seed gets its own stream.
 */
function initialState(seed: number): [number, number, number, number] {
  if (!Number.isFinite(seed)) throw new RangeError(`noise seed must be a finite number, got ${seed}`);
  let x: bigint;
  if (Number.isSafeInteger(seed)) {
    x = BigInt.asUintN(64, BigInt(seed));
  } else {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, seed);
    x = view.getBigUint64(0);
  }
  const words: number[] = [];
  for (let i = 0; i < 2; i++) {
    // SplitMix64 (https://prng.di.unimi.it/splitmix64.c): spreads similar seeds over the state.
    x = (x + 0x9e3779b97f4a7c15n) & MASK_64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
    z ^= z >> 31n;
    words.push(Number(z & 0xffffffffn) | 0, Number(z >> 32n) | 0);
  }
  // xoshiro must not start from all zeros; SplitMix64 makes that astronomically unlikely, but be exact.
  if (words.reduce((any, word) => any | word, 0) === 0) words[0] = 1;
  return words as [number, number, number, number];
}
