/** The ComfyUI adapter against a local fake of ComfyUI's HTTP API. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ComfyUIProvider, type ComfyUIProviderOptions } from '../../src/providers/comfyui/comfyui-provider.js';
import { RemoteError } from '../../src/providers/http/remote-error.js';
import { ProviderError } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { startFakeComfyUI, type FakeComfyUI } from '../support/fake-comfyui.js';
import { eventually, generateRequest, rejection } from '../support/generate-request.js';

const EXAMPLE = join(process.cwd(), 'examples', 'comfyui-sd15-workflow.json');

interface Setup {
  readonly fake: FakeComfyUI;
  readonly folder: string;
  /** Writes a workflow file (the example changed by `edit`) and returns its path. */
  workflow(edit?: (graph: Record<string, { class_type: string; inputs: Record<string, unknown> }>) => void): Promise<string>;
  provider(workflowFile: string, overrides?: Partial<ComfyUIProviderOptions>): ComfyUIProvider;
}

async function withComfy(run: (setup: Setup) => Promise<void>, runMs?: number): Promise<void> {
  const fake = await startFakeComfyUI(runMs === undefined ? {} : { runMs });
  const folder = await mkdtemp(join(tmpdir(), 'aiframe-'));
  const providers: ComfyUIProvider[] = [];
  let count = 0;
  try {
    await run({
      fake,
      folder,
      async workflow(edit) {
        const graph = JSON.parse(await readFile(EXAMPLE, 'utf8')) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
        edit?.(graph);
        const file = join(folder, `workflow-${(count += 1)}.json`);
        await writeFile(file, JSON.stringify(graph));
        return file;
      },
      provider(workflowFile, overrides = {}) {
        const made = new ComfyUIProvider({
          baseUrl: fake.url,
          workflowFile,
          steps: 20,
          negativePrompt: 'watermark',
          targetPixels: 640 * 640,
          timeoutMs: 10_000,
          pollIntervalMs: 5,
          healthIntervalMs: 0,
          logger: createMemoryLogger(),
          retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
          ...overrides,
        });
        providers.push(made);
        return made;
      },
    });
  } finally {
    await Promise.all(providers.map((made) => made.close()));
    await fake.close();
    await rm(folder, { recursive: true, force: true });
  }
}

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

