/**
 * Tiny Stable-Diffusion-shaped ONNX exports for tests: the same folder layout, input and
 * output names, shapes and dtypes as real diffusers/optimum exports (shared/onnx-sd.md §1,
 * §6), with a few hundred weights instead of billions, so the whole pipeline runs through
 * onnxruntime-node in milliseconds.
 *
 * The graphs are deterministic but not trivial: the UNet's output depends on the sample,
 * the timestep, the text embedding (per channel) and, for LCM, the guidance embedding, so
 * tests can see that seeds, prompts, negative prompts and guidance matter. Variants can also
 * be broken the way real exports break (a UNet that gives NaN, a VAE that gives one colour).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

export interface TinySdVariant {
  /** `input_ids` dtype: int32 (diffusers script, optimum ≤ 1.23) or int64 (optimum ≥ 1.24). */
  readonly inputIds?: 'int32' | 'int64';
  /**
   * `timestep`: int64 of shape [steps] (optimum 1.6–1.23), a float32 scalar (optimum ≥ 1.24),
   * or a float16 scalar (an fp16 export of the same).
   */
  readonly timestep?: 'int64' | 'float' | 'float16';
  /** Every float input and output in float16 (diffusers script `--fp16`). */
  readonly float16?: boolean;
  /** Batch dimensions fixed to 1 (static exports): guidance needs two UNet passes. */
  readonly fixedBatch?: boolean;
  /** An LCM UNet with `timestep_cond` [B, 256] and an LCMScheduler config. */
  readonly lcm?: boolean;
  /** Spatial dimensions fixed to this picture size (multiples of 64, like every SD UNet). */
  readonly fixedSize?: { readonly width: number; readonly height: number };
  /** `unet/config.json` sample_size (latent pixels); the model's native size is 8× this. */
  readonly sampleSize?: number;
  /** Extra convolutions in the UNet, to make each step take measurable time. */
  readonly heavy?: { readonly channels: number; readonly layers: number };
  /**
   * The UNet's weights in a file beside the graph: `true` or `model.onnx_data` (optimum
   * layout), `weights.pb` (diffusers conversion script).
   */
  readonly externalData?: boolean | 'model.onnx_data' | 'weights.pb';
  /** Replaces `scheduler/scheduler_config.json`. */
  readonly schedulerConfig?: Readonly<Record<string, unknown>>;
  /** Write model_index.json (default true; it is optional). */
  readonly modelIndex?: boolean;
  /** Write `vae_decoder/config.json` with this scaling_factor. */
  readonly vaeScalingFactor?: number;
  /** Text hidden size D (default 32). */
  readonly hidden?: number;
  /**
   * A scratch tensor of about this many MB inside each UNet run (the sample tiled and
   * reduced), standing in for the gigabytes of activations a real UNet allocates per step.
   */
  readonly transientMb?: number;
  /**
   * A broken export (an fp16 overflow): the UNet's output becomes NaN (the square root of a
   * negative number) or Infinity (1 / 0) in every call whose timestep is at most
   * `fromTimestep` (timesteps fall step by step, so: from that step on; default every step).
   */
  readonly brokenUnet?: { readonly value: 'nan' | 'infinity'; readonly fromTimestep?: number };
  /** A broken VAE decoder: every output value is this (−1 decodes to black, NaN to NaN). */
  readonly vaeConstant?: number;
}

const VOCAB_ROWS = 64;
const SEQUENCE = 77;

