/** The FooocusAPI provider (the newer all-in-one API) against a local fake of its documented shapes. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FooocusProviderOptions } from '../../src/providers/fooocus/fooocus-job-provider.js';
import { createFooocusApiProvider } from '../../src/providers/fooocus/fooocus-options.js';
import { FooocusApiProvider } from '../../src/providers/fooocus/fooocusapi-provider.js';
import type { RemoteError } from '../../src/providers/http/remote-error.js';
import { closedUrl } from '../support/fake-http-kit.js';
import { FakeFooocusApi } from '../support/fake-fooocusapi.js';
import { assertFinalInEachMode, fooocusTestOptions, submittedBody } from '../support/fooocus-kit.js';
import { generateRequest, providerContext } from '../support/generate-request.js';
import { addEarlierPicture } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

function provider(baseUrl: string, overrides: Partial<FooocusProviderOptions> = {}): FooocusApiProvider {
  return new FooocusApiProvider({ ...fooocusTestOptions(baseUrl), ...overrides });
}

describe('FooocusAPI provider', () => {
  let fake: FakeFooocusApi;
  before(async () => {
    fake = await FakeFooocusApi.start({ advertisedBase: 'http://0.0.0.0:7866' });
  });
  after(async () => {
    await fake.close();
  });

  test('queues an async task, polls /tasks/{id} and fetches the result URL through base_url', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    const fooocus = provider(fake.url, { styles: ['Fooocus V2'] });
    await fooocus.start();
    assert.deepEqual(fooocus.readiness(), { ready: true });
    const request = generateRequest({ width: 480, height: 320, negative: 'text' });
    const result = await fooocus.generate(request);
    assert.equal(result.kind, 'bytes');
    assert.deepEqual(Buffer.from(result.kind === 'bytes' ? result.bytes : []), fake.picture);
    const body = submittedBody(fake);
    assert.equal(body['async_process'], true);
    assert.equal(body['aspect_ratios_selection'], '1216*832', 'a landscape frame gets a landscape size');
    assert.equal(body['negative_prompt'], 'text');
    assert.equal(body['image_seed'], 424242);
    assert.deepEqual(body['style_selections'], ['Fooocus V2']);
    const task = [...fake.tasks.keys()][0];
    assert.deepEqual(request.saved, [{ provider: 'fooocusapi', job: task }]);
    assert.ok(fake.requests.some((seen) => seen.path === `/tasks/${task}`));
    assert.ok(fake.requests.some((seen) => seen.path === `/outputs/2026-03-01/${task}.png`), 'the 0.0.0.0 URL was fetched from the configured server');
    assert.ok(request.progress.some((progress) => progress.step > 0 && progress.step < 100 && progress.preview !== undefined), 'progress and preview of the running record');
    assert.equal(request.progress.at(-1)?.step, 100);
    await fooocus.close();
  });

  test('relative result URLs and results stored as a JSON string work too', async () => {
    const relative = await FakeFooocusApi.start({ relativeUrls: true });
    try {
      relative.mode = 'string-result';
      const result = await provider(relative.url).generate(generateRequest());
      assert.deepEqual(Buffer.from(result.kind === 'bytes' ? result.bytes : []), relative.picture);
    } finally {
      await relative.close();
    }
  });

  test('an unknown task (200 []), a stopped task and an empty result are final', async () => {
    await assertFinalInEachMode(fake, () => provider(fake.url), [
      ['forget', /does not know task [0-9a-f]+/],
      ['stop', /was stopped on the server \(stop\)/],
      ['empty-result', /without a picture/],
    ]);
  });

  test('a saved task is polled on after a restart instead of queuing another', async () => {
    fake.mode = 'ok';
    fake.requests.length = 0;
    const first = generateRequest();
    await provider(fake.url).generate(first);
    fake.requests.length = 0;
    const result = await provider(fake.url).generate(generateRequest({ saved: first.saved[0] }));
    assert.equal(result.kind, 'bytes');
    assert.equal(fake.submissions().length, 0);
    // Another API's saved state is not taken for ours.
    fake.requests.length = 0;
    await provider(fake.url).generate(generateRequest({ saved: { provider: 'fooocus-api', job: 'abc' } }));
    assert.equal(fake.submissions().length, 1);
  });

  test('a wrong API key: not ready, and generate fails at once with 403', async () => {
    const locked = await FakeFooocusApi.start({ apiKey: 'fooocusapi-key-123' });
    try {
      const wrong = provider(locked.url, { id: 'fapi', apiKey: 'wrong-key-456' });
      await wrong.start();
      const readiness = wrong.readiness();
      assert.match(readiness.ready ? '' : readiness.reason, /all-models answered HTTP 403: the server refused the API key; check providers\.fapi\.api_key/);
      await assert.rejects(wrong.generate(generateRequest()), (error: RemoteError) => error.status === 403);
      assert.equal(locked.submissions().length, 1);
      const right = provider(locked.url, { apiKey: 'fooocusapi-key-123' });
      assert.equal((await right.generate(generateRequest())).kind, 'bytes');
    } finally {
      await locked.close();
    }
  });

  test('broken JSON is an invalid answer, not a crash', async () => {
    fake.mode = 'broken-json';
    await assert.rejects(provider(fake.url).generate(generateRequest()), (error: RemoteError) => error.failure === 'invalid-response');
    fake.mode = 'ok';
  });
});

describe('fooocusapi through the server', () => {
  test('the frame gets a picture made by FooocusAPI', async () => {
    const fake = await FakeFooocusApi.start({ advertisedBase: 'http://fooocus-container:7866' });
    const server = await startTestServer({
      optionsYaml: ['providers:', '  fooocusapi:', `    base_url: ${fake.url}`, '    performance_selection: Quality', '    poll_interval_seconds: 0.02', ''].join('\n'),
    });
    try {
      const id = await startAndWait(server.url, { type: 'fooocusapi', prompt: 'a quiet harbour' });
      const picture = server.library.get(server.frames.get(id)?.pictureName ?? '');
      assert.equal(picture?.provider, 'fooocusapi');
      assert.equal(picture?.format, 'png');
      assert.equal(picture?.details?.['performance_selection'], 'Quality');
      assert.equal(createFooocusApiProvider({ base_url: fake.url }, providerContext()).displayName, 'FooocusAPI');
    } finally {
      await server.dispose();
      await fake.close();
    }
  });

  test('a FooocusAPI that is down: a stored picture', async () => {
    const server = await startTestServer({ optionsYaml: ['providers:', '  fooocusapi:', `    base_url: ${await closedUrl()}`, ''].join('\n') });
    try {
      await addEarlierPicture(server, '#446622');
      const id = await startAndWait(server.url, { type: 'fooocusapi' });
      assert.equal(server.frames.get(id)?.source, 'library');
      assert.equal(server.library.size, 1);
    } finally {
      await server.dispose();
    }
  });
});
