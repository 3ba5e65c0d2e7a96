/**
 * The worker under stress: cancellation between steps, a worker that exits, hangs or runs
 * out of memory, a corrupt model. Every job ends (never a hung promise) and the next job
 * gets a working worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GenerateParams } from '../../src/providers/onnx-sd/sd-pipeline.js';
import { SdWorkerClient } from '../../src/providers/onnx-sd/sd-worker-client.js';
import type { LoadSpec } from '../../src/providers/onnx-sd/worker-protocol.js';
import { ProviderError } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { writeTinySdModel } from '../support/tiny-sd-model.js';

let root: string;
let slow: LoadSpec;
let corrupt: LoadSpec;

/** Many steps of a UNet with some real work: stays busy long enough to be interrupted. */
const LONG: GenerateParams = { prompt: 'a photo of a lake', seed: 7, steps: 400, guidance: 7.5, width: 64, height: 64 };
const SHORT: GenerateParams = { ...LONG, steps: 3 };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'aiframe-'));
  const spec = (dir: string): LoadSpec => ({ modelDir: dir, executionProvider: 'cpu', graphOptimization: 'all', threads: 1 });
  slow = spec(await writeTinySdModel(join(root, 'slow'), { heavy: { channels: 64, layers: 2 } }));
  corrupt = spec(await writeTinySdModel(join(root, 'corrupt')));
  await writeFile(join(corrupt.modelDir, 'unet', 'model.onnx'), 'this is not a protobuf');
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs `action` once the job has reported step `at`. */
function atStep(at: number, action: () => void): (step: number) => void {
  let done = false;
  return (step) => {
    if (!done && step >= at) {
      done = true;
      action();
    }
  };
}

describe('worker failures and cancellation', () => {
  test('an abort stops the job between steps; the same worker serves the next job', async () => {
    const client = new SdWorkerClient({ logger: createMemoryLogger() });
    try {
      const reference = await client.generate(slow, SHORT);
      const controller = new AbortController();
      const reason = new Error('user cancelled');
      let last = 0;
      const stopAt = atStep(2, () => controller.abort(reason));
      await assert.rejects(
        client.generate(slow, LONG, {
          signal: controller.signal,
          onProgress: (step) => {
            last = step;
            stopAt(step);
          },
        }),
        (error: unknown) => error === reason,
      );
      assert.ok(last >= 2 && last < LONG.steps, `stopped early, after step ${last}`);
      assert.equal(client.workersStarted, 1, 'the worker stopped by itself, within the grace time');
      const next = await client.generate(slow, SHORT);
      assert.ok(Buffer.from(next.rgb).equals(Buffer.from(reference.rgb)));
      assert.equal(client.workersStarted, 1);
    } finally {
      await client.close();
    }
  });

  test('a job aborted while queued is rejected at once and never runs', async () => {
    const client = new SdWorkerClient({ logger: createMemoryLogger() });
    try {
      const controller = new AbortController();
      const firstProgress: number[] = [];
      const queuedProgress: number[] = [];
      const first = client.generate(slow, { ...LONG, steps: 30 }, { onProgress: (step) => firstProgress.push(step) });
      const queued = client.generate(slow, SHORT, { signal: controller.signal, onProgress: (step) => queuedProgress.push(step) });
      controller.abort(new Error('not needed any more'));
      await assert.rejects(queued, /not needed any more/);
      assert.ok(firstProgress.length < 31, 'rejected while the first job still ran');
      await first;
      assert.deepEqual(queuedProgress, []);
      const already = new AbortController();
      already.abort(new Error('too late'));
      await assert.rejects(client.generate(slow, SHORT, { signal: already.signal }), /too late/);
    } finally {
      await client.close();
    }
  });

  test('a worker that exits mid-job fails that job clearly; the next job gets a fresh worker', async () => {
    const client = new SdWorkerClient({ logger: createMemoryLogger() });
    try {
      const reference = await client.generate(slow, SHORT);
      await assert.rejects(
        client.generate(slow, LONG, { onProgress: atStep(2, () => client.debug({ action: 'exit' })) }),
        (error: unknown) => error instanceof ProviderError && /worker stopped unexpectedly \(exit code 70\)/.test(error.message),
      );
      const next = await client.generate(slow, SHORT);
      assert.equal(client.workersStarted, 2);
      assert.ok(Buffer.from(next.rgb).equals(Buffer.from(reference.rgb)), 'the fresh worker makes the same picture');
    } finally {
      await client.close();
    }
  });

  test('a worker that runs out of memory fails the job; the next job gets a fresh worker', async () => {
    const logger = createMemoryLogger();
    const client = new SdWorkerClient({ logger, resourceLimits: { maxOldGenerationSizeMb: 48 } });
    try {
      await assert.rejects(
        client.generate(slow, LONG, { onProgress: atStep(1, () => client.debug({ action: 'exhaust-memory' })) }),
        (error: unknown) => error instanceof ProviderError && /out of memory/.test(error.message),
      );
      assert.ok(logger.records.some((record) => record.level === 'error' && record.message === 'ONNX worker crashed'));
      await client.generate(slow, SHORT);
      assert.equal(client.workersStarted, 2);
    } finally {
      await client.close();
    }
  });

  test('a worker that does not stop after a cancel is terminated after the grace time', async () => {
    const records = createMemoryLogger();
    const controller = new AbortController();
    const reason = new Error('shutting down');
    // The worker says it is blocked just before it blocks: cancel from there.
    const logger = {
      ...records,
      warn: (message: string, meta?: Record<string, unknown>) => {
        records.warn(message, meta);
        if (message.startsWith('debug: blocking')) controller.abort(reason);
      },
    };
    const client = new SdWorkerClient({ logger, cancelGraceMs: 200 });
    try {
      await assert.rejects(
        // Stuck for a minute, like a native call that never returns.
        client.generate(slow, LONG, { signal: controller.signal, onProgress: atStep(1, () => client.debug({ action: 'hang', ms: 60_000 })) }),
        (error: unknown) => error === reason,
      );
      assert.ok(records.records.some((record) => record.level === 'warn' && /did not stop/.test(record.message)));
      await client.generate(slow, SHORT);
      assert.equal(client.workersStarted, 2);
    } finally {
      await client.close();
    }
  });

  test('a corrupt model fails the job with the file named; the worker lives on', async () => {
    const client = new SdWorkerClient({ logger: createMemoryLogger() });
    try {
      await assert.rejects(
        client.generate(corrupt, SHORT),
        (error: unknown) => error instanceof ProviderError && /could not load unet\/model\.onnx/.test(error.message),
      );
      await client.generate(slow, SHORT);
      assert.equal(client.workersStarted, 1);
    } finally {
      await client.close();
    }
  });

  test('a closed client refuses new jobs', async () => {
    const client = new SdWorkerClient({ logger: createMemoryLogger() });
    await client.generate(slow, SHORT);
    await client.close();
    await assert.rejects(client.generate(slow, SHORT), /closed/);
  });
});
