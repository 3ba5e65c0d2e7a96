/**
 * The whole pipeline through the real worker thread on tiny SD-shaped exports: every I/O
 * variant real exporters produce, seeds, guidance, negative prompts, progress.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GenerateParams } from '../../src/providers/onnx-sd/sd-pipeline.js';
import { SdWorkerClient } from '../../src/providers/onnx-sd/sd-worker-client.js';
import type { LoadSpec, WorkerImage } from '../../src/providers/onnx-sd/worker-protocol.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { writeTinySdModel, type TinySdVariant } from '../support/tiny-sd-model.js';

let root: string;
const client = new SdWorkerClient({ logger: createMemoryLogger() });
const models = new Map<string, string>();

async function model(name: string, variant: TinySdVariant = {}): Promise<LoadSpec> {
  let dir = models.get(name);
  if (dir === undefined) {
    dir = await writeTinySdModel(join(root, name), variant);
    models.set(name, dir);
  }
  return { modelDir: dir, executionProvider: 'cpu', graphOptimization: 'all' };
}

function params(overrides: Partial<GenerateParams> = {}): GenerateParams {
  return { prompt: 'a photo of a cat', seed: 42, steps: 6, guidance: 7.5, width: 64, height: 64, ...overrides };
}

/** Mean absolute difference per channel value. */
function difference(a: WorkerImage, b: WorkerImage): number {
  assert.equal(a.rgb.length, b.rgb.length);
  let sum = 0;
  for (let i = 0; i < a.rgb.length; i++) sum += Math.abs(a.rgb[i]! - b.rgb[i]!);
  return sum / a.rgb.length;
}

function same(a: WorkerImage, b: WorkerImage): boolean {
  return Buffer.from(a.rgb).equals(Buffer.from(b.rgb));
}

/** A picture, not a flat colour: the tiny VAE's output varies across the image. */
function assertVaried(image: WorkerImage): void {
  const values = new Set(image.rgb);
  assert.ok(values.size > 20, `expected a varied picture, got ${values.size} distinct values`);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'aiframe-'));
});

after(async () => {
  await client.close();
  await rm(root, { recursive: true, force: true });
});

