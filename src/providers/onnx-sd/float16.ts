/**
 * IEEE 754 half precision <-> float32, for models whose inputs or outputs are float16.
 * onnxruntime-node takes and gives `Uint16Array` for 'float16' tensors, and Node 20 has no
 * `Float16Array` (shared/onnx-sd.md §5.3), so the pipeline converts itself.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float32 value as float16 bits, rounded to nearest even (what numpy's astype does). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // Inf or NaN
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit 1 in and round.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let bits = mantissa >>> shift;
    if (rest > half || (rest === half && (bits & 1) === 1)) bits += 1;
    return sign | bits;
  }
  const rest = mantissa & 0x1fff;
  mantissa >>>= 13;
  if (rest > 0x1000 || (rest === 0x1000 && (mantissa & 1) === 1)) {
    mantissa += 1;
    if (mantissa === 0x400) {
      mantissa = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | mantissa;
}

/** Every half value as float32: 256 KB, built once, makes decoding a table lookup. */
let halfTable: Float32Array | undefined;

function table(): Float32Array {
  if (halfTable) return halfTable;
  const out = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) out[bits] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) out[bits] = mantissa === 0 ? sign * Infinity : NaN;
    else out[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  halfTable = out;
  return out;
}

export function fromHalfBits(bits: number): number {
  return table()[bits & 0xffff]!;
}

export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]!);
  return out;
}

export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const lookup = table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = lookup[bits[i]!]!;
  return out;
}
