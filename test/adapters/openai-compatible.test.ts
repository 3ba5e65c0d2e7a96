/** The OpenAI-compatible flavors: LocalAI and the Qwen-Image service, against local fakes. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteError } from '../../src/providers/http/remote-error.js';
import { openAiError } from '../../src/providers/openai/openai-errors.js';
import { createOpenAiProvider } from '../../src/providers/openai/openai-options.js';
import { OpenAiProvider, type OpenAiProviderOptions } from '../../src/providers/openai/openai-provider.js';
import { closedUrl } from '../support/fake-http-kit.js';
import { generateRequest, providerContext } from '../support/generate-request.js';
import { FakeOpenAi } from '../support/fake-openai.js';
import { openAiTestOptions } from '../support/openai-kit.js';
import { addEarlierPicture } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

function provider(baseUrl: string, overrides: Partial<OpenAiProviderOptions> & Pick<OpenAiProviderOptions, 'flavor'>): OpenAiProvider {
  return new OpenAiProvider({ ...openAiTestOptions(baseUrl, overrides.flavor), ...overrides });
}

describe('LocalAI flavor', () => {
  test('the negative goes after a |, steps as step, the seed and the frame-shaped size are sent', async () => {
    const fake = await FakeOpenAi.start({ profile: 'localai' });
    try {
      const localai = provider(fake.url, { flavor: 'localai', model: 'stablediffusion', steps: 25, negativePrompt: 'blurry' });
      assert.deepEqual(localai.capabilities, { acceptsPrompt: true, acceptsNegative: true, paid: false, generates: true });
      await localai.start();
      assert.deepEqual(localai.readiness(), { ready: true });
      const result = await localai.generate(generateRequest({ prompt: 'a cat | a dog', negative: 'text' }));
      assert.deepEqual(Buffer.from(result.kind === 'bytes' ? result.bytes : []), fake.picture);
      const seen = fake.generations[0];
      assert.equal(seen?.positive, 'a cat   a dog', 'a | inside the prompt cannot start the negative');
      assert.equal(seen?.negative, 'text');
      assert.equal(seen?.steps, 25);
      assert.equal(seen?.seed, 424242);
      assert.deepEqual([seen?.width, seen?.height], [512, 768], 'size 640 (the default): SD 1.5 pixels in the 2:3 shape');
      assert.equal(seen?.body['model'], 'stablediffusion');
      assert.equal(seen?.body['response_format'], 'b64_json');

      await localai.generate(generateRequest({ negative: '' }));
      assert.equal(fake.generations[1]?.body['prompt'], 'a lighthouse on a cliff at dawn', 'no | without a negative');
      await localai.close();
    } finally {
      await fake.close();
    }
  });

  test('URL results (LocalAI default) are fetched; an optional key is sent; a 500 in its envelope is retried', async () => {
    const fake = await FakeOpenAi.start({ profile: 'localai', apiKey: 'localai-key-123' });
    try {
      const localai = provider(fake.url, { flavor: 'localai', responseFormat: 'url', apiKey: 'localai-key-123', seedMode: 'random' });
      const result = await localai.generate(generateRequest());
      assert.deepEqual(Buffer.from(result.kind === 'bytes' ? result.bytes : []), fake.picture);
      assert.ok(fake.requests.some((request) => request.path.startsWith('/generated-images/') && request.headers.authorization === 'Bearer localai-key-123'), 'same server: fetched with the key');
      assert.equal(fake.generations[0]?.seed, undefined, 'seed random: left to the server');

      fake.mode = 'server-error';
      fake.requests.length = 0;
      await assert.rejects(localai.generate(generateRequest()), (error: RemoteError) => error.status === 500 && /HTTP 500: rpc error: code = Unknown desc = backend failed/.test(error.message));
      assert.equal(fake.requests.filter((request) => request.path === '/v1/images/generations').length, 3);

      fake.mode = 'drop';
      fake.requests.length = 0;
      await assert.rejects(localai.generate(generateRequest()), /cannot reach/);
      assert.equal(fake.requests.length, 1, 'a connection that drops after the request left may have started the job: not sent again');
      assert.equal(localai.readiness().ready, false);

      const keyless = provider(fake.url, { flavor: 'localai' });
      fake.mode = 'ok';
      await keyless.start();
      assert.match((keyless.readiness() as { reason: string }).reason, /HTTP 401: the API key was refused; check providers\.localai\.api_key \(401\): An authentication key is required/);
    } finally {
      await fake.close();
    }
  });
});

describe('Qwen-Image flavor', () => {
  test('width, height, negative_prompt, steps, true_cfg_scale and always the request seed; no auth', async () => {
    const fake = await FakeOpenAi.start({ profile: 'qwen' });
    try {
      const qwen = provider(fake.url, { flavor: 'qwen', steps: 30, trueCfgScale: 4.5, negativePrompt: 'low quality' });
      await qwen.start();
      assert.deepEqual(qwen.readiness(), { ready: true }, 'its FastAPI schema answers the readiness check');
      const first = await qwen.generate(generateRequest({ seed: 17 }));
      const second = await qwen.generate(generateRequest({ seed: 99, negative: 'people' }));
      assert.equal(first.kind, 'bytes');
      assert.deepEqual(fake.generations.map((seen) => seen.seed), [17, 99], 'never the service default of 42');
      const body = fake.generations[0]?.body ?? {};
      assert.deepEqual(body, { prompt: 'a lighthouse on a cliff at dawn', negative_prompt: 'low quality', width: 832, height: 1248, num_inference_steps: 30, true_cfg_scale: 4.5, seed: 17 });
      assert.equal(fake.generations[1]?.negative, 'people');
      assert.ok(fake.requests.every((request) => request.headers.authorization === undefined));
      assert.equal(second.kind === 'bytes' ? second.details?.['size'] : undefined, '832x1248');
    } finally {
      await fake.close();
    }
  });

  test('one picture at a time: concurrent generations queue here, not on the GPU', async () => {
    const fake = await FakeOpenAi.start({ profile: 'qwen' });
    fake.delayMs = 40;
    try {
      const qwen = provider(fake.url, { flavor: 'qwen' });
      await Promise.all([qwen.generate(generateRequest()), qwen.generate(generateRequest()), qwen.generate(generateRequest())]);
      assert.equal(fake.generations.length, 3);
      assert.equal(fake.maxConcurrent, 1);
    } finally {
      await fake.close();
    }
  });

  test('a proxy\'s gateway timeout (504) is not sent again: the service is still making that picture', async () => {
    const fake = await FakeOpenAi.start({ profile: 'qwen' });
    try {
      fake.mode = 'gateway-timeout';
      await assert.rejects(provider(fake.url, { flavor: 'qwen' }).generate(generateRequest()), (error: RemoteError) => !error.retryable && /HTTP 504: 504 Gateway Time-out/.test(error.message));
      assert.equal(fake.requests.filter((request) => request.path === '/v1/images/generations').length, 1);
    } finally {
      await fake.close();
    }
  });

  test('FastAPI 422 bodies name the field', async () => {
    const fake = await FakeOpenAi.start({ profile: 'qwen' });
    try {
      const response = await fetch(`${fake.url}/v1/images/generations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ width: 512 }) });
      const body = Buffer.from(await response.arrayBuffer());
      const error = openAiError({ status: response.status, headers: {}, body, url: `${fake.url}/v1/images/generations` }, { providerId: 'qwen', size: '512x512', keyHint: 'x' });
      assert.match(error.message, /answered HTTP 422: prompt: Field required/);
      assert.equal(error.retryable, false);
    } finally {
      await fake.close();
    }
  });

  test('options: api_key is not sent to the service, with a warning; base_url is required', async () => {
    const context = providerContext();
    const qwen = createOpenAiProvider({ base_url: 'http://gpu:8000', api_key: 'qwen-key-123', quality: 'hd' }, context, 'qwen', 'qwen');
    assert.equal(qwen.displayName, 'Qwen-Image service');
    assert.ok(context.logs.some((record) => /quality is not used by flavor qwen/.test(record.message)));
    assert.ok(context.logs.some((record) => /no authentication; api_key is not sent/.test(record.message)));
    assert.throws(() => createOpenAiProvider({ flavor: 'qwen' }, providerContext(), 'images', 'openai'), /providers\.images\.base_url/);
  });
});

describe('OpenAI-compatible flavors through the server', () => {
  test('LocalAI and Qwen sections each make the frame a picture', async () => {
    const localai = await FakeOpenAi.start({ profile: 'localai' });
    const qwen = await FakeOpenAi.start({ profile: 'qwen' });
    const server = await startTestServer({
      optionsYaml: [
        'providers:',
        '  localai:',
        `    base_url: ${localai.url}/v1`,
        '    response_format: url',
        '  qwen:',
        `    base_url: ${qwen.url}`,
        '    steps: 20',
        '',
      ].join('\n'),
    });
    try {
      const fromLocalAi = await startAndWait(server.url, { type: 'localai', prompt: 'a red barn', negative: 'fog' });
      const localPicture = server.library.get(server.frames.get(fromLocalAi)?.pictureName ?? '');
      assert.equal(localPicture?.provider, 'localai');
      assert.equal(localPicture?.negative, 'fog');
      assert.equal(localai.generations[0]?.negative, 'fog');

      const fromQwen = await startAndWait(server.url, { type: 'qwen', prompt: 'a red barn' });
      const qwenPicture = server.library.get(server.frames.get(fromQwen)?.pictureName ?? '');
      assert.equal(qwenPicture?.provider, 'qwen');
      assert.equal(qwenPicture?.seed, qwen.generations[0]?.seed, 'the seed sent is the one recorded');
      assert.equal(qwenPicture?.details?.['steps'], 20);
    } finally {
      await server.dispose();
      await localai.close();
      await qwen.close();
    }
  });

  test('a Qwen service that is down: a stored picture', async () => {
    const server = await startTestServer({ optionsYaml: ['providers:', '  qwen:', `    base_url: ${await closedUrl()}`, ''].join('\n') });
    try {
      await addEarlierPicture(server, '#226644');
      const id = await startAndWait(server.url, { type: 'qwen' });
      assert.equal(server.frames.get(id)?.source, 'library');
      assert.equal(server.library.size, 1);
    } finally {
      await server.dispose();
    }
  });
});

