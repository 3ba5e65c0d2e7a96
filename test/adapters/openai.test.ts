/** The OpenAI Images provider (flavor openai) against a local fake of the documented API. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error.js';
import { detectFormat } from '../../src/library/detect-format.js';
import type { RemoteError } from '../../src/providers/http/remote-error.js';
import { createOpenAiProvider } from '../../src/providers/openai/openai-options.js';
import { OpenAiProvider, type OpenAiProviderOptions } from '../../src/providers/openai/openai-provider.js';
import { freeGptImageSize, nearestListedSize } from '../../src/providers/openai/openai-sizes.js';
import type { ProviderError } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { closedUrl, parseJson } from '../support/fake-http-kit.js';
import { generateRequest, providerContext } from '../support/generate-request.js';
import { FakeOpenAi } from '../support/fake-openai.js';
import { openAiTestOptions } from '../support/openai-kit.js';
import { addEarlierPicture } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

const KEY = 'sk-test-0123456789abcdef';

function provider(baseUrl: string, overrides: Partial<OpenAiProviderOptions> = {}): OpenAiProvider {
  return new OpenAiProvider({
    ...openAiTestOptions(baseUrl, 'openai'),
    apiKey: KEY,
    keyHint: 'providers.openai.api_key or the OPENAI_API_KEY environment variable',
    model: 'dall-e-3',
    ...overrides,
  });
}

function generations(fake: FakeOpenAi): Record<string, unknown>[] {
  return fake.requests.filter((request) => request.path === '/v1/images/generations').map((request) => parseJson(request.body) as Record<string, unknown>);
}

describe('OpenAI sizes', () => {
  test('the listed size nearest the frame, the smallest that has its pixels', () => {
    assert.equal(nearestListedSize(320, 480, ['1024x1024', '1792x1024', '1024x1792']), '1024x1792');
    assert.equal(nearestListedSize(480, 320, ['1024x1024', '1536x1024', '1024x1536']), '1536x1024');
    assert.equal(nearestListedSize(320, 480, ['256x256', '512x512', '1024x1024']), '512x512');
    assert.equal(nearestListedSize(800, 1280, ['256x256', '512x512', '1024x1024']), '1024x1024');
  });

  test('gpt-image-2 sizes: multiples of 16, ratio clamped to 1:3..3:1, at most 3840x2160', () => {
    assert.deepEqual(freeGptImageSize(320, 480, 1024 * 1536), { width: 1024, height: 1536 });
    const thin = freeGptImageSize(100, 1000, 1024 * 1024);
    assert.ok(thin.height / thin.width <= 3.05 && thin.width % 16 === 0 && thin.height % 16 === 0);
    const huge = freeGptImageSize(1920, 1080, 4000 * 4000);
    assert.ok(huge.width <= 3840 && huge.height <= 2160 && huge.width % 16 === 0);
  });
});

describe('OpenAI provider', () => {
  let fake: FakeOpenAi;
  before(async () => {
    fake = await FakeOpenAi.start({ apiKey: KEY });
  });
  after(async () => {
    await fake.close();
  });

  test('dall-e-3: the portrait size, b64_json, the key as Bearer, revised_prompt recorded', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    const openai = provider(fake.url);
    assert.deepEqual(openai.capabilities, { acceptsPrompt: true, acceptsNegative: false, paid: true, generates: true });
    await openai.start();
    assert.deepEqual(openai.readiness(), { ready: true });
    const result = await openai.generate(generateRequest({ prompt: 'a fox in the snow' }));
    assert.equal(result.kind, 'bytes');
    assert.deepEqual(Buffer.from(result.kind === 'bytes' ? result.bytes : []), fake.picture);
    const [body] = generations(fake);
    assert.deepEqual(body, { model: 'dall-e-3', prompt: 'a fox in the snow', n: 1, size: '1024x1792', response_format: 'b64_json' });
    assert.ok(fake.requests.every((request) => request.headers.authorization === `Bearer ${KEY}`));
    const details = result.kind === 'bytes' ? result.details : undefined;
    assert.equal(details?.['revised_prompt'], 'A detailed painting: a fox in the snow');
    assert.equal(details?.['size'], '1024x1792');
    assert.equal(details?.['model'], 'dall-e-3');
    await openai.close();
  });

  test('dall-e-2 with URL results: fetched from the blob host without the key; a long prompt is cut to 1000', async () => {
    const blobbed = await FakeOpenAi.start({ apiKey: KEY, blobHost: true });
    try {
      const long = 'a very long prompt '.repeat(80);
      const result = await provider(blobbed.url, { model: 'dall-e-2', responseFormat: 'url' }).generate(generateRequest({ prompt: long }));
      assert.deepEqual(Buffer.from(result.kind === 'bytes' ? result.bytes : []), blobbed.picture);
      const [body] = generations(blobbed);
      assert.equal(body?.['size'], '512x512');
      assert.equal(body?.['response_format'], 'url');
      assert.equal((body?.['prompt'] as string).length, 1000);
      assert.equal(result.kind === 'bytes' ? result.prompt : undefined, long.slice(0, 1000), 'the prompt actually sent is recorded');
      assert.equal(blobbed.blobRequests.length, 1);
      assert.equal(blobbed.blobRequests[0]?.headers.authorization, undefined, 'the key never goes to another host');
    } finally {
      await blobbed.close();
    }
  });

  test('gpt-image-1: no response_format, its own sizes; a WebP answer is kept as WebP', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    const result = await provider(fake.url, { model: 'gpt-image-1', outputFormat: 'webp', quality: 'low', style: 'vivid' }).generate(generateRequest());
    const bytes = Buffer.from(result.kind === 'bytes' ? result.bytes : []);
    assert.equal(detectFormat(bytes.subarray(0, 12)), 'webp');
    const [body] = generations(fake);
    assert.deepEqual(body, { model: 'gpt-image-1', prompt: 'a lighthouse on a cliff at dawn', n: 1, size: '1024x1536', quality: 'low', output_format: 'webp' });
    assert.equal((result.kind === 'bytes' ? result.details : undefined)?.['quality'], 'low');

    fake.requests.length = 0;
    await provider(fake.url, { model: 'gpt-image-2' }).generate(generateRequest());
    assert.equal(generations(fake)[0]?.['size'], '832x1248', 'gpt-image-2 takes free sizes: about 1 MP in the frame shape');
  });

  test('a wrong key: not ready with the reason, the job fails at once, the key never shown', async () => {
    const wrong = provider(fake.url, { apiKey: 'sk-wrong-9876543210' });
    await wrong.start();
    const readiness = wrong.readiness();
    assert.equal(readiness.ready, false);
    assert.match(readiness.ready ? '' : readiness.reason, /HTTP 401: the API key was refused; check providers\.openai\.api_key or the OPENAI_API_KEY environment variable \(invalid_api_key\)/);
    assert.ok(!JSON.stringify(readiness).includes('sk-wrong-9876543210'));
    fake.requests.length = 0;
    await assert.rejects(wrong.generate(generateRequest()), (error: RemoteError) => error.status === 401 && !error.retryable);
    assert.equal(generations(fake).length, 1);
  });

  test('no key at all: not ready, saying where to put one', async () => {
    const keyless = provider(fake.url, { apiKey: undefined });
    await keyless.start();
    assert.deepEqual(keyless.readiness(), { ready: false, reason: 'no API key: set providers.openai.api_key or the OPENAI_API_KEY environment variable' });
    await assert.rejects(keyless.generate(generateRequest()), /no API key/);
  });

  test('a refused prompt and an unsupported size are final, with readable messages', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    await assert.rejects(
      provider(fake.url).generate(generateRequest({ prompt: 'something forbidden' })),
      (error: RemoteError) => error.status === 400 && !error.retryable && /the prompt was refused by the safety system \(content_policy_violation\): Your request was rejected/.test(error.message),
    );
    await assert.rejects(
      provider(fake.url, { model: 'gpt-image-1' }).generate(generateRequest({ prompt: 'forbidden words' })),
      /refused by the safety system \(moderation_blocked\)/,
    );
    await assert.rejects(
      provider(fake.url, { size: '1000x1000' }).generate(generateRequest()),
      (error: RemoteError) => !error.retryable && /size 1000x1000 is not supported by model dall-e-3; it takes 1024x1024, 1792x1024, 1024x1792/.test(error.message),
    );
    assert.equal(generations(fake).length, 3, 'none was sent twice');
  });

  test('429 waits as long as retry-after says, then succeeds; a wait over the limit fails the job now', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    fake.rateLimit = { times: 1, retryAfterSeconds: 1 };
    const logger = createMemoryLogger();
    const result = await provider(fake.url, { logger }).generate(generateRequest());
    assert.equal(result.kind, 'bytes');
    assert.equal(generations(fake).length, 2);
    assert.ok(logger.records.some((record) => /attempt 1 failed/.test(record.message) && (record.meta?.['delayMs'] as number) >= 1000), 'the wait honours retry-after');

    fake.requests.length = 0;
    fake.rateLimit = { times: 1, retryAfterSeconds: 600 };
    await assert.rejects(provider(fake.url).generate(generateRequest()), (error: ProviderError) => !error.retryable && /asks to wait 600 s/.test(error.message));
    assert.equal(generations(fake).length, 1);
    fake.rateLimit = undefined;
  });

  test('an empty account (insufficient_quota) is final; a 500 is retried; a proxy page reads as text', async () => {
    fake.mode = 'insufficient-quota';
    fake.requests.length = 0;
    await assert.rejects(provider(fake.url).generate(generateRequest()), (error: ProviderError) => !error.retryable && /no quota left \(insufficient_quota\)/.test(error.message));
    assert.equal(generations(fake).length, 1);

    fake.mode = 'server-error';
    fake.requests.length = 0;
    await assert.rejects(provider(fake.url).generate(generateRequest()), /HTTP 500: server_error: The server had an error/);
    assert.equal(generations(fake).length, 3);

    fake.mode = 'html-502';
    await assert.rejects(provider(fake.url).generate(generateRequest()), /HTTP 502: 502 Bad Gateway 502 Bad Gateway nginx/);
    fake.mode = 'ok';
  });

  test('a paid request whose connection dropped, or that timed out, is not sent again', async () => {
    fake.mode = 'drop';
    fake.requests.length = 0;
    await assert.rejects(provider(fake.url).generate(generateRequest()), /cannot reach/);
    assert.equal(generations(fake).length, 1);
    fake.mode = 'ok';
    fake.delayMs = 300;
    fake.requests.length = 0;
    await assert.rejects(provider(fake.url, { timeoutMs: 50 }).generate(generateRequest()), /no answer from .* within/);
    assert.equal(generations(fake).length, 1);
    fake.delayMs = 0;
    fake.mode = 'gateway-timeout';
    fake.requests.length = 0;
    await assert.rejects(provider(fake.url).generate(generateRequest()), (error: ProviderError) => !error.retryable && /HTTP 504/.test(error.message));
    assert.equal(generations(fake).length, 1, 'a gateway timeout is a timeout: the picture may still be made, and billed');
    fake.mode = 'ok';
  });

  test('broken JSON is an invalid answer; an abort rejects with its reason', async () => {
    fake.mode = 'broken-json';
    await assert.rejects(provider(fake.url).generate(generateRequest()), (error: RemoteError) => error.failure === 'invalid-response');
    fake.mode = 'ok';
    fake.delayMs = 500;
    const controller = new AbortController();
    const pending = provider(fake.url).generate(generateRequest({ signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('cancelled by the test')), 20);
    await assert.rejects(pending, /cancelled by the test/);
    fake.delayMs = 0;
  });
});

describe('providers.openai options', () => {
  test('OPENAI_API_KEY from the environment, a base_url ending in /v1, the key kept out of logs', async () => {
    const fake = await FakeOpenAi.start({ apiKey: KEY });
    const context = providerContext({ OPENAI_API_KEY: KEY });
    try {
      const openai = createOpenAiProvider({ base_url: `${fake.url}/v1`, model: 'dall-e-2', daily_limit: 20 }, context, 'openai', 'openai');
      await openai.start();
      assert.deepEqual(openai.readiness(), { ready: true });
      await openai.generate(generateRequest());
      assert.equal(context.secrets.redact(`Bearer ${KEY}`), 'Bearer [redacted]');
      assert.ok(!JSON.stringify(context.logs).includes(KEY));
      await openai.close();
    } finally {
      await fake.close();
    }
  });

  test('mistakes are named; keys the flavor does not use are warned about', () => {
    assert.throws(() => createOpenAiProvider({ flavor: 'dalle' }, providerContext(), 'openai', 'openai'), /providers\.openai\.flavor: expected openai, localai or qwen/);
    assert.throws(() => createOpenAiProvider({ size: 'big' }, providerContext(), 'openai', 'openai'), /providers\.openai\.size: expected a size like "1024x1536"/);
    assert.throws(() => createOpenAiProvider({}, providerContext(), 'localai', 'localai'), (error: ConfigError) => error instanceof ConfigError && /providers\.localai\.base_url/.test(error.message));
    const context = providerContext();
    createOpenAiProvider({ api_key: KEY, steps: 20, style: 'natural' }, context, 'openai', 'openai');
    assert.ok(context.logs.some((record) => record.level === 'warn' && /providers\.openai: steps is not used by flavor openai; ignored/.test(record.message)));
  });
});

describe('openai through the server', () => {
  test('the frame gets a picture made by the OpenAI API, with the key from the environment', async () => {
    const fake = await FakeOpenAi.start({ apiKey: KEY });
    const server = await startTestServer({
      environment: { OPENAI_API_KEY: KEY },
      optionsYaml: ['providers:', '  openai:', `    base_url: ${fake.url}`, '    model: gpt-image-1', '    quality: low', ''].join('\n'),
    });
    try {
      const id = await startAndWait(server.url, { type: 'openai', prompt: 'a quiet harbour', negative: 'boats' });
      const picture = server.library.get(server.frames.get(id)?.pictureName ?? '');
      assert.equal(picture?.provider, 'openai');
      assert.equal(picture?.format, 'png');
      assert.equal(picture?.negative, 'boats', 'recorded as the frame asked, though OpenAI takes none');
      assert.equal(picture?.details?.['size'], '1024x1536');
      assert.equal(generations(fake)[0]?.['prompt'], 'a quiet harbour');
      assert.ok(!JSON.stringify(server.logs).includes(KEY));
    } finally {
      await server.dispose();
      await fake.close();
    }
  });

  test('an unreachable API: not ready, and a stored picture', async () => {
    const server = await startTestServer({
      environment: { OPENAI_API_KEY: KEY },
      optionsYaml: ['providers:', '  openai:', `    base_url: ${await closedUrl()}`, ''].join('\n'),
    });
    try {
      await addEarlierPicture(server, '#663322');
      assert.ok(server.logs.some((record) => /provider openai: not ready: cannot reach/.test(record.message)));
      const id = await startAndWait(server.url, { type: 'auto' });
      assert.equal(server.frames.get(id)?.source, 'library');
      assert.equal(server.library.size, 1);
    } finally {
      await server.dispose();
    }
  });
});
