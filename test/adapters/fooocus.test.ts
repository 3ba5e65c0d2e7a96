/** The Fooocus-API provider against a local fake that speaks its documented shapes. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { ConfigError } from '../../src/config/config-error.js';
import { aspectRatioForFrame, parseAspectRatio } from '../../src/providers/fooocus/aspect-ratios.js';
import { resultLocation } from '../../src/providers/fooocus/fooocus-common.js';
import { createFooocusProvider } from '../../src/providers/fooocus/fooocus-options.js';
import { FooocusProvider, type FooocusApiOptions } from '../../src/providers/fooocus/fooocus-provider.js';
import { RemoteError } from '../../src/providers/http/remote-error.js';
import { ProviderError } from '../../src/providers/types.js';
import { FakeFooocus } from '../support/fake-fooocus.js';
import { closedUrl } from '../support/fake-http-kit.js';
import { assertFinalInEachMode, fooocusTestOptions, submittedBody } from '../support/fooocus-kit.js';
import { generateRequest, providerContext } from '../support/generate-request.js';
import { addEarlierPicture } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

function provider(baseUrl: string, overrides: Partial<FooocusApiOptions> = {}): FooocusProvider {
  return new FooocusProvider({ ...fooocusTestOptions(baseUrl), negativePrompt: 'blurry', requireBase64: true, stepPreview: false, ...overrides });
}

describe('Fooocus aspect ratios', () => {
  test('the entry nearest the frame shape, in Fooocus spelling', () => {
    assert.equal(aspectRatioForFrame(320, 480), '832*1216');
    assert.equal(aspectRatioForFrame(480, 320), '1216*832');
    assert.equal(aspectRatioForFrame(500, 500), '1024*1024');
    assert.equal(aspectRatioForFrame(240, 320), '896*1152');
    assert.equal(aspectRatioForFrame(320, 480, ['1024*1024', '768*1280', '1280*768']), '768*1280');
    assert.deepEqual(parseAspectRatio('896×1152'), { width: 896, height: 1152 });
    assert.equal(parseAspectRatio('896x'), undefined);
  });

  test('result URLs are taken relative to the configured server', () => {
    assert.equal(resultLocation('http://0.0.0.0:8888/files/2026-03-01/a.png', '/files/'), '/files/2026-03-01/a.png');
    assert.equal(resultLocation('/outputs/2026-03-01/a.png', '/outputs/'), '/outputs/2026-03-01/a.png');
    assert.equal(resultLocation('https://cdn.example/pic.png', '/files/'), 'https://cdn.example/pic.png');
  });
});

describe('Fooocus-API provider', () => {
  let fake: FakeFooocus;
  before(async () => {
    fake = await FakeFooocus.start();
  });
  after(async () => {
    await fake.close();
  });

  test('queues an async job with the documented fields, polls it and decodes the data-URI picture', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    const fooocus = provider(fake.url, { styles: ['Fooocus V2', 'Fooocus Sharp'], baseModel: 'juggernautXL_v8Rundiffusion.safetensors' });
    await fooocus.start();
    assert.deepEqual(fooocus.readiness(), { ready: true });
    const request = generateRequest({ negative: 'text, watermark' });
    const result = await fooocus.generate(request);
    assert.equal(result.kind, 'bytes');
    assert.deepEqual(Buffer.from(result.kind === 'bytes' ? result.bytes : []), fake.picture, 'the PNG as the server made it');
    const body = submittedBody(fake);
    assert.equal(body['async_process'], true);
    assert.equal(body['require_base64'], true);
    assert.equal(body['prompt'], 'a lighthouse on a cliff at dawn');
    assert.equal(body['negative_prompt'], 'text, watermark');
    assert.equal(body['performance_selection'], 'Speed');
    assert.equal(body['aspect_ratios_selection'], '832*1216', 'nearest to the 2:3 frame');
    assert.equal(body['image_seed'], 424242);
    assert.equal(body['image_number'], 1);
    assert.deepEqual(body['style_selections'], ['Fooocus V2', 'Fooocus Sharp']);
    assert.equal(body['base_model_name'], 'juggernautXL_v8Rundiffusion.safetensors');
    assert.equal(result.kind === 'bytes' ? result.seed : 'x', undefined, 'the seed asked for was used');
    assert.deepEqual(request.saved, [{ provider: 'fooocus-api', job: [...fake.jobs.keys()][0] }], 'the job id is saved before polling');
    const steps = request.progress.map((progress) => progress.step);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'progress only grows');
    assert.equal(steps.at(-1), 100);
    assert.ok(steps.some((step) => step > 0 && step < 100), 'progress from job_progress while RUNNING');
    assert.equal(fake.submissions().length, 1);
    assert.equal((result.kind === 'bytes' ? result.details : {})?.['aspect_ratios_selection'], '832*1216');
    await fooocus.close();
  });

  test('without base64 the result URL is fetched from the configured server, whatever host the server wrote into it', async () => {
    const elsewhere = await FakeFooocus.start({ advertisedBase: 'http://fooocus.invalid:8888' });
    try {
      const fooocus = provider(elsewhere.url, { requireBase64: false });
      const result = await fooocus.generate(generateRequest());
      assert.equal(result.kind, 'bytes');
      assert.deepEqual(Buffer.from(result.kind === 'bytes' ? result.bytes : []), elsewhere.picture);
      assert.equal(submittedBody(elsewhere)['require_base64'], false);
      assert.ok(elsewhere.requests.some((request) => request.path.startsWith('/files/2026-03-01/')), 'fetched through base_url');
    } finally {
      await elsewhere.close();
    }
  });

  test('seed random lets the server pick (-1) and records the seed it reports', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    const result = await provider(fake.url, { seedMode: 'random' }).generate(generateRequest());
    assert.equal(submittedBody(fake)['image_seed'], -1);
    const seed = result.kind === 'bytes' ? result.seed : undefined;
    assert.equal(typeof seed, 'number');
    assert.equal(seed, [...fake.jobs.values()].at(-1)?.seed, 'the string seed from the result, as a number');
  });

  test('a step preview, when asked for, arrives with the progress', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    const request = generateRequest();
    await provider(fake.url, { stepPreview: true }).generate(request);
    assert.ok(fake.requests.some((seen) => seen.query.get('require_step_preview') === 'true'));
    const preview = request.progress.find((progress) => progress.preview !== undefined)?.preview;
    assert.ok(preview, 'a preview was passed on');
    assert.equal((await sharp(Buffer.from(preview)).metadata()).format, 'png');
  });

  test('a full queue is worth another try; an ERROR stage, an empty result and a cancel are final', async () => {
    fake.mode = 'queue-full';
    fake.requests.length = 0;
    await assert.rejects(provider(fake.url).generate(generateRequest()), (error: ProviderError) => error.retryable && /queue is full/.test(error.message));
    assert.equal(fake.submissions().length, 3, 'retried up to the attempts');

    await assertFinalInEachMode(fake, () => provider(fake.url), [
      ['error-stage', /Fooocus failed job [0-9a-f-]+: Error/],
      ['empty-result', /without a picture/],
      ['user-cancel', /cancelled on the server/],
    ]);
  });

  test('a restart resumes polling the saved job; a job the server forgot (404) is final', async () => {
    fake.mode = 'ok';
    const first = provider(fake.url);
    const interrupted = new AbortController();
    fake.waitingPolls = 1000;
    const request = generateRequest({ signal: interrupted.signal });
    const pending = first.generate(request);
    while (request.saved.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    interrupted.abort(new Error('the server is shutting down'));
    await assert.rejects(pending, /shutting down/);
    fake.waitingPolls = 1;
    fake.requests.length = 0;

    const resumed = await provider(fake.url).generate(generateRequest({ saved: request.saved[0] }));
    assert.equal(resumed.kind, 'bytes');
    assert.equal(fake.submissions().length, 0, 'no second job was queued');

    fake.forgetJobs();
    await assert.rejects(provider(fake.url).generate(generateRequest({ saved: request.saved[0] })), (error: ProviderError) => !error.retryable && /does not know job/.test(error.message));
    assert.equal(fake.submissions().length, 0);
  });

  test('an API key goes in X-API-KEY; a wrong or missing one makes the provider not ready, and the key is never shown', async () => {
    const locked = await FakeFooocus.start({ apiKey: 'fooocus-secret-key' });
    try {
      const good = provider(locked.url, { apiKey: 'fooocus-secret-key' });
      await good.start();
      assert.deepEqual(good.readiness(), { ready: true });
      assert.equal((await good.generate(generateRequest())).kind, 'bytes');
      assert.ok(locked.requests.every((request) => request.path.startsWith('/files/') || request.headers['x-api-key'] === 'fooocus-secret-key'));

      const wrong = provider(locked.url, { apiKey: 'not-the-right-key' });
      await wrong.start();
      const readiness = wrong.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /HTTP 403: the server refused the API key; check providers\.fooocus\.api_key/);
      assert.ok(!JSON.stringify(readiness).includes('not-the-right-key'));
      locked.requests.length = 0;
      await assert.rejects(wrong.generate(generateRequest()), (error: RemoteError) => error.status === 403 && !error.retryable);
      assert.equal(locked.submissions().length, 1, 'a refused key is not tried again');

      const missing = provider(locked.url);
      await missing.start();
      assert.match(missing.readiness().ready ? '' : (missing.readiness() as { reason: string }).reason, /wants an API key/);
    } finally {
      await locked.close();
    }
  });

  test('a wrong key shows in readiness on older releases too, whose /ping is outside the key check', async () => {
    const older = await FakeFooocus.start({ apiKey: 'fooocus-secret-key', openPing: true });
    try {
      const wrong = provider(older.url, { apiKey: 'not-the-right-key' });
      await wrong.start();
      const readiness = wrong.readiness();
      assert.equal(readiness.ready, false, 'not ready: every picture would fail with 403');
      assert.match(readiness.ready ? '' : readiness.reason, /HTTP 403: the server refused the API key/);
      const good = provider(older.url, { apiKey: 'fooocus-secret-key' });
      await good.start();
      assert.deepEqual(good.readiness(), { ready: true });
      await Promise.all([wrong.close(), good.close()]);
    } finally {
      await older.close();
    }
  });

  test('a refused field (422) names it; broken JSON and a page instead of a picture are readable errors', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    await assert.rejects(provider(fake.url, { performance: 'Turbo' }).generate(generateRequest()), (error: RemoteError) => error.status === 422 && /HTTP 422: performance_selection: Input should be 'Speed'/.test(error.message));
    assert.equal(fake.submissions().length, 1);

    fake.mode = 'broken-json';
    await assert.rejects(provider(fake.url).generate(generateRequest()), (error: RemoteError) => error.failure === 'invalid-response' && /not JSON/.test(error.message));

    fake.mode = 'not-an-image';
    await assert.rejects(provider(fake.url, { requireBase64: false }).generate(generateRequest()), /not a JPEG, PNG or WebP picture/);
    fake.mode = 'ok';
  });

  test('a slow server times out without queuing the job twice; a dropped connection is not sent again when the job list cannot be read', async () => {
    fake.mode = 'ok';
    fake.delayMs = 300;
    fake.requests.length = 0;
    await assert.rejects(provider(fake.url, { timeoutMs: 50 }).generate(generateRequest()), /no answer from .* within/);
    assert.equal(fake.submissions().length, 1, 'a submit that timed out may have been queued: not sent again');
    fake.delayMs = 0;

    fake.mode = 'drop';
    fake.requests.length = 0;
    const dropped = provider(fake.url);
    await assert.rejects(dropped.generate(generateRequest()), (error: RemoteError) => error.failure === 'network' && !error.retryable);
    assert.equal(fake.submissions().length, 1, 'the job list drops too: whether the job was queued cannot be told');
    assert.equal(dropped.readiness().ready, false, 'a generation that finds the server gone marks it not ready');
    fake.mode = 'ok';
    await dropped.refresh();
    assert.deepEqual(dropped.readiness(), { ready: true }, 'the next check brings it back');
  });

  test('an abort while the job waits stops at once with the signal reason', async () => {
    fake.mode = 'ok';
    fake.waitingPolls = 1000;
    const controller = new AbortController();
    const request = generateRequest({ signal: controller.signal });
    const pending = provider(fake.url, { pollIntervalMs: 20 }).generate(request);
    while (request.saved.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error('cancelled by the test'));
    await assert.rejects(pending, /cancelled by the test/);
    fake.waitingPolls = 1;
  });

  test('a server that is down is not ready, with the reason', async () => {
    const down = provider(await closedUrl());
    await down.start();
    const readiness = down.readiness();
    assert.equal(readiness.ready, false);
    assert.match(readiness.ready ? '' : readiness.reason, /cannot reach .*\/v1\/generation\/job-queue: ECONNREFUSED/);
    await down.close();
  });
});

describe('providers.fooocus options', () => {
  test('base_url is required; unknown keys and performance values are named', () => {
    assert.throws(() => createFooocusProvider({}, providerContext()), (error: ConfigError) => error instanceof ConfigError && /providers\.fooocus\.base_url/.test(error.message));
    assert.throws(() => createFooocusProvider({ base_url: 'http://gpu:8888', stpes: 3 }, providerContext()), /providers\.fooocus: unknown option "stpes"/);
    assert.throws(() => createFooocusProvider({ base_url: 'http://gpu:8888', performance_selection: 'Turbo' }, providerContext()), /performance_selection: expected one of Speed, Quality, Extreme Speed, Lightning, Hyper-SD/);
    assert.throws(() => createFooocusProvider({ base_url: 'http://gpu:8888', aspect_ratios_selection: 'wide' }, providerContext()), /aspect_ratios_selection: expected a size like "896\*1152"/);
  });

  test('the rule keys are accepted, the key is registered as a secret, a fixed size is honoured', async () => {
    const fake = await FakeFooocus.start({ apiKey: 'fooocus-secret-key' });
    const context = providerContext();
    try {
      const fooocus = createFooocusProvider(
        {
          base_url: fake.url,
          api_key: 'fooocus-secret-key',
          aspect_ratios_selection: '1024×1024',
          performance_selection: 'Lightning',
          poll_interval_seconds: 0.01,
          image_generate_threshold: 5,
          daily_limit: 10,
          sleep_time: [],
        },
        context,
      );
      assert.equal(context.secrets.redact('key fooocus-secret-key here'), 'key [redacted] here');
      await fooocus.generate(generateRequest());
      const body = submittedBody(fake);
      assert.equal(body['aspect_ratios_selection'], '1024*1024');
      assert.equal(body['performance_selection'], 'Lightning');
      assert.equal(body['negative_prompt'], '');
      await fooocus.close();
    } finally {
      await fake.close();
    }
  });
});

describe('fooocus through the server', () => {
  test('the frame gets a picture made by Fooocus-API', async () => {
    const fake = await FakeFooocus.start({ apiKey: 'fooocus-secret-key' });
    const server = await startTestServer({
      optionsYaml: [
        'image_generate_threshold: 0',
        'providers:',
        '  fooocus:',
        `    base_url: ${fake.url}`,
        '    api_key: fooocus-secret-key',
        '    performance_selection: Extreme Speed',
        '    style_selections: [Fooocus V2]',
        '    poll_interval_seconds: 0.02',
        '',
      ].join('\n'),
    });
    try {
      const id = await startAndWait(server.url, { type: 'fooocus', prompt: 'a red fox in snow', negative: 'people' });
      const operation = server.frames.get(id);
      assert.equal(operation?.source, 'provider');
      const picture = server.library.get(operation?.pictureName ?? '');
      assert.equal(picture?.provider, 'fooocus');
      assert.equal(picture?.format, 'png');
      assert.equal(picture?.prompt, 'a red fox in snow');
      assert.equal(picture?.details?.['aspect_ratios_selection'], '832*1216');
      const body = submittedBody(fake);
      assert.equal(body['negative_prompt'], 'people');
      assert.equal(body['image_seed'], picture?.seed, 'the recorded seed is the one sent');
      assert.ok(!JSON.stringify(server.logs).includes('fooocus-secret-key'), 'the key never reaches a log line');
    } finally {
      await server.dispose();
      await fake.close();
    }
  });

  test('a Fooocus that is down is not ready: auto and a request by name get a stored picture', async () => {
    const server = await startTestServer({
      optionsYaml: ['image_generate_threshold: 0', 'providers:', '  fooocus:', `    base_url: ${await closedUrl()}`, ''].join('\n'),
    });
    try {
      const picture = await addEarlierPicture(server, '#224466');
      assert.ok(server.logs.some((record) => record.level === 'warn' && /provider fooocus: not ready: cannot reach/.test(record.message)));
      for (const type of ['auto', 'fooocus']) {
        const id = await startAndWait(server.url, { type });
        assert.equal(server.frames.get(id)?.source, 'library', `${type}: served from the library`);
        assert.equal(server.frames.get(id)?.pictureName, picture.name);
      }
      assert.equal(server.library.size, 1, 'nothing was generated');
    } finally {
      await server.dispose();
    }
  });

  test('the scan job re-checks a server that was down', async () => {
    const fake = await FakeFooocus.start();
    fake.mode = 'drop';
    const server = await startTestServer({
      optionsYaml: ['providers:', '  fooocus:', `    base_url: ${fake.url}`, ''].join('\n'),
    });
    try {
      assert.deepEqual(server.frames.readyProviders().map((ready) => ready.id), []);
      fake.mode = 'ok';
      await server.jobs.scanImages();
      assert.deepEqual(server.frames.readyProviders().map((ready) => ready.id), ['fooocus']);
    } finally {
      await server.dispose();
      await fake.close();
    }
  });
});