describe('pipeline variants (real worker, tiny models)', () => {
  test('int32 ids and an int64 [steps] timestep (optimum ≤ 1.23): RGB of the asked size', async () => {
    const image = await client.generate(await model('base'), params({ width: 64, height: 128 }));
    assert.equal(image.width, 64);
    assert.equal(image.height, 128);
    assert.equal(image.rgb.length, 64 * 128 * 3);
    assert.equal(image.scheduler, 'euler', 'from the EulerDiscreteScheduler config');
    assert.equal(image.steps, 6);
    assert.equal(image.executionProvider, 'cpu');
    assertVaried(image);
  });

  test('a size that is not a multiple of 64 is rounded down to one: the UNet halves the latents three times', async () => {
    // 96×136 would make 12×17 latents, which fail at the UNet's skip concatenation (as in real exports).
    const image = await client.generate(await model('base'), params({ width: 96, height: 136 }));
    assert.equal(image.width, 64);
    assert.equal(image.height, 128);
    assert.equal(image.rgb.length, 64 * 128 * 3);
    assertVaried(image);
  });

  test('the same seed and options give identical bytes; another seed another picture', async () => {
    const spec = await model('base');
    const first = await client.generate(spec, params());
    const again = await client.generate(spec, params());
    const other = await client.generate(spec, params({ seed: 43 }));
    assert.ok(same(first, again), 'same seed → same bytes');
    assert.ok(!same(first, other), 'different seed → different picture');
    assert.ok(difference(first, other) > 1, 'and visibly so');
  });

  test('the prompt matters, and the negative prompt matters when guidance > 1', async () => {
    const spec = await model('base');
    const cat = await client.generate(spec, params());
    const sea = await client.generate(spec, params({ prompt: 'the sea at sunset' }));
    const negative = await client.generate(spec, params({ negative: 'blurry ugly' }));
    assert.ok(!same(cat, sea), 'prompt changes the picture');
    assert.ok(!same(cat, negative), 'negative prompt changes the picture');
  });

  test('guidance ≤ 1 is one pass without the negative prompt (Turbo style)', async () => {
    const spec = await model('base');
    const plain = await client.generate(spec, params({ guidance: 0 }));
    const withNegative = await client.generate(spec, params({ guidance: 0, negative: 'blurry ugly' }));
    const one = await client.generate(spec, params({ guidance: 1, negative: 'blurry ugly' }));
    const guided = await client.generate(spec, params({ guidance: 7.5 }));
    assert.ok(same(plain, withNegative), 'negative ignored without guidance');
    assert.ok(same(plain, one), 'guidance 1 equals no guidance');
    assert.ok(!same(plain, guided), 'guidance > 1 changes the picture');
  });

  test('guidance runs the negative prompt as the unconditional half: ε = ε_neg + g·(ε_pos − ε_neg)', async () => {
    const spec = await model('base');
    // Just above 1 the guided prediction is almost the positive one alone; were the halves
    // swapped it would be almost the negative one.
    const guided = await client.generate(spec, params({ prompt: 'a photo of a cat', negative: 'the sea at sunset', guidance: 1.001 }));
    const positive = await client.generate(spec, params({ prompt: 'a photo of a cat', guidance: 0 }));
    const negative = await client.generate(spec, params({ prompt: 'the sea at sunset', guidance: 0 }));
    assert.ok(difference(positive, negative) > 1, 'the two prompts make visibly different pictures');
    assert.ok(difference(guided, positive) < 0.05, `close to the positive prompt's picture (${difference(guided, positive)})`);
  });

  test('execution_provider cuda without CUDA binaries falls back to the CPU with a warning', async () => {
    const logger = createMemoryLogger();
    const cudaClient = new SdWorkerClient({ logger });
    try {
      const spec: LoadSpec = { ...(await model('base')), executionProvider: 'cuda' };
      const image = await cudaClient.generate(spec, params({ steps: 2 }));
      const warned = logger.records.some((record) => record.level === 'warn' && /CUDA execution provider unavailable, using the CPU/.test(record.message));
      // onnxruntime-node is installed without its CUDA download (.npmrc); where CUDA is there, it is used.
      if (image.executionProvider === 'cpu') assert.ok(warned, 'the fallback is logged');
      else assert.equal(image.executionProvider, 'cuda');
      const cpu = await client.generate(await model('base'), params({ steps: 2 }));
      if (image.executionProvider === 'cpu') assert.ok(same(image, cpu), 'the same picture as a cpu run');
    } finally {
      await cudaClient.close();
    }
  });

  test('int64 ids and a float32 scalar timestep (optimum ≥ 1.24)', async () => {
    const image = await client.generate(await model('int64', { inputIds: 'int64', timestep: 'float' }), params());
    // The graphs compute the same thing as the base model, and "leading" timesteps are integers.
    const base = await client.generate(await model('base'), params());
    assert.ok(same(image, base), 'dtype conversions are exact');
  });

  test('fp16 inputs and outputs with a float16 timestep: close to the fp32 picture', async () => {
    const half = await client.generate(await model('fp16', { float16: true, timestep: 'float16' }), params());
    const full = await client.generate(await model('base'), params());
    assertVaried(half);
    assert.ok(difference(half, full) < 2, `fp16 picture should be close to fp32, differs by ${difference(half, full)}`);
  });

  test('a UNet with fixed batch 1 runs guidance as two passes, with the same result as a batch of two', async () => {
    const fixed = await client.generate(await model('fixed-batch', { fixedBatch: true }), params({ negative: 'ugly' }));
    const batched = await client.generate(await model('base'), params({ negative: 'ugly' }));
    assert.ok(difference(fixed, batched) < 0.01, 'same guidance either way');
  });

  test('a model with fixed spatial dims forces its size', async () => {
    const image = await client.generate(await model('fixed-size', { fixedSize: { width: 64, height: 128 } }), params({ width: 512, height: 512 }));
    assert.equal(image.width, 64);
    assert.equal(image.height, 128);
    assert.equal(image.rgb.length, 64 * 128 * 3);
  });

  test('LCM: timestep_cond from the guidance, no CFG batch, the lcm scheduler by default', async () => {
    const spec = await model('lcm', { lcm: true });
    const a = await client.generate(spec, params({ steps: 4, guidance: 8.5 }));
    const b = await client.generate(spec, params({ steps: 4, guidance: 3 }));
    const withNegative = await client.generate(spec, params({ steps: 4, guidance: 8.5, negative: 'ugly' }));
    assert.equal(a.scheduler, 'lcm');
    assert.equal(a.steps, 4);
    assert.ok(!same(a, b), 'the guidance embedding changes the picture');
    assert.ok(same(a, withNegative), 'LCM runs no negative pass');
  });

  test('UNet weights in model.onnx_data beside the graph load from the file path', async () => {
    const external = await client.generate(await model('external', { externalData: true }), params());
    const base = await client.generate(await model('base'), params());
    assert.ok(same(external, base));
  });

  test("the VAE config's scaling_factor is used instead of 0.18215", async () => {
    const scaled = await client.generate(await model('vae-scale', { vaeScalingFactor: 0.13025 }), params());
    const base = await client.generate(await model('base'), params());
    assert.ok(!same(scaled, base));
  });

  test('without model_index.json, other schedulers by name', async () => {
    const spec = await model('no-index', { modelIndex: false });
    for (const scheduler of ['euler_a', 'ddim', 'dpmpp_2m', 'dpmpp_2m_karras'] as const) {
      const first = await client.generate(spec, params({ scheduler }));
      const again = await client.generate(spec, params({ scheduler }));
      assert.equal(first.scheduler, scheduler);
      assert.ok(same(first, again), `${scheduler} is deterministic for a seed`);
      assertVaried(first);
    }
    const turbo = await client.generate(spec, params({ scheduler: 'turbo', steps: 1, guidance: 0 }));
    assert.equal(turbo.steps, 1);
  });

  test('load() reports what the worker learned about the model', async () => {
    assert.deepEqual(await client.load(await model('lcm', { lcm: true })), { executionProvider: 'cpu', defaultScheduler: 'lcm', lcm: true });
    assert.deepEqual(await client.load(await model('fixed-size', { fixedSize: { width: 64, height: 128 } })), {
      executionProvider: 'cpu',
      defaultScheduler: 'euler',
      lcm: false,
      fixedSize: { width: 64, height: 128 },
    });
  });

  test('progress comes as step k of n, in order, from 0 to n', async () => {
    const seen: [number, number][] = [];
    await client.generate(await model('base'), params({ steps: 8 }), { onProgress: (step, total) => seen.push([step, total]) });
    assert.deepEqual(
      seen,
      Array.from({ length: 9 }, (_, k) => [k, 8]),
    );
  });

  test('jobs sent together run one after another', async () => {
    const spec = await model('base');
    const events: string[] = [];
    const job = (name: string) =>
      client.generate(spec, params({ steps: 3 }), { onProgress: (step, total) => events.push(`${name}${step}/${total}`) });
    const [a, b] = await Promise.all([job('a'), job('b')]);
    assert.ok(same(a, b));
    assert.deepEqual(events, ['a0/3', 'a1/3', 'a2/3', 'a3/3', 'b0/3', 'b1/3', 'b2/3', 'b3/3']);
  });
});