/** Writes a complete tiny export into `dir` (created); returns `dir`. */
export async function writeTinySdModel(dir: string, variant: TinySdVariant = {}): Promise<string> {
  const hidden = variant.hidden ?? 32;
  const files: [string, Uint8Array | string][] = [
    ['text_encoder/model.onnx', textEncoder(variant, hidden)],
    ['vae_decoder/model.onnx', vaeDecoder(variant)],
    ['scheduler/scheduler_config.json', json(variant.schedulerConfig ?? (variant.lcm ? LCM_SCHEDULER : EULER_SCHEDULER))],
    ['unet/config.json', json({ _class_name: 'UNet2DConditionModel', sample_size: variant.sampleSize ?? 8, in_channels: 4, cross_attention_dim: hidden, ...(variant.lcm ? { time_cond_proj_dim: 256 } : {}) })],
    ...tokenizerFiles(),
  ];
  const unet = unetModel(variant, hidden);
  files.push(['unet/model.onnx', unet.graph]);
  if (unet.external) files.push([`unet/${externalDataName(variant)}`, unet.external]);
  if (variant.vaeScalingFactor !== undefined) files.push(['vae_decoder/config.json', json({ scaling_factor: variant.vaeScalingFactor })]);
  if (variant.modelIndex ?? true) {
    files.push([
      'model_index.json',
      json({
        _class_name: variant.lcm ? 'LatentConsistencyModelPipeline' : 'OnnxStableDiffusionPipeline',
        text_encoder: ['diffusers', 'OnnxRuntimeModel'],
        unet: ['diffusers', 'OnnxRuntimeModel'],
        vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
        tokenizer: ['transformers', 'CLIPTokenizer'],
        scheduler: ['diffusers', variant.lcm ? 'LCMScheduler' : 'EulerDiscreteScheduler'],
      }),
    ]);
  }
  for (const [file, content] of files) {
    const path = join(dir, file);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
  }
  return dir;
}

function externalDataName(variant: TinySdVariant): string {
  return typeof variant.externalData === 'string' ? variant.externalData : 'model.onnx_data';
}

export const EULER_SCHEDULER = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: '0.21.0',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  steps_offset: 1,
  timestep_spacing: 'leading',
  clip_sample: false,
  set_alpha_to_one: false,
};

export const LCM_SCHEDULER = {
  _class_name: 'LCMScheduler',
  _diffusers_version: '0.22.0',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  original_inference_steps: 50,
  prediction_type: 'epsilon',
  set_alpha_to_one: true,
  steps_offset: 0,
  timestep_spacing: 'leading',
  clip_sample: false,
};

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------
// Graph building helpers (opset 17: ReduceMean axes are an attribute, Unsqueeze axes an input)

type Dim = number | string;
type ElemType = number;

function valueInfo(name: string, elemType: ElemType, shape: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
}

function floats(name: string, dims: number[], values: ArrayLike<number>): onnxProto.onnx.ITensorProto {
  return onnx.TensorProto.create({ name, dataType: T.FLOAT, dims, rawData: new Uint8Array(Float32Array.from(values).buffer) });
}

function int64s(name: string, values: number[]): onnxProto.onnx.ITensorProto {
  return onnx.TensorProto.create({ name, dataType: T.INT64, dims: [values.length], rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });
}

function scalarOf(name: string, type: ElemType, value: number): onnxProto.onnx.ITensorProto {
  if (type === T.INT32) return onnx.TensorProto.create({ name, dataType: T.INT32, dims: [], rawData: new Uint8Array(Int32Array.of(value).buffer) });
  return onnx.TensorProto.create({ name, dataType: T.INT64, dims: [], rawData: new Uint8Array(BigInt64Array.of(BigInt(value)).buffer) });
}

interface NodeSpec {
  readonly opType: string;
  readonly input: string[];
  readonly output: string[];
  readonly attribute?: onnxProto.onnx.IAttributeProto[];
}

function node(opType: string, input: string[], output: string[], attribute: onnxProto.onnx.IAttributeProto[] = []): NodeSpec {
  return { opType, input, output, attribute };
}

const intsAttr = (name: string, ints: number[]): onnxProto.onnx.IAttributeProto => ({ name, type: A.INTS, ints });
const intAttr = (name: string, i: number): onnxProto.onnx.IAttributeProto => ({ name, type: A.INT, i });
const stringAttr = (name: string, s: string): onnxProto.onnx.IAttributeProto => ({ name, type: A.STRING, s: Buffer.from(s) });

function encodeModel(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  const named = { ...graph, node: (graph.node ?? []).map((n, i) => ({ ...n, name: `${n.output?.[0] ?? 'n'}_${n.opType}_${i}` })) };
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'aiframe-tiny-sd', opsetImport: [{ domain: '', version: 17 }], graph: named });
  const error = onnx.ModelProto.verify(model);
  if (error) throw new Error(error);
  return onnx.ModelProto.encode(model).finish();
}

/** A small deterministic pseudo-random sequence in [-1, 1), so weights differ from each other. */
function weights(count: number, seed: number, scale: number): number[] {
  let state = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out.push(((state / 2 ** 32) * 2 - 1) * scale);
  }
  return out;
}

