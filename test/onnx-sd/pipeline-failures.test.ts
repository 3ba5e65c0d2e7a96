/**
 * The worker under stress: cancellation between steps, a worker that exits, hangs or runs
 * out of memory, a corrupt model. Every job ends (never a hung promise) and the next job
 * gets a working worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
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
let heavy: LoadSpec;
let corrupt: LoadSpec;

/** Many steps of a UNet with some real work: stays busy long enough to be interrupted. */
const LONG: GenerateParams = { prompt: 'a photo of a lake', seed: 7, steps: 400, guidance: 7.5, width: 64, height: 64 };
const SHORT: GenerateParams = { ...LONG, steps: 3 };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'aiframe-'));
  const spec = (dir: string): LoadSpec => ({ modelDir: dir, executionProvider: 'cpu', graphOptimization: 'all', threads: 1 });
  slow = spec(await writeTinySdModel(join(root, 'slow'), { heavy: { channels: 64, layers: 2 } }));
  // Each UNet run is one long native call (about half a second at 512×512 here, more than a
  // second at 768×768), like a real UNet step on a CPU: the worker cannot see a cancel inside it.
  heavy = spec(await writeTinySdModel(join(root, 'heavy'), { heavy: { channels: 384, layers: 5 } }));
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

let scenarios = 0;

/**
 * Runs `body` in a child Node process with `SdWorkerClient`, `logger`, the `heavy` and `slow`
 * specs and the `long`/`short` params in scope; `report(object)` merges into the result. The
 * child must exit with status 0: a process abort (SIGABRT) fails the test with its output.
 */
async function scenario(body: string): Promise<Record<string, unknown>> {
  const module = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);
  const code = `
    const { SdWorkerClient } = await import(${module('../../src/providers/onnx-sd/sd-worker-client.js')});
    const { createMemoryLogger } = await import(${module('../../src/util/logger.js')});
    const logger = createMemoryLogger();
    const heavy = ${JSON.stringify(heavy)};
    const slow = ${JSON.stringify(slow)};
    const long = ${JSON.stringify(LONG)};
    const short = ${JSON.stringify(SHORT)};
    const report = (object) => process.stdout.write(JSON.stringify(object) + '\\n');
    ${body}
  `;
  // A file, not --eval: worker threads inherit the parent's execArgv (--input-type would break them).
  const file = join(root, `scenario-${++scenarios}.mjs`);
  await writeFile(file, code);
  const child = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [file], { timeout: 60_000 }, (error, stdout, stderr) => {
      const failed = error as (Error & { code?: number | string; signal?: string }) | null;
      resolve({ code: failed ? (typeof failed.code === 'number' ? failed.code : -1) : 0, signal: failed?.signal ?? null, stdout, stderr });
    });
  });
  assert.equal(child.code, 0, `the child process ended with ${child.signal ?? `status ${child.code}`}: ${child.stderr.slice(-800)}`);
  return Object.assign({}, ...child.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>));
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
        // Stuck for a minute between two steps, like a bug in our own JavaScript (a stuck
        // onnxruntime call is another matter: see the tests below).
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

  test('a cancel during a step longer than the grace time still lets the worker finish the step and stop by itself', async () => {
    // Real UNet steps on a CPU take 5-20 s; terminating the worker then would throw its loaded
    // model away (and gain nothing: a native run cannot be interrupted). The grace counts steps.
    const logger = createMemoryLogger();
    const client = new SdWorkerClient({ logger, cancelGraceMs: 1 });
    try {
      const controller = new AbortController();
      const reason = new Error('user cancelled');
      await assert.rejects(
        client.generate(heavy, { ...LONG, width: 512, height: 512 }, { signal: controller.signal, onProgress: atStep(2, () => controller.abort(reason)) }),
        (error: unknown) => error === reason,
      );
      assert.ok(!logger.records.some((record) => /did not stop/.test(record.message)), 'not terminated');
      await client.generate(slow, SHORT);
      assert.equal(client.workersStarted, 1, 'the worker and its loaded sessions were kept');
    } finally {
      await client.close();
    }
  });

  test('a cancel outlasting its grace inside a long onnxruntime run: caller answered, worker kept, no crash', async () => {
    // Cancelled 300 ms into step 0, before any step was timed, with a 50 ms grace: onnxruntime
    // is inside the UNet's run for more than a second. Terminating the worker there would abort
    // the whole process when the run returns, so this runs in a child process.
    const result = await scenario(`
      const client = new SdWorkerClient({ logger, cancelGraceMs: 50 });
      const controller = new AbortController();
      const outcome = await client
        .generate(heavy, { ...long, width: 768, height: 768 }, { signal: controller.signal, onProgress: (step) => { if (step === 0) setTimeout(() => controller.abort(new Error('user cancelled')), 300); } })
        .then(() => 'done', (error) => error.message);
      const running = [];
      await client.generate(slow, short, { onProgress: () => running.push(client.workersRunning) });
      report({ outcome, running, started: client.workersStarted, warnings: logger.records.filter((r) => r.level === 'warn').map((r) => r.message) });
      await client.close();
    `);
    assert.equal(result.outcome, 'user cancelled');
    assert.deepEqual([...new Set(result.running as number[])], [1], 'never two workers (two copies of the model)');
    assert.equal(result.started, 1, 'the worker and its sessions were kept');
    assert.ok((result.warnings as string[]).some((message) => /inside an onnxruntime call, which cannot be interrupted/.test(message)));
  });

  test('closing the client while onnxruntime is inside a run waits for the run, then stops cleanly', async () => {
    const result = await scenario(`
      const client = new SdWorkerClient({ logger });
      // Closed 300 ms into step 0, a UNet run of more than a second: like a shutdown mid-picture.
      let closing;
      const outcome = client
        .generate(heavy, { ...long, width: 768, height: 768 }, { onProgress: (step) => { if (step === 0) setTimeout(() => { closing = client.close(); }, 300); } })
        .then(() => 'done', (error) => error.message);
      report({ outcome: await outcome });
      await closing;
      report({ closed: true, running: client.workersRunning });
    `);
    assert.equal(result.outcome, 'the ONNX provider was closed', 'the caller is answered at once');
    assert.equal(result.closed, true);
    assert.equal(result.running, 0);
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
