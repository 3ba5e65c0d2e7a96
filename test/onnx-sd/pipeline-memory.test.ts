/**
 * Memory between pictures: the pipeline keeps its sessions (and their weights) loaded, but not
 * the scratch memory of a run. A real UNet allocates gigabytes of activations per step; an
 * onnxruntime CPU arena would keep them for as long as the worker lives.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdPipeline } from '../../src/providers/onnx-sd/sd-pipeline.js';
import { writeTinySdModel } from '../support/tiny-sd-model.js';

const TRANSIENT_MB = 300;

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'aiframe-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

const rssMb = (): number => process.memoryUsage.rss() / 1e6;

describe('memory between pictures', () => {
  test("a run's scratch memory is given back when the picture is done", async () => {
    const dir = await writeTinySdModel(join(root, 'transient'), { transientMb: TRANSIENT_MB });
    const pipeline = await SdPipeline.load({ modelDir: dir, executionProvider: 'cpu', graphOptimization: 'all', threads: 1 });
    try {
      const params = { prompt: 'a photo of a cat', seed: 1, steps: 2, guidance: 7.5, width: 512, height: 512 };
      const before = rssMb();
      await pipeline.generate(params);
      await pipeline.generate(params);
      const grown = rssMb() - before;
      assert.ok(grown < TRANSIENT_MB / 3, `the process kept ${grown.toFixed(0)} MB after two pictures with ${TRANSIENT_MB} MB of scratch each`);
    } finally {
      await pipeline.release();
    }
  });
});