describe('ComfyUI adapter', () => {
  test('submits the filled workflow, follows the history and fetches the picture through /view', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      const comfy = provider(await workflow());
      await comfy.start();
      assert.deepEqual(comfy.readiness(), { ready: true });
      const request = generateRequest({ negative: 'people' });
      const result = await comfy.generate(request);

      const submitted = fake.submitted[0] as { prompt: Graph; client_id: unknown };
      assert.match(String(submitted.client_id), /^[0-9a-f-]{36}$/);
      assert.deepEqual(submitted.prompt['3']?.inputs.seed, 424242);
      assert.deepEqual(submitted.prompt['3']?.inputs.steps, 20);
      assert.deepEqual(submitted.prompt['5']?.inputs, { width: 512, height: 768, batch_size: 1 });
      assert.equal(submitted.prompt['6']?.inputs.text, 'a lighthouse on a cliff at dawn');
      assert.equal(submitted.prompt['7']?.inputs.text, 'people');

      const view = fake.viewQueries[0];
      assert.deepEqual([view?.get('filename'), view?.get('subfolder'), view?.get('type')], ['aiframe_00001_.png', '', 'output']);
      assert.equal(result.kind, 'bytes');
      if (result.kind !== 'bytes') return;
      const meta = await sharp(result.bytes).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 512, 768]);
      assert.equal(result.seed, undefined, 'the seed sent is the one used');
      assert.match(String(result.details?.prompt_id), /^[0-9a-f-]{36}$/);
      assert.equal(result.details?.workflow, 'workflow-1.json');
      assert.deepEqual(request.progress, [
        { step: 0, total: 1 },
        { step: 1, total: 1 },
      ]);
    });
  });

  test('the configured negative fills {{negative}}; a base URL with the /api prefix works too', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      await provider(await workflow(), { baseUrl: `${fake.url}/api` }).generate(generateRequest());
      assert.equal((fake.submitted[0] as { prompt: Graph }).prompt['7']?.inputs.text, 'watermark');
    });
  });

  test('a graph ComfyUI refuses: node errors are spelled out and nothing is retried', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      const badSampler = provider(
        await workflow((graph) => {
          graph['3']!.inputs.sampler_name = 'dpmpp_9m';
        }),
      );
      const error = await rejection(badSampler.generate(generateRequest()));
      assert.ok(error instanceof RemoteError);
      assert.equal(error.status, 400);
      assert.equal(error.retryable, false);
      assert.match(error.message, /HTTP 400: Prompt outputs failed validation; node 3 \(KSampler\): Value not in list: sampler_name: 'dpmpp_9m' not in \['euler'/);
      assert.equal(fake.submitted.length, 1);

      const unknownNode = provider(
        await workflow((graph) => {
          graph['10'] = { class_type: 'FancyUpscaler', inputs: {} };
        }),
      );
      assert.match((await rejection(unknownNode.generate(generateRequest()))).message, /HTTP 400: Cannot execute because node FancyUpscaler does not exist\.: Node ID '#10'$/);

      const noOutput = provider(
        await workflow((graph) => {
          delete graph['9'];
        }),
      );
      assert.match((await rejection(noOutput.generate(generateRequest()))).message, /HTTP 400: Prompt has no outputs$/);
    });
  });

  test('a graph ComfyUI runs only in part (200 with node_errors): the picture comes, and the skipped branch is a warning', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      const logger = createMemoryLogger();
      const comfy = provider(
        await workflow((graph) => {
          // A second branch with a sampler this server lacks: ComfyUI runs node 9 and skips node 22.
          graph['20'] = { class_type: 'KSampler', inputs: { ...graph['3']!.inputs, sampler_name: 'dpmpp_9m' } };
          graph['21'] = { class_type: 'VAEDecode', inputs: { samples: ['20', 0], vae: ['4', 2] } };
          graph['22'] = { class_type: 'SaveImage', inputs: { filename_prefix: 'second', images: ['21', 0] } };
        }),
        { logger },
      );
      const result = await comfy.generate(generateRequest());
      assert.equal(result.kind, 'bytes');
      assert.equal(fake.viewQueries[0]?.get('filename'), 'aiframe_00001_.png');
      const warning = logger.records.find((record) => record.level === 'warn' && /node 20/.test(record.message));
      assert.ok(warning, `a warning names the refused node (logs: ${JSON.stringify(logger.records.map((record) => record.message))})`);
      assert.match(warning.message, /node 20 \(KSampler\): Value not in list: sampler_name: 'dpmpp_9m'/);
    });
  });

  test('a run that fails on the server is a final failure naming the node and the exception', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      fake.failNext('execution-error');
      const error = await rejection(provider(await workflow()).generate(generateRequest()));
      assert.ok(error instanceof ProviderError);
      assert.equal(error.retryable, false);
      assert.equal(error.message, 'the workflow failed in node 3 (KSampler): torch.OutOfMemoryError: Allocation on device 0 would exceed allowed memory. (out of memory)');
      assert.equal(fake.submitted.length, 1);
    });
  });

  test('an abort while the job runs interrupts that prompt only', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      fake.failNext('hang');
      const controller = new AbortController();
      const pending = provider(await workflow()).generate(generateRequest({ signal: controller.signal }));
      while (fake.queuedIds().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const [id] = fake.queuedIds();
      controller.abort(new Error('cancelled'));
      await assert.rejects(pending, /cancelled/);
      await eventually(() => fake.interrupts.length > 0, 'the interrupt reached the server');
      assert.deepEqual(fake.interrupts, [{ prompt_id: id }]);
      assert.deepEqual(fake.queueEdits, []);
    });
  });

  test('an abort while the job waits in the queue removes it from the queue, leaving the running job alone', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      fake.failNext('hang'); // someone else's long job
      const theirGraph = {
        '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 30 } },
        '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'theirs' } },
      };
      const submitted = await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: theirGraph, client_id: 'web-ui' }) });
      const theirs = (await submitted.json()) as { prompt_id: string };
      const controller = new AbortController();
      const pending = provider(await workflow()).generate(generateRequest({ signal: controller.signal }));
      while (fake.queuedIds().length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      const mine = fake.queuedIds()[1];
      controller.abort(new Error('cancelled'));
      await assert.rejects(pending, /cancelled/);
      await eventually(() => fake.queueEdits.length > 0, 'the queue edit reached the server');
      assert.deepEqual(fake.queueEdits, [{ delete: [mine] }]);
      assert.deepEqual(fake.interrupts, []);
      assert.deepEqual(fake.queuedIds(), [theirs.prompt_id]);
    });
  });

  test('an abort before the submit is answered still takes the prompt off the server', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      fake.failNext('hang');
      const controller = new AbortController();
      const comfy = provider(await workflow());
      const pending = comfy.generate(generateRequest({ signal: controller.signal }));
      controller.abort(new Error('cancelled at once'));
      await assert.rejects(pending, /cancelled at once/);
      await eventually(() => fake.interrupts.length + fake.queueEdits.length > 0, 'the prompt was cancelled');
      await eventually(() => fake.queuedIds().length === 0, 'nothing is left queued');
      assert.equal(fake.submitted.length, 1);
    });
  });

  test('a job that takes longer than the timeout is given up and interrupted', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      fake.failNext('hang');
      const error = await rejection(provider(await workflow(), { timeoutMs: 100 }).generate(generateRequest()));
      assert.ok(error instanceof ProviderError);
      assert.match(error.message, /^no picture within 0 s \(prompt [0-9a-f-]{36}\)$/);
      assert.equal(fake.interrupts.length, 1);
    });
  });

  test('a job the server forgot (a restart) fails instead of waiting for the timeout', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      fake.failNext('lost');
      const error = await rejection(provider(await workflow()).generate(generateRequest()));
      assert.match(error.message, /^ComfyUI no longer knows prompt [0-9a-f-]{36} \(was it restarted, or the queue cleared\?\)$/);
    });
  });

  test('a picture /view cannot serve is an error with the status', async () => {
    await withComfy(async ({ fake, workflow, provider }) => {
      fake.failNext('view-404');
      const error = await rejection(provider(await workflow()).generate(generateRequest()));
      assert.ok(error instanceof RemoteError);
      assert.equal(error.status, 404);
      assert.match(error.message, /\/view\?filename=aiframe_00001_\.png&subfolder=&type=output answered HTTP 404: 404: Not Found$/);
    });
  });

  test('a workflow edited into something unusable makes the provider not ready until it is fixed', async () => {
    await withComfy(async ({ workflow, provider }) => {
      const file = await workflow();
      const comfy = provider(file);
      await comfy.start();
      assert.deepEqual(comfy.readiness(), { ready: true });
      const good = await readFile(file, 'utf8');
      await writeFile(file, good.replace('{{prompt}}', '{{promt}}'));
      await utimes(file, new Date(), new Date(Date.now() + 10_000));
      await comfy.refresh();
      const readiness = comfy.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /^workflow .*workflow-1\.json: node "6" \(CLIPTextEncode\) uses \{\{promt\}\}/);
      await assert.rejects(comfy.generate(generateRequest()), /uses \{\{promt\}\}/);
      await writeFile(file, good);
      await utimes(file, new Date(), new Date(Date.now() + 20_000));
      await comfy.refresh();
      assert.deepEqual(comfy.readiness(), { ready: true });
    });
  });

  test('a server that is down is not ready', async () => {
    await withComfy(async ({ workflow, provider }) => {
      const comfy = provider(await workflow(), { baseUrl: 'http://127.0.0.1:9' });
      await comfy.start();
      const readiness = comfy.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /cannot reach http:\/\/127\.0\.0\.1:9\/system_stats: ECONNREFUSED/);
    });
  });
});
