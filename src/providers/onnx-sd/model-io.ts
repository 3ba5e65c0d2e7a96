/**
 * What each ONNX model of an export expects, read from the session's own metadata: exporters
 * disagree on dtypes and shapes (int32 or int64 `input_ids`; int64 [steps], float scalar or
 * float16 `timestep`; fp16 or fp32 I/O; fixed or free batch and spatial dims), and
 * onnxruntime does not cast for us (shared/onnx-sd.md §1.2, §8). Nothing here is hard-coded
 * beyond the input names every exporter uses.
 */
import type { InferenceSession } from 'onnxruntime-node';

export type FloatType = 'float32' | 'float16';
export type IdsType = 'int32' | 'int64';
export type TimestepType = 'int64' | 'int32' | 'float32' | 'float16';

/** The part of a session this module reads (so tests can describe a model without one). */
export interface SessionShape {
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
}

/** A model that does not fit the pipeline: the message names the file and what is wrong. */
export class ModelIoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelIoError';
  }
}

export interface TextEncoderIo {
  readonly input: string;
  readonly idsType: IdsType;
  /** A fixed batch size, when the export has one. */
  readonly batch?: number;
  /** A fixed sequence length, when the export has one. */
  readonly sequence?: number;
  readonly output: string;
}

export interface UnetIo {
  readonly sample: string;
  readonly sampleType: FloatType;
  readonly batch?: number;
  readonly channels: number;
  /** Fixed latent height and width, when the export has them: the picture size is forced. */
  readonly height?: number;
  readonly width?: number;
  readonly timestep: string;
  readonly timestepType: TimestepType;
  /** [] for a scalar timestep (optimum ≥ 1.24), [n] for a 1-D one (n = the fixed size, or 1). */
  readonly timestepDims: readonly number[];
  readonly text: string;
  readonly textType: FloatType;
  /** LCM's guidance embedding input. */
  readonly timestepCond?: { readonly name: string; readonly type: FloatType; readonly size: number };
  readonly output: string;
}

export interface VaeDecoderIo {
  readonly input: string;
  readonly inputType: FloatType;
  readonly batch?: number;
  readonly height?: number;
  readonly width?: number;
  readonly output: string;
}