/** Float inputs arrive as float16 in fp16 variants: cast to float at the entry. */
function floatIn(name: string, half: boolean, nodes: NodeSpec[]): string {
  if (!half) return name;
  nodes.push(node('Cast', [name], [`${name}_f32`], [intAttr('to', T.FLOAT)]));
  return `${name}_f32`;
}

/** ...and leave as float16 at the exit. */
function floatOut(value: string, name: string, half: boolean, nodes: NodeSpec[]): void {
  nodes.push(half ? node('Cast', [value], [name], [intAttr('to', T.FLOAT16)]) : node('Identity', [value], [name]));
}

// ---------------------------------------------------------------------------------------

/** `input_ids` → `last_hidden_state` [B, S, D], `pooler_output` [B, D]: a lookup of (id mod 64). */
function textEncoder(variant: TinySdVariant, hidden: number): Uint8Array {
  const half = variant.float16 ?? false;
  const idType = variant.inputIds === 'int64' ? T.INT64 : T.INT32;
  const batch: Dim = variant.fixedBatch ? 1 : 'batch_size';
  const sequence: Dim = variant.fixedBatch ? SEQUENCE : 'sequence_length';
  const floatType = half ? T.FLOAT16 : T.FLOAT;
  const nodes: NodeSpec[] = [
    node('Mod', ['input_ids', 'rows'], ['row']),
    node('Gather', ['table', 'row'], ['embedded'], [intAttr('axis', 0)]),
    node('ReduceMean', ['embedded'], ['pooled'], [intsAttr('axes', [1]), intAttr('keepdims', 0)]),
  ];
  floatOut('embedded', 'last_hidden_state', half, nodes);
  floatOut('pooled', 'pooler_output', half, nodes);
  return encodeModel({
    name: 'text_encoder',
    input: [valueInfo('input_ids', idType, [batch, sequence])],
    output: [valueInfo('last_hidden_state', floatType, [batch, sequence, hidden]), valueInfo('pooler_output', floatType, [batch, hidden])],
    initializer: [scalarOf('rows', idType, VOCAB_ROWS), floats('table', [VOCAB_ROWS, hidden], weights(VOCAB_ROWS * hidden, 7, 1))],
    node: nodes,
  });
}

/**
 * `sample`, `timestep`, `encoder_hidden_states` (+ `timestep_cond`) → `out_sample`:
 * a 3×3 convolution that mostly predicts the scaled sample back (like a UNet predicting the
 * noise), plus a per-channel term from the mean text embedding, plus timestep·0.0005, plus
 * the mean guidance embedding for LCM.
 */
