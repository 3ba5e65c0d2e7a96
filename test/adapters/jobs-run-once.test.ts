/**
 * Remote jobs run once (issue 11, point 12). A connection that drops after the generator got
 * the body may have started a job: the request is sent again only after the generator's own
 * API says it has no trace of it, and a job it does list is followed instead of a second one.
 * Where the API cannot be asked, the request is not sent again and the frame gets a stored
 * picture. Each fake counts the jobs it was given.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { A1111Provider, type A1111ProviderOptions } from '../../src/providers/a1111/a1111-provider.js';
import { ComfyUIProvider } from '../../src/providers/comfyui/comfyui-provider.js';
import { FooocusProvider } from '../../src/providers/fooocus/fooocus-provider.js';
import { FooocusApiProvider } from '../../src/providers/fooocus/fooocusapi-provider.js';
import { ImagineProvider, type ImagineProviderOptions } from '../../src/providers/imagine/imagine-provider.js';
import { OpenAiProvider } from '../../src/providers/openai/openai-provider.js';
import type { ProviderError, ProviderResult } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { startFakeA1111, type FakeA1111, type FakeA1111Options } from '../support/fake-a1111.js';
import { startFakeComfyUI } from '../support/fake-comfyui.js';
import { FakeFooocus } from '../support/fake-fooocus.js';
import { FakeFooocusApi } from '../support/fake-fooocusapi.js';
import { closedUrl } from '../support/fake-http-kit.js';
import { startFakeImagine } from '../support/fake-imagine.js';
import { FakeOpenAi } from '../support/fake-openai.js';
import { fooocusTestOptions } from '../support/fooocus-kit.js';
import { openAiTestOptions } from '../support/openai-kit.js';
import { FAST_RETRY, generateRequest, rejection } from '../support/generate-request.js';
import { addEarlierPicture } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

function a1111(fake: FakeA1111, overrides: Partial<A1111ProviderOptions> = {}): A1111Provider {
  return new A1111Provider({
    baseUrl: fake.url,
    steps: 8,
    cfgScale: 7,
    sampler: 'Euler a',
    seedMode: 'request',
    negativePrompt: '',
    targetPixels: 640 * 640,
    // Short, so that a second copy queued behind an endless first one gives up soon.
    timeoutMs: 2000,
    progressIntervalMs: 5,
    healthIntervalMs: 0,
    logger: createMemoryLogger(),
    retry: FAST_RETRY,
    ...overrides,
  });
}

async function withA1111(options: FakeA1111Options, run: (fake: FakeA1111) => Promise<void>): Promise<void> {
  const fake = await startFakeA1111(options);
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
}

function imagineOptions(baseUrl: string): ImagineProviderOptions {
  return {
    baseUrl,
    model: 'dreamshaper_8',
    steps: 4,
    guidance: 7,
    sampler: 'euler a',
    seedMode: 'request',
    negativePrompt: '',
    legacyFieldNames: false,
    targetPixels: 512 * 512,
    timeoutMs: 5000,
    healthIntervalMs: 0,
    logger: createMemoryLogger(),
    retry: FAST_RETRY,
  };
}

function txt2imgRequests(fake: FakeA1111): number {
  return fake.requests.filter((request) => request.path === '/sdapi/v1/txt2img').length;
}

function bytesOf(result: ProviderResult): Buffer {
  assert.equal(result.kind, 'bytes');
  return Buffer.from(result.kind === 'bytes' ? result.bytes : []);
}

describe('AUTOMATIC1111: a txt2img whose connection dropped', () => {
  test('while its job runs is not sent again: /internal/progress shows it active, and it is interrupted', async () => {
    await withA1111({}, async (fake) => {
      fake.failNext('drop-after-start');
      const error = (await rejection(a1111(fake).generate(generateRequest()))) as ProviderError;
      assert.equal(error.retryable, false);
      assert.match(error.message, /not sent again/);
      assert.equal(fake.txt2img.length, 1, 'the GPU got one job');
      assert.equal(fake.interrupts, 1, 'its picture cannot be had, so the job is stopped');
    });
  });

  test('after its job finished (the answer cut off) is not sent again', async () => {
    await withA1111({}, async (fake) => {
      fake.failNext('truncated');
      const error = (await rejection(a1111(fake).generate(generateRequest()))) as ProviderError;
      assert.equal(error.retryable, false);
      assert.match(error.message, /finished/);
      assert.equal(fake.txt2img.length, 1);
      assert.equal(fake.interrupts, 0, 'nothing of ours runs');
    });
  });

  test('before the server queued it is sent again: the server has no trace of the task', async () => {
    await withA1111({}, async (fake) => {
      fake.failNext('drop-before-queue');
      const result = await a1111(fake).generate(generateRequest());
      assert.ok(bytesOf(result).length > 0);
      assert.equal(txt2imgRequests(fake), 2, 'sent twice');
      assert.equal(fake.txt2img.length, 1, 'one job');
    });
  });

  test('is not sent again where the server cannot be asked: --nowebui, or a server older than v1.6', async () => {
    for (const options of [{ noWebUi: true }, { legacyProgress: true }]) {
      await withA1111(options, async (fake) => {
        fake.failNext('drop-before-queue');
        const error = (await rejection(a1111(fake).generate(generateRequest()))) as ProviderError;
        assert.equal(error.retryable, false, JSON.stringify(options));
        assert.match(error.message, /not sent again/);
        assert.equal(txt2imgRequests(fake), 1, JSON.stringify(options));
      });
    }
  });

  test('through the server: the frame gets a stored picture, and the GPU made one job', async () => {
    const fake = await startFakeA1111();
    const server = await startTestServer({
      optionsYaml: ['image_generate_threshold: 0', 'providers:', '  a1111:', `    base_url: ${fake.url}`, '    timeout_seconds: 3', ''].join('\n'),
    });
    try {
      const picture = await addEarlierPicture(server, '#335577');
      fake.failNext('drop-after-start');
      const id = await startAndWait(server.url, { type: 'a1111', prompt: 'a red fox in snow' });
      const operation = server.frames.get(id);
      assert.equal(operation?.source, 'fallback');
      assert.equal(operation?.pictureName, picture.name);
      assert.equal(fake.txt2img.length, 1, 'one job on the GPU');
      assert.equal(server.library.size, 1, 'nothing new stored');
    } finally {
      await server.dispose();
      await fake.close();
    }
  });
});

describe('ComfyUI: a POST /prompt whose connection dropped', () => {
  async function withComfy(run: (fake: Awaited<ReturnType<typeof startFakeComfyUI>>, comfy: ComfyUIProvider) => Promise<void>): Promise<void> {
    const fake = await startFakeComfyUI();
    const folder = await mkdtemp(join(tmpdir(), 'aiframe-'));
    const comfy = new ComfyUIProvider({
      baseUrl: fake.url,
      workflowFile: join(process.cwd(), 'examples', 'comfyui-sd15-workflow.json'),
      steps: 20,
      negativePrompt: '',
      targetPixels: 640 * 640,
      timeoutMs: 10_000,
      pollIntervalMs: 5,
      healthIntervalMs: 0,
      logger: createMemoryLogger(),
      retry: FAST_RETRY,
    });
    try {
      await run(fake, comfy);
    } finally {
      await comfy.close();
      await fake.close();
      await rm(folder, { recursive: true, force: true });
    }
  }

  test('after the prompt was queued: it is found in /queue or /history and its picture comes', async () => {
    await withComfy(async (fake, comfy) => {
      fake.failNext('drop-after-queue');
      const result = await comfy.generate(generateRequest());
      assert.ok(bytesOf(result).length > 0);
      assert.equal(fake.jobsQueued, 1, 'one job on the GPU');
      assert.equal(fake.submitted.length, 1, 'not sent again');
      assert.equal(fake.viewQueries.length, 1, 'the picture of that job was fetched');
    });
  });

  test('before anything was queued: sent again, one job', async () => {
    await withComfy(async (fake, comfy) => {
      fake.failNext('drop-before-queue');
      const result = await comfy.generate(generateRequest());
      assert.ok(bytesOf(result).length > 0);
      assert.equal(fake.submitted.length, 2);
      assert.equal(fake.jobsQueued, 1);
    });
  });
});

describe('Fooocus-API: a submit whose connection dropped', () => {
  function fooocus(url: string): FooocusProvider {
    return new FooocusProvider({ ...fooocusTestOptions(url), requireBase64: true, stepPreview: false });
  }

  test('after the job was queued: the job list shows one new job, which is followed to its picture', async () => {
    const fake = await FakeFooocus.start();
    try {
      fake.failNextSubmit('drop-after-queue');
      const result = await fooocus(fake.url).generate(generateRequest());
      assert.deepEqual(bytesOf(result), fake.picture);
      assert.equal(fake.jobs.size, 1, 'one job on the GPU');
      assert.equal(fake.submissions().length, 1, 'not sent again');
      assert.equal(result.details?.job, [...fake.jobs.keys()][0]);
    } finally {
      await fake.close();
    }
  });

  test('before anything was queued: sent again, one job', async () => {
    const fake = await FakeFooocus.start();
    try {
      fake.failNextSubmit('drop-before-queue');
      const result = await fooocus(fake.url).generate(generateRequest());
      assert.deepEqual(bytesOf(result), fake.picture);
      assert.equal(fake.submissions().length, 2);
      assert.equal(fake.jobs.size, 1);
    } finally {
      await fake.close();
    }
  });
});

describe('FooocusAPI: a submit whose connection dropped', () => {
  test('after the task was queued: /tasks lists it with our request, and it is followed to its picture', async () => {
    const fake = await FakeFooocusApi.start();
    try {
      fake.failNextSubmit('drop-after-queue');
      const result = await new FooocusApiProvider(fooocusTestOptions(fake.url)).generate(generateRequest());
      assert.deepEqual(bytesOf(result), fake.picture);
      assert.equal(fake.tasks.size, 1, 'one job on the GPU');
      assert.equal(fake.submissions().length, 1, 'not sent again');
    } finally {
      await fake.close();
    }
  });

  test('before anything was queued: sent again, one job', async () => {
    const fake = await FakeFooocusApi.start();
    try {
      fake.failNextSubmit('drop-before-queue');
      const result = await new FooocusApiProvider(fooocusTestOptions(fake.url)).generate(generateRequest());
      assert.deepEqual(bytesOf(result), fake.picture);
      assert.equal(fake.submissions().length, 2);
      assert.equal(fake.tasks.size, 1);
    } finally {
      await fake.close();
    }
  });
});

describe('APIs that cannot be asked: not sent again', () => {
  test('OpenAI-compatible (LocalAI): a generation whose connection dropped after it started', async () => {
    const fake = await FakeOpenAi.start({ profile: 'localai' });
    try {
      fake.mode = 'drop-after-start';
      const localai = new OpenAiProvider({ ...openAiTestOptions(fake.url, 'localai'), responseFormat: 'b64_json' });
      const error = (await rejection(localai.generate(generateRequest()))) as ProviderError;
      assert.equal(error.retryable, false);
      assert.match(error.message, /not sent again/);
      assert.equal(fake.generations.length, 1, 'one job on the GPU');
    } finally {
      await fake.close();
    }
  });

  test('Imagine: an answer cut off after the picture was made', async () => {
    const fake = await startFakeImagine();
    try {
      fake.failNext('truncated');
      const imagine = new ImagineProvider(imagineOptions(fake.url));
      const error = (await rejection(imagine.generate(generateRequest()))) as ProviderError;
      assert.equal(error.retryable, false);
      assert.match(error.message, /not sent again/);
      assert.equal(fake.seedsUsed.length, 1, 'one job on the GPU');
    } finally {
      await fake.close();
    }
  });
});

describe('a refused connection reached nothing: still tried again', () => {
  test('AUTOMATIC1111, Imagine and LocalAI each try the attempts of their back-off', async () => {
    const url = await closedUrl();
    const logger = createMemoryLogger();
    const fakeUrl = { url } as FakeA1111;
    const providers = [
      a1111(fakeUrl, { logger }),
      new ImagineProvider({ ...imagineOptions(url), logger }),
      new OpenAiProvider({ ...openAiTestOptions(url, 'localai'), logger }),
    ];
    for (const made of providers) {
      logger.records.length = 0;
      const error = await rejection(made.generate(generateRequest()));
      assert.match(error.message, /ECONNREFUSED/);
      const retries = logger.records.filter((record) => record.level === 'warn' && /attempt \d failed; trying again/.test(record.message));
      assert.equal(retries.length, FAST_RETRY.attempts - 1, made.id);
      await made.close();
    }
  });
});