interface Tensorish {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

function tensors(list: readonly InferenceSession.ValueMetadata[], file: string, what: string): Tensorish[] {
  return list.map((meta) => {
    if (!meta.isTensor) throw new ModelIoError(`${file}: ${what} ${meta.name} is not a tensor`);
    return { name: meta.name, type: meta.type, shape: meta.shape };
  });
}

/** The named value, or the only/first one as exporters that rename things still keep the order. */
function pick(list: readonly Tensorish[], names: readonly string[], file: string, what: string): Tensorish {
  for (const name of names) {
    const found = list.find((item) => item.name === name);
    if (found) return found;
  }
  const first = list[0];
  if (!first) throw new ModelIoError(`${file}: has no ${what}`);
  return first;
}

function fixed(dim: number | string | undefined): number | undefined {
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

function floatType(value: Tensorish, file: string): FloatType {
  if (value.type === 'float32' || value.type === 'float16') return value.type;
  throw new ModelIoError(`${file}: ${value.name} is ${value.type}; expected float32 or float16`);
}

export function describeTextEncoder(session: SessionShape, file = 'text_encoder/model.onnx'): TextEncoderIo {
  const inputs = tensors(session.inputMetadata, file, 'input');
  const outputs = tensors(session.outputMetadata, file, 'output');
  const ids = pick(inputs, ['input_ids'], file, 'input');
  if (ids.type !== 'int32' && ids.type !== 'int64') throw new ModelIoError(`${file}: ${ids.name} is ${ids.type}; expected int32 or int64`);
  const output = pick(outputs, ['last_hidden_state'], file, 'output');
  floatType(output, file);
  const batch = fixed(ids.shape[0]);
  const sequence = fixed(ids.shape[1]);
  return {
    input: ids.name,
    idsType: ids.type,
    output: output.name,
    ...(batch === undefined ? {} : { batch }),
    ...(sequence === undefined ? {} : { sequence }),
  };
}

export function describeUnet(session: SessionShape, file = 'unet/model.onnx'): UnetIo {
  const inputs = tensors(session.inputMetadata, file, 'input');
  const outputs = tensors(session.outputMetadata, file, 'output');
  const names = new Set(inputs.map((input) => input.name));
  if (names.has('text_embeds') || names.has('time_ids')) {
    throw new ModelIoError(`${file}: has text_embeds/time_ids inputs (an SDXL UNet); only SD 1.x/2.x-family models are supported`);
  }
  for (const required of ['sample', 'timestep', 'encoder_hidden_states']) {
    if (!names.has(required)) {
      throw new ModelIoError(`${file}: has no ${required} input (inputs: ${[...names].join(', ')}); not a Stable Diffusion UNet export`);
    }
  }
  const sample = pick(inputs, ['sample'], file, 'input');
  const timestep = pick(inputs, ['timestep'], file, 'input');
  const text = pick(inputs, ['encoder_hidden_states'], file, 'input');
  const cond = inputs.find((input) => input.name === 'timestep_cond');
  const known = new Set(['sample', 'timestep', 'encoder_hidden_states', 'timestep_cond']);
  const unknown = inputs.filter((input) => !known.has(input.name));
  if (unknown.length > 0) throw new ModelIoError(`${file}: has inputs this pipeline cannot feed: ${unknown.map((input) => input.name).join(', ')}`);
  const output = pick(outputs, ['out_sample'], file, 'output');
  floatType(output, file);

  if (!['int64', 'int32', 'float32', 'float16'].includes(timestep.type)) {
    throw new ModelIoError(`${file}: timestep is ${timestep.type}; expected int64, int32, float32 or float16`);
  }
  if (timestep.shape.length > 1) throw new ModelIoError(`${file}: timestep has ${timestep.shape.length} dimensions; expected a scalar or 1-D`);
  // A 1-D timestep declared [steps]/[batch] accepts [1] whatever the batch (checked with ORT 1.30).
  const timestepDims = timestep.shape.length === 0 ? [] : [fixed(timestep.shape[0]) ?? 1];

  const batch = fixed(sample.shape[0]);
  const channels = fixed(sample.shape[1]) ?? 4;
  const height = fixed(sample.shape[2]);
  const width = fixed(sample.shape[3]);
  let timestepCond: UnetIo['timestepCond'];
  if (cond) timestepCond = { name: cond.name, type: floatType(cond, file), size: fixed(cond.shape[1]) ?? 256 };
  return {
    sample: sample.name,
    sampleType: floatType(sample, file),
    channels,
    timestep: timestep.name,
    timestepType: timestep.type as TimestepType,
    timestepDims,
    text: text.name,
    textType: floatType(text, file),
    output: output.name,
    ...(batch === undefined ? {} : { batch }),
    ...(height === undefined ? {} : { height }),
    ...(width === undefined ? {} : { width }),
    ...(timestepCond === undefined ? {} : { timestepCond }),
  };
}

export function describeVaeDecoder(session: SessionShape, file = 'vae_decoder/model.onnx'): VaeDecoderIo {
  const inputs = tensors(session.inputMetadata, file, 'input');
  const outputs = tensors(session.outputMetadata, file, 'output');
  const input = pick(inputs, ['latent_sample'], file, 'input');
  const output = pick(outputs, ['sample'], file, 'output');
  floatType(output, file);
  const batch = fixed(input.shape[0]);
  const height = fixed(input.shape[2]);
  const width = fixed(input.shape[3]);
  return {
    input: input.name,
    inputType: floatType(input, file),
    output: output.name,
    ...(batch === undefined ? {} : { batch }),
    ...(height === undefined ? {} : { height }),
    ...(width === undefined ? {} : { width }),
  };
}