function unetModel(variant: TinySdVariant, hidden: number): { graph: Uint8Array; external?: Uint8Array } {
  const half = variant.float16 ?? false;
  const floatType = half ? T.FLOAT16 : T.FLOAT;
  const batch: Dim = variant.fixedBatch ? 1 : 'batch_size';
  const height: Dim = variant.fixedSize ? variant.fixedSize.height / 8 : 'height';
  const width: Dim = variant.fixedSize ? variant.fixedSize.width / 8 : 'width';
  const sequence: Dim = variant.fixedBatch ? SEQUENCE : 'sequence_length';
  const timestepKind = variant.timestep ?? 'int64';
  const timestepInfo =
    timestepKind === 'int64'
      ? valueInfo('timestep', T.INT64, ['steps'])
      : valueInfo('timestep', timestepKind === 'float16' ? T.FLOAT16 : T.FLOAT, []);

  const kernel: number[] = [];
  const noise = weights(4 * 4 * 9, 11, 0.04);
  for (let out = 0; out < 4; out++) {
    for (let inp = 0; inp < 4; inp++) {
      for (let k = 0; k < 9; k++) {
        const i = (out * 4 + inp) * 9 + k;
        kernel.push((out === inp && k === 4 ? 0.9 : 0) + noise[i]!);
      }
    }
  }
  const initializers: onnxProto.onnx.ITensorProto[] = [
    floats('conv_w', [4, 4, 3, 3], kernel),
    floats('text_w', [hidden, 4], weights(hidden * 4, 13, 0.5)),
    floats('t_scale', [], [0.0005]),
    int64s('axes23', [2, 3]),
  ];
  const nodes: NodeSpec[] = [];
  const sample = floatIn('sample', half, nodes);
  const text = floatIn('encoder_hidden_states', half, nodes);
  nodes.push(
    node('Conv', [sample, 'conv_w'], ['conv'], [intsAttr('pads', [1, 1, 1, 1])]),
    node('ReduceMean', [text], ['text_mean'], [intsAttr('axes', [1]), intAttr('keepdims', 0)]),
    node('MatMul', ['text_mean', 'text_w'], ['text_term']),
    node('Unsqueeze', ['text_term', 'axes23'], ['text_4d']),
    node('Cast', ['timestep'], ['t_float'], [intAttr('to', T.FLOAT)]),
    node('Mul', ['t_float', 't_scale'], ['t_term']),
    node('Add', ['conv', 'text_4d'], ['with_text']),
    node('Add', ['with_text', 't_term'], ['with_t']),
  );
  let last = addUNetPath(sample, 'with_t', initializers, nodes);
  if (variant.transientMb !== undefined) {
    // The sample [B,4,h,w] tiled to about transientMb (sized for 512×512 with a guidance
    // batch of 2), then reduced to a per-sample mean that is added times 0.
    const factor = Math.max(1, Math.round(Math.sqrt((variant.transientMb * 1e6) / 4 / (2 * 4 * 64 * 64))));
    initializers.push(int64s('transient_reps', [1, 1, factor, factor]), floats('transient_zero', [], [0]));
    nodes.push(
      node('Tile', [sample, 'transient_reps'], ['transient_big']),
      node('ReduceMean', ['transient_big'], ['transient_mean'], [intsAttr('axes', [1, 2, 3]), intAttr('keepdims', 1)]),
      node('Mul', ['transient_mean', 'transient_zero'], ['transient_term']),
      node('Add', [last, 'transient_term'], ['with_transient']),
    );
    last = 'with_transient';
  }
  if (variant.lcm) {
    const cond = floatIn('timestep_cond', half, nodes);
    initializers.push(floats('cond_scale', [], [0.2]));
    nodes.push(
      node('ReduceMean', [cond], ['cond_mean'], [intsAttr('axes', [1]), intAttr('keepdims', 1)]),
      node('Unsqueeze', ['cond_mean', 'axes23'], ['cond_4d']),
      node('Mul', ['cond_4d', 'cond_scale'], ['cond_term']),
      node('Add', [last, 'cond_term'], ['with_cond']),
    );
    last = 'with_cond';
  }
  if (variant.heavy) {
    // Work that cannot be folded away: a chain of wide convolutions over the sample, added
    // back with a small weight.
    const { channels, layers } = variant.heavy;
    let previous = sample;
    let previousChannels = 4;
    for (let layer = 0; layer < layers; layer++) {
      const name = `heavy_w${layer}`;
      initializers.push(floats(name, [channels, previousChannels, 3, 3], weights(channels * previousChannels * 9, 100 + layer, 1 / (previousChannels * 9))));
      nodes.push(node('Conv', [previous, name], [`heavy_${layer}`], [intsAttr('pads', [1, 1, 1, 1])]));
      previous = `heavy_${layer}`;
      previousChannels = channels;
    }
    initializers.push(floats('heavy_out', [4, previousChannels, 1, 1], weights(4 * previousChannels, 99, 0.001)));
    nodes.push(node('Conv', [previous, 'heavy_out'], ['heavy_term']), node('Add', [last, 'heavy_term'], ['with_heavy']));
    last = 'with_heavy';
  }
  if (variant.brokenUnet) last = addBrokenOutput(variant.brokenUnet, last, initializers, nodes);
  floatOut(last, 'out_sample', half, nodes);

  const inputs = [valueInfo('sample', floatType, [batch, 4, height, width]), timestepInfo, valueInfo('encoder_hidden_states', floatType, [batch, sequence, hidden])];
  if (variant.lcm) inputs.push(valueInfo('timestep_cond', floatType, [batch, 256]));

  let external: Uint8Array | undefined;
  if (variant.externalData) {
    // Move the float weights into model.onnx_data, as optimum does for big UNets (it keeps
    // small tensors inline; shape inputs such as Resize scales must stay in the graph).
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (let i = 0; i < initializers.length; i++) {
      const tensor = initializers[i]!;
      if (tensor.dataType !== T.FLOAT || !tensor.rawData || tensor.rawData.length < 64) continue;
      const data = tensor.rawData;
      initializers[i] = onnx.TensorProto.create({
        name: tensor.name,
        dataType: tensor.dataType,
        dims: tensor.dims,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: externalDataName(variant) },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(data.length) },
        ],
      });
      chunks.push(data);
      offset += data.length;
    }
    external = Buffer.concat(chunks);
  }
  const graph = encodeModel({
    name: 'unet',
    input: inputs,
    output: [valueInfo('out_sample', floatType, [batch, 4, height, width])],
    initializer: initializers,
    node: nodes,
  });
  return external === undefined ? { graph } : { graph, external };
}

