/** The pipeline's pure pieces: half floats, the LCM embedding, RGB conversion, model I/O rules, sizes. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { float16ToFloat32, float32ToFloat16, fromHalfBits, toHalfBits } from '../../src/providers/onnx-sd/float16.js';
import { generationSize } from '../../src/providers/onnx-sd/generation-size.js';
import { guidanceEmbedding } from '../../src/providers/onnx-sd/guidance-embedding.js';
import { describeTextEncoder, describeUnet, describeVaeDecoder, ModelIoError, type SessionShape } from '../../src/providers/onnx-sd/model-io.js';
import { vaeOutputToRgb } from '../../src/providers/onnx-sd/vae-image.js';

describe('float16 conversion', () => {
  test('encodes exact values, rounds to nearest even, saturates to infinity', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // largest half
      [0.1, 0x2e66],
      [2049, 0x6800], // tie → even (2048)
      [2051, 0x6802], // tie → even (2052)
      [2 ** -24, 0x0001], // smallest subnormal
      [1e-9, 0x0000], // underflow
      [70000, 0x7c00], // overflow → Inf
      [-Infinity, 0xfc00],
    ];
    for (const [value, bits] of cases) assert.equal(toHalfBits(value), bits, `toHalfBits(${value})`);
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  });

  test('round-trips every finite half value exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const floats = float16ToFloat32(all);
    const back = float32ToFloat16(floats);
    for (let bits = 0; bits < 65536; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 0x1f && (bits & 0x3ff) !== 0) continue; // NaN payloads are not kept
      assert.equal(back[bits], bits, `bits ${bits.toString(16)}`);
    }
  });
});

describe('LCM guidance embedding', () => {
  test('matches diffusers get_guidance_scale_embedding for guidance 8 (w = 7), 256 dims', () => {
    // Reference values: shared/onnx-sd.md §3.6.
    const embedding = guidanceEmbedding(8, 256);
    assert.equal(embedding.length, 256);
    const expected: [number, number][] = [
      [0, 0.506885],
      [1, 0.804387],
      [2, -0.860457],
      [128, 0.862013],
      [129, 0.594106],
      [130, -0.509523],
    ];
    for (const [index, value] of expected) assert.ok(Math.abs(embedding[index]! - value) < 1e-5, `emb[${index}] = ${embedding[index]}`);
  });

  test('guidance 1 gives w = 0: sines 0, cosines 1', () => {
    const embedding = guidanceEmbedding(1, 8);
    assert.deepEqual([...embedding], [0, 0, 0, 0, 1, 1, 1, 1]);
  });
});

describe('VAE output to RGB', () => {
  test('maps [-1, 1] to 0..255 with clamping and rounding, planar to interleaved', () => {
    // 2×1 picture: R plane, G plane, B plane.
    const planes = Float32Array.from([-1, 1, 0, 2, -3, NaN]);
    assert.deepEqual([...vaeOutputToRgb(planes, 2, 1)], [0, 128, 0, 255, 255, 0]);
  });

  test('refuses an output too small for the size', () => {
    assert.throws(() => vaeOutputToRgb(new Float32Array(5), 2, 1), /expected 6/);
  });
});

function shape(inputs: [string, string, (number | string)[]][], outputs: [string, string, (number | string)[]][]): SessionShape {
  const meta = (list: [string, string, (number | string)[]][]) =>
    list.map(([name, type, dims]) => ({ name, isTensor: true as const, type: type as 'float32', shape: dims }));
  return { inputMetadata: meta(inputs), outputMetadata: meta(outputs) };
}

describe('model I/O from metadata', () => {
  const outSample: [string, string, (number | string)[]] = ['out_sample', 'float32', ['b', 4, 'h', 'w']];

  test('reads an optimum ≥ 1.24 UNet: float scalar timestep, free dims', () => {
    const io = describeUnet(
      shape(
        [
          ['sample', 'float32', ['batch', 4, 'height', 'width']],
          ['timestep', 'float32', []],
          ['encoder_hidden_states', 'float32', ['batch', 'sequence', 1024]],
        ],
        [outSample],
      ),
    );
    assert.equal(io.timestepType, 'float32');
    assert.deepEqual(io.timestepDims, []);
    assert.equal(io.batch, undefined);
    assert.equal(io.height, undefined);
    assert.equal(io.channels, 4);
    assert.equal(io.timestepCond, undefined);
  });

  test('reads a static fp16 LCM UNet: fixed batch and size, [1] int64 timestep, timestep_cond', () => {
    const io = describeUnet(
      shape(
        [
          ['sample', 'float16', [1, 4, 64, 48]],
          ['timestep', 'int64', [1]],
          ['encoder_hidden_states', 'float16', [1, 77, 768]],
          ['timestep_cond', 'float16', [1, 256]],
        ],
        [['out_sample', 'float16', [1, 4, 64, 48]]],
      ),
    );
    assert.equal(io.sampleType, 'float16');
    assert.equal(io.batch, 1);
    assert.equal(io.height, 64);
    assert.equal(io.width, 48);
    assert.deepEqual(io.timestepDims, [1]);
    assert.deepEqual(io.timestepCond, { name: 'timestep_cond', type: 'float16', size: 256 });
  });

  test('refuses SDXL UNets and inputs it cannot feed, naming them', () => {
    const sdxl = shape(
      [
        ['sample', 'float32', ['b', 4, 'h', 'w']],
        ['timestep', 'float32', []],
        ['encoder_hidden_states', 'float32', ['b', 77, 2048]],
        ['text_embeds', 'float32', ['b', 1280]],
        ['time_ids', 'float32', ['b', 6]],
      ],
      [outSample],
    );
    assert.throws(() => describeUnet(sdxl), (error: unknown) => error instanceof ModelIoError && /SDXL/.test(error.message));
    const missing = shape([['sample', 'float32', ['b', 4, 'h', 'w']]], [outSample]);
    assert.throws(() => describeUnet(missing), /no timestep input/);
    const oddTimestep = shape(
      [
        ['sample', 'float32', ['b', 4, 'h', 'w']],
        ['timestep', 'bool', []],
        ['encoder_hidden_states', 'float32', ['b', 77, 768]],
      ],
      [outSample],
    );
    assert.throws(() => describeUnet(oddTimestep), /timestep is bool/);
  });

  test('reads int32 and int64 input ids, fixed or free', () => {
    const int32 = describeTextEncoder(shape([['input_ids', 'int32', ['batch', 'sequence']]], [['last_hidden_state', 'float32', ['batch', 'sequence', 768]]]));
    assert.equal(int32.idsType, 'int32');
    assert.equal(int32.sequence, undefined);
    const int64 = describeTextEncoder(shape([['input_ids', 'int64', [1, 77]]], [['last_hidden_state', 'float16', [1, 77, 1024]]]));
    assert.equal(int64.idsType, 'int64');
    assert.equal(int64.batch, 1);
    assert.equal(int64.sequence, 77);
    assert.throws(() => describeTextEncoder(shape([['input_ids', 'float32', [1, 77]]], [['last_hidden_state', 'float32', [1, 77, 8]]])), /expected int32 or int64/);
  });

  test('reads the VAE decoder input type and fixed size', () => {
    const io = describeVaeDecoder(shape([['latent_sample', 'float16', [1, 4, 64, 64]]], [['sample', 'float16', [1, 3, 512, 512]]]));
    assert.equal(io.inputType, 'float16');
    assert.equal(io.height, 64);
    assert.equal(io.output, 'sample');
  });
});

describe('generation size', () => {
  test("keeps the frame's aspect ratio at about the model's native pixel count, in multiples of 64", () => {
    assert.deepEqual(generationSize({ width: 320, height: 480 }, 512 * 512), { width: 448, height: 640 });
    assert.deepEqual(generationSize({ width: 480, height: 320 }, 512 * 512), { width: 640, height: 448 });
    assert.deepEqual(generationSize({ width: 320, height: 480 }, 768 * 768), { width: 640, height: 960 });
    assert.deepEqual(generationSize({ width: 100, height: 100 }, 512 * 512), { width: 512, height: 512 });
  });

  test('configured sides win; one side takes the other from the aspect ratio', () => {
    assert.deepEqual(generationSize({ width: 320, height: 480 }, 512 * 512, { width: 512, height: 512 }), { width: 512, height: 512 });
    assert.deepEqual(generationSize({ width: 320, height: 480 }, 512 * 512, { width: 512 }), { width: 512, height: 768 });
    assert.deepEqual(generationSize({ width: 320, height: 480 }, 512 * 512, { height: 768 }), { width: 512, height: 768 });
  });
});
