/** The Imagine adapter against a local fake of `imagine serve`. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { RemoteError } from '../../src/providers/http/remote-error.js';
import { ImagineProvider, type ImagineProviderOptions } from '../../src/providers/imagine/imagine-provider.js';
import { ProviderError } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { startFakeImagine, type FakeImagine, type FakeImagineOptions } from '../support/fake-imagine.js';
import { generateRequest } from '../support/generate-request.js';

function provider(fake: FakeImagine | { url: string }, overrides: Partial<ImagineProviderOptions> = {}): ImagineProvider {
  return new ImagineProvider({
    baseUrl: fake.url,
    model: 'dreamshaper_8',
    steps: 20,
    guidance: 6,
    sampler: 'euler a',
    seedMode: 'request',
    negativePrompt: 'lowres',
    legacyFieldNames: false,
    targetPixels: 640 * 640,
    timeoutMs: 10_000,
    healthIntervalMs: 0,
    logger: createMemoryLogger(),
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    ...overrides,
  });
}

async function withFake(options: FakeImagineOptions, run: (fake: FakeImagine) => Promise<void>): Promise<void> {
  const fake = await startFakeImagine(options);
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof RemoteError, `a RemoteError, not ${String(error)}`);
  return error;
}

describe('Imagine adapter', () => {
  test('sends the current field names and returns the PNG with the seed used', async () => {
    await withFake({}, async (fake) => {
      const request = generateRequest({ negative: 'people' });
      const result = await provider(fake).generate(request);
      assert.deepEqual(fake.bodies[0], {
        model: 'dreamshaper_8',
        prompt: 'a lighthouse on a cliff at dawn',
        neg: 'people',
        width: 512,
        height: 768,
        steps: 20,
        guidance: 6,
        sampler: 'euler a',
        seed: 424242,
      });
      assert.equal(result.kind, 'bytes');
      if (result.kind !== 'bytes') return;
      const meta = await sharp(result.bytes).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 512, 768]);
      assert.equal(result.seed, 424242);
      assert.deepEqual(request.progress, [
        { step: 0, total: 20 },
        { step: 20, total: 20 },
      ]);
    });
  });

  test('legacy_field_names also sends num_steps for servers from before the rename', async () => {
    await withFake({}, async (fake) => {
      await provider(fake, { legacyFieldNames: true }).generate(generateRequest({ negative: undefined }));
      assert.equal(fake.bodies[0]?.num_steps, 20);
      assert.equal(fake.bodies[0]?.steps, 20);
      assert.equal(fake.bodies[0]?.neg, 'lowres', 'the configured negative fills in');
    });
  });

  test('an early server (before the 2025-06-29 rename) works with legacy_field_names: ready, and its steps and seed honoured', async () => {
    await withFake({ legacy: true }, async (fake) => {
      const imagine = provider(fake, { legacyFieldNames: true, steps: 12 });
      await imagine.start();
      assert.deepEqual(imagine.readiness(), { ready: true }, 'it has no GET /models: the server answering is enough');
      const result = await imagine.generate(generateRequest({ seed: 31337 }));
      assert.equal(result.kind, 'bytes');
      assert.deepEqual(fake.stepsUsed, [12], 'num_steps read');
      assert.deepEqual(fake.seedsUsed, ['31337'], 'the seed was taken as the number it is');
      assert.equal(result.kind === 'bytes' ? result.seed : undefined, 31337);
      await imagine.close();
    });
  });

  test('an early server without legacy_field_names is not ready, and the reason names the option', async () => {
    await withFake({ legacy: true }, async (fake) => {
      const imagine = provider(fake);
      await imagine.start();
      const readiness = imagine.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /HTTP 404.*legacy_field_names/);
      await imagine.close();
    });
  });

  test('seed: random lets the server pick; a 64-bit seed is kept as text, never rounded', async () => {
    await withFake({}, async (fake) => {
      const result = await provider(fake, { seedMode: 'random' }).generate(generateRequest());
      assert.equal('seed' in (fake.bodies[0] ?? {}), false);
      const picked = fake.seedsUsed[0] ?? '';
      if (result.kind !== 'bytes') return assert.fail('bytes expected');
      if (Number.isSafeInteger(Number(picked))) {
        assert.equal(result.seed, Number(picked));
      } else {
        assert.equal(result.seed, undefined);
        assert.equal(result.details?.seed, picked);
      }
    });
  });

  test('an HTML error page becomes a readable message; the excerpt is the page as text', async () => {
    await withFake({}, async (fake) => {
      const error = await failure(provider(fake, { sampler: 'dpm++ 9m' }).generate(generateRequest()));
      assert.equal(error.status, 400);
      assert.equal(error.retryable, false);
      assert.match(error.message, /answered HTTP 400: Invalid sampler 'dpm\+\+ 9m'\. Available samplers: \['ddim', 'euler', .*'dpm2 a'\]$/);
      assert.match(error.excerpt ?? '', /^Error response Error response Error code: 400 Message: Invalid sampler/);
      assert.ok(!error.message.includes('<') && !(error.excerpt ?? '').includes('<'));
      assert.equal(fake.bodies.length, 1, 'a 400 is not retried');

      const empty = await failure(provider(fake).generate(generateRequest({ prompt: '' })));
      assert.match(empty.message, /HTTP 400: Prompt is required$/);
    });
  });

  test('a 500 is retried; when it persists the exception from the page is in the message', async () => {
    await withFake({}, async (fake) => {
      fake.failNext('cuda-500', 1);
      assert.equal((await provider(fake).generate(generateRequest())).kind, 'bytes');
      assert.equal(fake.bodies.length, 2);

      fake.failNext('cuda-500', 2);
      const error = await failure(provider(fake, { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }).generate(generateRequest()));
      assert.equal(error.status, 500);
      assert.match(error.message, /HTTP 500: Internal Server Error \(CUDA out of memory\. Tried to allocate 1\.50 GiB\)$/);
    });
  });

  test('a model missing from the server: not ready, naming the models it has; a generation says why', async () => {
    await withFake({ models: ['v1-5-pruned-emaonly', 'dreamshaper_8'] }, async (fake) => {
      const missing = provider(fake, { model: 'juggernaut', retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      await missing.start();
      const readiness = missing.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /model "juggernaut" is not in the server's models folder \(it has: dreamshaper_8, v1-5-pruned-emaonly\)/);
      const error = await failure(missing.generate(generateRequest()));
      assert.match(error.message, /No such file or directory: '\/root\/\.imagine\/models\/juggernaut\.safetensors'/);
      await missing.close();

      const present = provider(fake);
      await present.start();
      assert.deepEqual(present.readiness(), { ready: true });
      await present.close();
    });
  });

  test('a truncated answer is not sent again: the picture was made, and Imagine lists no jobs to check', async () => {
    await withFake({}, async (fake) => {
      fake.failNext('truncated');
      await assert.rejects(provider(fake).generate(generateRequest()), (error: RemoteError) => !error.retryable && /not sent again/.test(error.message));
      assert.equal(fake.bodies.length, 1);
    });
  });

  test('calls go one at a time (the server has no queue)', async () => {
    await withFake({ generateMs: 20 }, async (fake) => {
      const imagine = provider(fake);
      await Promise.all([1, 2, 3].map((seed) => imagine.generate(generateRequest({ seed }))));
      assert.equal(fake.maxOpen, 1);
      assert.deepEqual(
        fake.bodies.map((body) => body.seed),
        [1, 2, 3],
      );
    });
  });

  test('an abort stops the wait at once; a slow server past the timeout is not asked twice', async () => {
    await withFake({ generateMs: 300 }, async (fake) => {
      const controller = new AbortController();
      const pending = provider(fake).generate(generateRequest({ signal: controller.signal }));
      controller.abort(new Error('frame went to sleep'));
      await assert.rejects(pending, /frame went to sleep/);

      const error = await provider(fake, { timeoutMs: 100 })
        .generate(generateRequest())
        .then(
          () => assert.fail('expected a timeout'),
          (caught: unknown) => caught as ProviderError,
        );
      assert.ok(error instanceof ProviderError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /no answer from .*\/generate within/);
    });
  });

  test('a server that is down is not ready', async () => {
    const fake = await startFakeImagine();
    await fake.close();
    const imagine = provider(fake, { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    await imagine.start();
    const readiness = imagine.readiness();
    assert.equal(readiness.ready, false);
    assert.match(readiness.ready ? '' : readiness.reason, /cannot reach http:\/\/127\.0\.0\.1:\d+\/models: ECONNREFUSED/);
    await imagine.close();
  });
});