/** Adds NaN or Infinity to `base` when the timestep is at most `fromTimestep` (computed, not stored). */
function addBrokenOutput(broken: NonNullable<TinySdVariant['brokenUnet']>, base: string, initializers: onnxProto.onnx.ITensorProto[], nodes: NodeSpec[]): string {
  initializers.push(floats('broken_from', [], [broken.fromTimestep ?? 1e9]), floats('broken_zero', [], [0]));
  if (broken.value === 'nan') {
    initializers.push(floats('broken_minus_one', [], [-1]));
    nodes.push(node('Sqrt', ['broken_minus_one'], ['broken_value']));
  } else {
    initializers.push(floats('broken_one', [], [1]));
    nodes.push(node('Div', ['broken_one', 'broken_zero'], ['broken_value']));
  }
  nodes.push(
    node('LessOrEqual', ['t_float', 'broken_from'], ['broken_now']),
    node('Where', ['broken_now', 'broken_value', 'broken_zero'], ['broken_term']),
    node('Add', [base, 'broken_term'], ['with_broken']),
  );
  return 'with_broken';
}

/**
 * The shape discipline of SD's UNet: three stride-2 downsamplings (ceil(h/2) each), then
 * ×2 upsamplings concatenated with the skip of the same level. Like the real exports, whose
 * upsampling is traced as a fixed ×2, it only works when the latent sides are multiples of 8
 * (pictures in multiples of 64); anything else fails at a Concat. Adds a small term to `base`.
 */
function addUNetPath(sample: string, base: string, initializers: onnxProto.onnx.ITensorProto[], nodes: NodeSpec[]): string {
  const pool = [intsAttr('kernel_shape', [3, 3]), intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 1, 1])];
  initializers.push(floats('unet_up_scales', [4], [1, 1, 2, 2]), floats('unet_path_scale', [], [0.05]));
  const levels = [sample];
  for (let level = 1; level <= 3; level++) {
    nodes.push(node('AveragePool', [levels[level - 1]!], [`unet_down${level}`], pool));
    levels.push(`unet_down${level}`);
  }
  let up = levels[3]!;
  for (let level = 2; level >= 0; level--) {
    initializers.push(floats(`unet_mix${level}_w`, [4, 8, 1, 1], weights(32, 200 + level, 0.5)));
    nodes.push(
      node('Resize', [up, '', 'unet_up_scales'], [`unet_up${level}`], [stringAttr('mode', 'nearest')]),
      node('Concat', [`unet_up${level}`, levels[level]!], [`unet_cat${level}`], [intAttr('axis', 1)]),
      node('Conv', [`unet_cat${level}`, `unet_mix${level}_w`], [`unet_mix${level}`]),
    );
    up = `unet_mix${level}`;
  }
  nodes.push(node('Mul', [up, 'unet_path_scale'], ['unet_path_term']), node('Add', [base, 'unet_path_term'], ['with_unet_path']));
  return 'with_unet_path';
}

