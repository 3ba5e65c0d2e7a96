/** The AUTOMATIC1111 adapter against a local fake of its web API. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { A1111Provider, type A1111ProviderOptions } from '../../src/providers/a1111/a1111-provider.js';
import { RemoteError } from '../../src/providers/http/remote-error.js';
import { ProviderError } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { FakeA1111, startFakeA1111, type FakeA1111Options } from '../support/fake-a1111.js';
import { generateRequest } from '../support/generate-request.js';

const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

function provider(fake: FakeA1111, overrides: Partial<A1111ProviderOptions> = {}): A1111Provider {
  return new A1111Provider({
    baseUrl: fake.url,
    steps: 8,
    cfgScale: 6.5,
    sampler: 'Euler a',
    seedMode: 'request',
    negativePrompt: 'blurry, text',
    targetPixels: 640 * 640,
    timeoutMs: 10_000,
    progressIntervalMs: 5,
    healthIntervalMs: 0,
    logger: createMemoryLogger(),
    retry: FAST_RETRY,
    ...overrides,
  });
}

async function withFake(options: FakeA1111Options, run: (fake: FakeA1111) => Promise<void>): Promise<void> {
  const fake = await startFakeA1111(options);
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
}

describe('AUTOMATIC1111 adapter', () => {
  test('sends the generation settings and returns the PNG with the seed reported in info', async () => {
    await withFake({}, async (fake) => {
      const a1111 = provider(fake, { scheduler: 'Karras' });
      const result = await a1111.generate(generateRequest({ negative: 'people' }));
      assert.equal(result.kind, 'bytes');
      const body = fake.txt2img[0] ?? {};
      assert.equal(body.prompt, 'a lighthouse on a cliff at dawn');
      assert.equal(body.negative_prompt, 'people', "the request's negative wins over the configured one");
      assert.equal(body.steps, 8);
      assert.equal(body.cfg_scale, 6.5);
      assert.equal(body.sampler_name, 'Euler a');
      assert.equal(body.scheduler, 'Karras');
      assert.equal(body.seed, 424242);
      assert.deepEqual([body.width, body.height], [512, 768], '2:3 frame at about 640² pixels');
      assert.equal(body.override_settings, undefined, 'no checkpoint configured: the current one is used');
      assert.match(String(body.force_task_id), /^task\(aiframe-/);
      if (result.kind !== 'bytes') return;
      const meta = await sharp(result.bytes).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 512, 768]);
      assert.equal(result.seed, 424242);
      assert.equal(result.details?.model, 'v1-5-pruned-emaonly');
      assert.equal(result.details?.scheduler, 'Karras');
    });
  });

  test('seed: random sends -1 and records the seed the server chose', async () => {
    await withFake({}, async (fake) => {
      const result = await provider(fake, { seedMode: 'random' }).generate(generateRequest({ negative: undefined }));
      assert.equal(fake.txt2img[0]?.seed, -1);
      assert.equal(fake.txt2img[0]?.negative_prompt, 'blurry, text', 'the configured negative fills in');
      assert.equal(fake.txt2img[0]?.scheduler, undefined, 'no scheduler key unless configured');
      assert.equal(result.kind === 'bytes' ? result.seed : undefined, fake.seedsUsed[0]);
      assert.notEqual(fake.seedsUsed[0], -1);
    });
  });

  test('a checkpoint is found by its short name and sent as the server spells its title', async () => {
    await withFake({}, async (fake) => {
      const a1111 = provider(fake, { checkpoint: 'dreamshaper_8' });
      await a1111.start();
      assert.deepEqual(a1111.readiness(), { ready: true });
      const result = await a1111.generate(generateRequest());
      assert.deepEqual(fake.txt2img[0]?.override_settings, { sd_model_checkpoint: 'dreamshaper_8.safetensors [879db523c3]' });
      assert.equal(result.kind === 'bytes' ? result.details?.model : undefined, 'dreamshaper_8');
      await a1111.close();
    });
  });

  test('an unknown checkpoint makes the provider not ready, naming the ones the server has', async () => {
    await withFake({}, async (fake) => {
      const a1111 = provider(fake, { checkpoint: 'sdxl-turbo' });
      await a1111.start();
      const readiness = a1111.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /checkpoint "sdxl-turbo" is not on the server \(it has: v1-5-pruned-emaonly, dreamshaper_8\)/);
      await a1111.close();
    });
  });

  test('Basic auth: the right credentials pass; wrong ones fail at once, without the password in the message', async () => {
    await withFake({ auth: { username: 'frame', password: 's3cret-pass' } }, async (fake) => {
      const good = provider(fake, { auth: { username: 'frame', password: 's3cret-pass' } });
      await good.start();
      assert.deepEqual(good.readiness(), { ready: true });
      await good.generate(generateRequest());
      assert.equal(fake.txt2img.length, 1);

      const wrong = provider(fake, { auth: { username: 'frame', password: 'wrong-pass' } });
      await wrong.start();
      const readiness = wrong.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /HTTP 401: wrong or missing username\/password \(Incorrect username or password\)/);
      const error = await wrong.generate(generateRequest()).then(
        () => assert.fail('expected a 401'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof RemoteError);
      assert.equal(error.status, 401);
      assert.equal(error.retryable, false);
      assert.ok(!error.message.includes('wrong-pass') && !error.url.includes('wrong-pass'));
      assert.equal(fake.txt2img.length, 1, 'a 401 is never retried (and the txt2img handler was not reached)');
      const unauthenticated = provider(fake);
      await assert.rejects(unauthenticated.generate(generateRequest()), /Not authenticated/);
      await Promise.all([good.close(), wrong.close(), unauthenticated.close()]);
    });
  });

  test('an unknown sampler fails at once with the server\'s reason', async () => {
    await withFake({}, async (fake) => {
      const error = await provider(fake, { sampler: 'DPM++ 9M' })
        .generate(generateRequest())
        .then(
          () => assert.fail('expected a 400'),
          (caught: unknown) => caught as RemoteError,
        );
      assert.ok(error instanceof RemoteError);
      assert.equal(error.status, 400);
      assert.match(error.message, /answered HTTP 400: Sampler not found$/);
      assert.equal(fake.txt2img.length, 1, 'not retried');
    });
  });

  test('a validation error (422) lists the fields', async () => {
    await withFake({}, async (fake) => {
      await assert.rejects(provider(fake, { steps: 2.5 }).generate(generateRequest()), /HTTP 422: invalid request \(steps: value is not a valid integer\)/);
    });
  });

  test('out of memory (500) is retried; when it persists the error names it', async () => {
    await withFake({}, async (fake) => {
      fake.failNext('oom', 1);
      const result = await provider(fake).generate(generateRequest());
      assert.equal(result.kind, 'bytes');
      assert.equal(fake.txt2img.length, 2, 'one retry after the 500');

      fake.failNext('oom', 3);
      await assert.rejects(
        provider(fake, { retry: { ...FAST_RETRY, attempts: 2 } }).generate(generateRequest()),
        (error: unknown) => error instanceof RemoteError && error.status === 500 && /OutOfMemoryError: CUDA out of memory/.test(error.message),
      );
      assert.equal(fake.txt2img.length, 4);
    });
  });

  test('progress is polled while the job runs: every step of the total, with live previews', async () => {
    await withFake({ stepOnPoll: true, previews: true }, async (fake) => {
      const request = generateRequest();
      await provider(fake, { steps: 6 }).generate(request);
      assert.deepEqual(
        request.progress.map((update) => [update.step, update.total]),
        [1, 2, 3, 4, 5, 6].map((step) => [step, 6]),
      );
      const preview = request.progress[0]?.preview;
      assert.ok(preview, 'a preview came with the progress');
      assert.equal((await sharp(preview).metadata()).format, 'png');
    });
  });

  test('servers older than v1.6 (no current_task) still get their progress read', async () => {
    await withFake({ stepOnPoll: true, legacyProgress: true }, async (fake) => {
      const request = generateRequest();
      await provider(fake, { steps: 4 }).generate(request);
      assert.deepEqual(
        request.progress.map((update) => update.step),
        [1, 2, 3, 4],
      );
      assert.equal(request.progress[0]?.preview, undefined, 'no live previews on this server');
    });
  });

  test('an abort mid-job rejects with the reason and interrupts the job on the server', async () => {
    await withFake({ stepOnPoll: true }, async (fake) => {
      const controller = new AbortController();
      const request = generateRequest({
        signal: controller.signal,
        onProgress: () => controller.abort(new Error('cancelled by the test')),
      });
      await assert.rejects(provider(fake, { steps: 200 }).generate(request), /cancelled by the test/);
      assert.equal(fake.interrupts, 1);
      assert.equal(fake.txt2img.length, 1);
    });
  });

  test('an abort while the server runs another client\'s job does not interrupt that job', async () => {
    await withFake({}, async (fake) => {
      // Someone else's job holds the lock (a person using the web UI) until it is interrupted.
      fake.failNext('hang');
      const other = fetch(`${fake.url}/sdapi/v1/txt2img`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prompt: 'theirs', steps: 30, force_task_id: 'task(web-ui)' }),
      });
      while (fake.txt2img.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const controller = new AbortController();
      const mine = provider(fake).generate(generateRequest({ signal: controller.signal }));
      while (fake.txt2img.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort(new Error('changed my mind'));
      await assert.rejects(mine, /changed my mind/);
      assert.equal(fake.interrupts, 0);
      await fetch(`${fake.url}/sdapi/v1/interrupt`, { method: 'POST' }); // they stop it themselves
      assert.equal((await other).status, 200);
    });
  });

  test('calls go one at a time, and an abort while waiting for a turn leaves the queue', async () => {
    await withFake({ stepDelayMs: 5 }, async (fake) => {
      const a1111 = provider(fake);
      const results = await Promise.all([a1111.generate(generateRequest({ seed: 1 })), a1111.generate(generateRequest({ seed: 2 }))]);
      assert.equal(results.length, 2);
      assert.equal(fake.maxOpenTxt2img, 1);
      assert.deepEqual(
        fake.txt2img.map((body) => body.seed),
        [1, 2],
      );

      const controller = new AbortController();
      const first = a1111.generate(generateRequest({ seed: 3 }));
      const second = a1111.generate(generateRequest({ seed: 4, signal: controller.signal }));
      controller.abort(new Error('gave up waiting'));
      await assert.rejects(second, /gave up waiting/);
      await first;
      assert.deepEqual(
        fake.txt2img.map((body) => body.seed),
        [1, 2, 3],
        'the aborted call never reached the server',
      );
    });
  });

  test('a reverse proxy\'s HTML error page reads as text', async () => {
    await withFake({}, async (fake) => {
      fake.failNext('proxy-html');
      const error = await provider(fake, { retry: { ...FAST_RETRY, attempts: 1 } })
        .generate(generateRequest())
        .then(
          () => assert.fail('expected a 502'),
          (caught: unknown) => caught as RemoteError,
        );
      assert.equal(error.status, 502);
      assert.match(error.message, /HTTP 502: 502 Bad Gateway 502 Bad Gateway nginx\/1\.24\.0$/);
      assert.ok(!error.message.includes('<'));
      assert.equal(error.retryable, true);
    });
  });

  test('a truncated answer is not sent again (its job ran); a body that is not JSON fails with its text', async () => {
    await withFake({}, async (fake) => {
      fake.failNext('truncated');
      await assert.rejects(provider(fake).generate(generateRequest()), (error: unknown) => error instanceof RemoteError && !error.retryable && /not sent again/.test(error.message));
      assert.equal(fake.txt2img.length, 1, 'the server finished that job: a second copy would make the picture twice');

      fake.failNext('not-json');
      await assert.rejects(
        provider(fake).generate(generateRequest()),
        (error: unknown) => error instanceof RemoteError && error.failure === 'invalid-response' && /not JSON: Internal server error/.test(error.message),
      );
      assert.equal(fake.txt2img.length, 2, 'an unreadable answer is not retried');
    });
  });

  test('a job that outlives the timeout fails without being sent again, and is interrupted', async () => {
    await withFake({}, async (fake) => {
      fake.failNext('hang');
      const error = await provider(fake, { timeoutMs: 150 })
        .generate(generateRequest())
        .then(
          () => assert.fail('expected a timeout'),
          (caught: unknown) => caught as ProviderError,
        );
      assert.ok(error instanceof ProviderError);
      assert.match(error.message, /no answer from .*txt2img within \d+ m?s/);
      assert.equal(error.retryable, false);
      assert.equal(fake.txt2img.length, 1);
      assert.equal(fake.interrupts, 1, 'the job nobody waits for is stopped');
    });
  });

  test('a proxy\'s gateway timeout (504) is not sent again while the job runs on: it is interrupted instead', async () => {
    await withFake({}, async (fake) => {
      fake.failNext('gateway-timeout');
      const error = await provider(fake)
        .generate(generateRequest())
        .then(
          () => assert.fail('expected a 504'),
          (caught: unknown) => caught as ProviderError,
        );
      assert.ok(error instanceof ProviderError);
      assert.match(error.message, /HTTP 504: 504 Gateway Time-out/);
      assert.equal(error.retryable, false, 'the job behind the proxy is still running');
      assert.equal(fake.txt2img.length, 1, 'no second copy queued behind the first');
      assert.equal(fake.interrupts, 1, 'the job nobody waits for is stopped');
    });
  });

  test('after an interrupted job the next one runs in full, with its progress', async () => {
    await withFake({ stepOnPoll: true }, async (fake) => {
      const a1111 = provider(fake, { steps: 3 });
      const controller = new AbortController();
      const aborted = generateRequest({ signal: controller.signal, onProgress: () => controller.abort(new Error('stop')) });
      await assert.rejects(a1111.generate(aborted), /stop/);
      assert.equal(fake.interrupts, 1);
      const next = generateRequest();
      assert.equal((await a1111.generate(next)).kind, 'bytes');
      assert.deepEqual(
        next.progress.map((update) => update.step),
        [1, 2, 3],
      );
    });
  });

  test('a server that is down is not ready; a failed call re-checks it; it is ready again once it answers', async () => {
    const first = await startFakeA1111();
    const url = first.url;
    await first.close();
    const a1111 = new A1111Provider({
      baseUrl: url,
      steps: 4,
      cfgScale: 7,
      sampler: 'Euler a',
      seedMode: 'request',
      negativePrompt: '',
      targetPixels: 409_600,
      timeoutMs: 2000,
      progressIntervalMs: 1000,
      healthIntervalMs: 0,
      logger: createMemoryLogger(),
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await a1111.start();
    const readiness = a1111.readiness();
    assert.equal(readiness.ready, false);
    assert.match(readiness.ready ? '' : readiness.reason, /cannot reach http:\/\/127\.0\.0\.1:\d+\/sdapi\/v1\/sd-models: ECONNREFUSED/);
    await assert.rejects(a1111.generate(generateRequest()), (error: unknown) => error instanceof RemoteError && error.failure === 'network');

    const again = await new FakeA1111().listen(Number(new URL(url).port));
    try {
      // The failed call started a check while the server was still down; the scan cron's
      // next refresh() sees it up.
      await a1111.refresh();
      await a1111.refresh();
      assert.deepEqual(a1111.readiness(), { ready: true });
      assert.equal((await a1111.generate(generateRequest())).kind, 'bytes');
    } finally {
      await a1111.close();
      await again.close();
    }
  });
});
