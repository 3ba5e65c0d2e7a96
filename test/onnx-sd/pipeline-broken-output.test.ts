/**
 * A broken export (typically an fp16 one that overflows) makes NaN latents or a blank picture.
 * The pipeline notices it (after each step, and after the VAE) and fails with a note that says
 * what happened and what to try, instead of handing a black picture to the library.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLatents, checkVaeOutput, isUniformImage, ModelOutputError } from '../../src/providers/onnx-sd/output-checks.js';
import { createScheduler, readScheduleConfig } from '../../src/providers/onnx-sd/scheduler/index.js';
import { SdPipeline, type GenerateParams } from '../../src/providers/onnx-sd/sd-pipeline.js';
import { SdWorkerClient } from '../../src/providers/onnx-sd/sd-worker-client.js';
import type { LoadSpec } from '../../src/providers/onnx-sd/worker-protocol.js';
import { ProviderError } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { EULER_SCHEDULER, writeTinySdModel, type TinySdVariant } from '../support/tiny-sd-model.js';

const STEPS = 20;
const PARAMS: GenerateParams = { prompt: 'a photo of a cat', seed: 42, steps: STEPS, guidance: 7.5, width: 64, height: 64 };
const TRY_NEXT = 'try an fp32 export or another model';

let root: string;
let models = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'aiframe-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function exportWith(variant: TinySdVariant): Promise<string> {
  return writeTinySdModel(join(root, `model-${++models}`), variant);
}

async function withPipeline<T>(variant: TinySdVariant, use: (pipeline: SdPipeline) => Promise<T>): Promise<T> {
  const pipeline = await SdPipeline.load({ modelDir: await exportWith(variant), executionProvider: 'cpu', graphOptimization: 'all', threads: 1 });
  try {
    return await use(pipeline);
  } finally {
    await pipeline.release();
  }
}

/** The timestep the tiny model's Euler schedule gives step `step` (1-based) of {@link STEPS}. */
function timestepOfStep(step: number): number {
  return Math.round(createScheduler('euler', readScheduleConfig(EULER_SCHEDULER), STEPS).timesteps[step - 1]!);
}

describe('output checks', () => {
  test('latents: the first NaN or Infinity is named with the step', () => {
    assert.doesNotThrow(() => checkLatents(Float32Array.from([0, -3.5, 1e30]), 0, 20));
    assert.throws(() => checkLatents(Float32Array.from([0, NaN, 1]), 2, 20), { name: 'ModelOutputError', message: `the model produced NaN at step 3 of 20: ${TRY_NEXT}` });
    assert.throws(() => checkLatents(Float32Array.from([0, -Infinity, NaN]), 0, 4), { message: `the model produced Infinity at step 1 of 4: ${TRY_NEXT}` });
  });

  test('VAE output: NaN or Infinity anywhere is refused', () => {
    assert.doesNotThrow(() => checkVaeOutput(Float32Array.from([-1, 0, 1, 7])));
    assert.throws(() => checkVaeOutput(Float32Array.from([0, 0, NaN])), { message: `the model produced NaN in the VAE decoder: ${TRY_NEXT}` });
  });

  test('uniform: every channel (nearly) flat; a dark picture with detail, or one flat channel, is not', () => {
    const rgb = (pixels: [number, number, number][]): Uint8Array => Uint8Array.from(pixels.flat());
    assert.equal(isUniformImage(rgb([[0, 0, 0], [0, 0, 0], [0, 0, 0]])), true, 'black');
    assert.equal(isUniformImage(rgb([[128, 128, 128], [129, 130, 127], [128, 127, 129]])), true, 'grey with a little noise');
    assert.equal(isUniformImage(rgb([[255, 255, 255]])), true, 'one pixel');
    assert.equal(isUniformImage(rgb([[0, 0, 0], [0, 0, 0], [12, 9, 20]])), false, 'a dark picture with one brighter spot');
    assert.equal(isUniformImage(rgb([[0, 10, 255], [0, 60, 255], [0, 200, 255]])), false, 'red and blue flat, green varies');
  });
});

describe('a broken model fails the generation with a clear note', () => {
  test('NaN from step 3: the job stops there, with the step in the note', async () => {
    const progress: number[] = [];
    await withPipeline({ brokenUnet: { value: 'nan', fromTimestep: timestepOfStep(3) } }, (pipeline) =>
      assert.rejects(pipeline.generate(PARAMS, { onProgress: (step) => progress.push(step) }), (error: unknown) => {
        assert.ok(error instanceof ModelOutputError);
        assert.equal(error.message, `the model produced NaN at step 3 of ${STEPS}: ${TRY_NEXT}`);
        return true;
      }),
    );
    assert.deepEqual(progress, [0, 1, 2], 'no step runs after the one that broke');
  });

  test('an fp16 export whose UNet gives NaN: seen after the float16 output is read back', async () => {
    await withPipeline({ float16: true, timestep: 'float16', brokenUnet: { value: 'nan' } }, (pipeline) =>
      assert.rejects(pipeline.generate({ ...PARAMS, steps: 4 }), { message: `the model produced NaN at step 1 of 4: ${TRY_NEXT}` }),
    );
  });

  test('a UNet that overflows to Infinity (NaN once guidance subtracts two infinities)', async () => {
    await withPipeline({ brokenUnet: { value: 'infinity' } }, async (pipeline) => {
      await assert.rejects(pipeline.generate({ ...PARAMS, steps: 4, guidance: 1 }), { message: `the model produced Infinity at step 1 of 4: ${TRY_NEXT}` });
      await assert.rejects(pipeline.generate({ ...PARAMS, steps: 4, guidance: 7.5 }), { message: `the model produced NaN at step 1 of 4: ${TRY_NEXT}` });
    });
  });

  test('a VAE decoder that gives one colour (black, grey): a uniform image', async () => {
    for (const value of [-1, 0]) {
      await withPipeline({ vaeConstant: value }, (pipeline) =>
        assert.rejects(pipeline.generate({ ...PARAMS, steps: 3 }), { name: 'ModelOutputError', message: `the model produced a uniform (blank) image: ${TRY_NEXT}` }),
      );
    }
  });

  test('an fp16 VAE decoder that gives NaN', async () => {
    await withPipeline({ float16: true, vaeConstant: NaN }, (pipeline) =>
      assert.rejects(pipeline.generate({ ...PARAMS, steps: 3 }), { message: `the model produced NaN in the VAE decoder: ${TRY_NEXT}` }),
    );
  });

  test('the note crosses the worker thread intact, as a failure not worth retrying; the worker lives on', async () => {
    const spec = (dir: string): LoadSpec => ({ modelDir: dir, executionProvider: 'cpu', graphOptimization: 'all', threads: 1 });
    const broken = spec(await exportWith({ brokenUnet: { value: 'nan', fromTimestep: timestepOfStep(3) } }));
    const good = spec(await exportWith({}));
    const client = new SdWorkerClient({ logger: createMemoryLogger() });
    try {
      await assert.rejects(client.generate(broken, PARAMS), (error: unknown) => {
        assert.ok(error instanceof ProviderError);
        assert.equal(error.retryable, false);
        assert.equal(error.message, `the model produced NaN at step 3 of ${STEPS}: ${TRY_NEXT}`);
        return true;
      });
      const image = await client.generate(good, PARAMS);
      assert.equal(isUniformImage(image.rgb), false);
      assert.equal(client.workersStarted, 1);
    } finally {
      await client.close();
    }
  });
});