/** `latent_sample` [B,4,h,w] → `sample` [B,3,8h,8w]: 1×1 convolution, nearest ×8, tanh. */
function vaeDecoder(variant: TinySdVariant): Uint8Array {
  const half = variant.float16 ?? false;
  const floatType = half ? T.FLOAT16 : T.FLOAT;
  const batch: Dim = variant.fixedBatch ? 1 : 'batch_size';
  const h: Dim = variant.fixedSize ? variant.fixedSize.height / 8 : 'latent_height';
  const w: Dim = variant.fixedSize ? variant.fixedSize.width / 8 : 'latent_width';
  const H: Dim = variant.fixedSize ? variant.fixedSize.height : 'height';
  const W: Dim = variant.fixedSize ? variant.fixedSize.width : 'width';
  const nodes: NodeSpec[] = [];
  const latent = floatIn('latent_sample', half, nodes);
  nodes.push(
    node('Conv', [latent, 'w'], ['mixed']),
    node('Resize', ['mixed', '', 'scales'], ['big'], [stringAttr('mode', 'nearest')]),
    node('Tanh', ['big'], ['image']),
  );
  let image = 'image';
  const initializers = [floats('w', [3, 4, 1, 1], [0.12, -0.05, 0.03, 0.02, 0.01, 0.11, -0.04, 0.05, -0.03, 0.02, 0.1, 0.06]), floats('scales', [4], [1, 1, 8, 8])];
  if (variant.vaeConstant !== undefined) {
    // image·0 + c: the output keeps its shape and loses every detail.
    initializers.push(floats('constant_zero', [], [0]), floats('constant_value', [], [variant.vaeConstant]));
    nodes.push(node('Mul', [image, 'constant_zero'], ['image_zeroed']), node('Add', ['image_zeroed', 'constant_value'], ['image_constant']));
    image = 'image_constant';
  }
  floatOut(image, 'sample', half, nodes);
  return encodeModel({
    name: 'vae_decoder',
    input: [valueInfo('latent_sample', floatType, [batch, 4, h, w])],
    output: [valueInfo('sample', floatType, [batch, 3, H, W])],
    initializer: initializers,
    node: nodes,
  });
}

// ---------------------------------------------------------------------------------------
// A CLIP-layout tokenizer: byte tokens at 0-255, byte+</w> at 256-511 (as in the real
// vocabulary, so "a</w>" is 320 and "!</w>" 256), merges for a few words, specials at
// 49406/49407.

/** GPT-2's byte → printable character mapping, which CLIP's byte-level BPE uses. */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const chars: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (printable.includes(b)) chars[b] = String.fromCharCode(b);
    else chars[b] = String.fromCharCode(256 + extra++);
  }
  return chars;
}

export const TINY_WORDS = ['photo', 'of', 'cat', 'dog', 'sea', 'mountains', 'blurry', 'sunset', 'forest', 'lake', 'ugly', 'castle'];

function tokenizerFiles(): [string, string][] {
  const byteChars = bytesToUnicode();
  // Vocabulary order: bytes in the order of their byte value's rank in GPT-2's list.
  const ordered: string[] = [];
  for (let b = 33; b <= 126; b++) ordered.push(byteChars[b]!);
  for (let b = 161; b <= 172; b++) ordered.push(byteChars[b]!);
  for (let b = 174; b <= 255; b++) ordered.push(byteChars[b]!);
  for (let b = 0; b < 256; b++) if (!ordered.includes(byteChars[b]!)) ordered.push(byteChars[b]!);
  const vocab: Record<string, number> = {};
  ordered.forEach((token, i) => {
    vocab[token] = i;
    vocab[`${token}</w>`] = 256 + i;
  });
  const merges: string[] = [];
  let next = 512;
  for (const word of TINY_WORDS) {
    let left = word[0]!;
    for (let i = 1; i < word.length; i++) {
      const right = i === word.length - 1 ? `${word[i]}</w>` : word[i]!;
      const merged = left + right;
      if (vocab[merged] === undefined) {
        merges.push(`${left} ${right}`);
        vocab[merged] = next++;
      }
      left = merged;
    }
  }
  vocab['<|startoftext|>'] = 49406;
  vocab['<|endoftext|>'] = 49407;
  const special = {
    bos_token: '<|startoftext|>',
    eos_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
  };
  return [
    ['tokenizer/vocab.json', json(vocab)],
    ['tokenizer/merges.txt', `#version: 0.2\n${merges.join('\n')}\n`],
    ['tokenizer/tokenizer_config.json', json({ ...special, model_max_length: SEQUENCE, do_lower_case: true, tokenizer_class: 'CLIPTokenizer' })],
    ['tokenizer/special_tokens_map.json', json(special)],
  ];
}
