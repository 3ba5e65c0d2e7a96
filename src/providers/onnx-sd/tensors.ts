/**
 * Builds input tensors in the dtype a model declares and reads outputs back as float32:
 * onnxruntime never casts by itself ("Unexpected input data type", shared/onnx-sd.md §1.2).
 */
import { Tensor } from 'onnxruntime-node';
import { float16ToFloat32, float32ToFloat16, toHalfBits } from './float16.js';
import type { FloatType, IdsType, TimestepType } from './model-io.js';

export function floatTensor(values: Float32Array, type: FloatType, dims: readonly number[]): Tensor {
  return type === 'float16' ? new Tensor('float16', float32ToFloat16(values), dims) : new Tensor('float32', values, dims);
}

/**
 * `values` repeated `batch` times along the first axis (a guidance batch), converted to the
 * model's dtype once and then copied.
 */
export function repeatedFloatTensor(values: Float32Array, batch: number, type: FloatType, dims: readonly number[]): Tensor {
  if (type === 'float16') {
    const half = float32ToFloat16(values);
    return new Tensor('float16', batch === 1 ? half : repeat(half, new Uint16Array(half.length * batch)), dims);
  }
  return new Tensor('float32', batch === 1 ? values : repeat(values, new Float32Array(values.length * batch)), dims);
}

function repeat<T extends Uint16Array | Float32Array>(one: T, out: T): T {
  for (let at = 0; at < out.length; at += one.length) out.set(one, at);
  return out;
}

export function idsTensor(ids: readonly number[], type: IdsType, dims: readonly number[]): Tensor {
  return type === 'int64' ? new Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), dims) : new Tensor('int32', Int32Array.from(ids), dims);
}

/**
 * Integer timesteps are rounded: Euler's "linspace" spacing gives fractional ones
 * (946.42...), and the nearest integer is the closest step the model knows.
 */
export function timestepTensor(timestep: number, type: TimestepType, dims: readonly number[]): Tensor {
  const count = dims.length === 0 ? 1 : dims[0]!;
  switch (type) {
    case 'int64':
      return new Tensor('int64', new BigInt64Array(count).fill(BigInt(Math.round(timestep))), dims);
    case 'int32':
      return new Tensor('int32', new Int32Array(count).fill(Math.round(timestep)), dims);
    case 'float16':
      return new Tensor('float16', new Uint16Array(count).fill(toHalfBits(timestep)), dims);
    case 'float32':
      return new Tensor('float32', new Float32Array(count).fill(timestep), dims);
  }
}

/** A float output as float32 values (a view of the tensor's own data when already float32). */
export function readFloats(tensor: Tensor | undefined, what: string): Float32Array {
  if (!tensor) throw new Error(`the model gave no ${what} output`);
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return float16ToFloat32(tensor.data as Uint16Array);
  throw new Error(`${what} output is ${tensor.type}; expected float32 or float16`);
}
