/** /api/generations over HTTP: starting, refusing, and following a generation live. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { FailingProvider, HangingProvider, PromptlessProvider, SteppedProvider } from '../support/test-providers.js';
import { startTestServer } from '../support/test-server.js';
import { eventually } from '../support/generate-request.js';
import { admin, call, jpeg, nextEvent, openEvents, TOKEN_OPTIONS, waitUntilFinished } from './api-client.js';

const ONLY_TEST_PROVIDERS = `${TOKEN_OPTIONS}providers:\n  offline:\n    enabled: false\n`;

describe('generations API', () => {
  test('starts a generation with a one-off prompt and shows its picture when done', async () => {
    const provider = new SteppedProvider('stepped', await jpeg(320, 480, '#336699'), 2);
    const server = await startTestServer({ optionsYaml: ONLY_TEST_PROVIDERS, extraProviders: [provider] });
    try {
      const started = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'stepped', prompt: 'a red kite', negative: 'clouds' } });
      assert.equal(started.status, 202);
      const generation = started.json.generation;
      assert.equal(started.headers.get('location'), `/api/generations/${generation.id}`);
      assert.equal(generation.status, 'pending');
      assert.equal(generation.type, 'stepped');
      assert.equal(generation.picture, null);
      for (let i = 0; i < 3; i++) provider.step();
      const done = await waitUntilFinished(server.url, generation.id);
      assert.equal(done.status, 'done');
      assert.equal(done['source'], 'provider');
      assert.equal(done['provider'], 'stepped');
      assert.deepEqual(done['progress'], { step: 2, total: 2 });
      const picture = done['picture'] as { name: string; prompt: string; negative: string };
      assert.equal(picture.prompt, 'a red kite');
      assert.equal(picture.negative, 'clouds');
      assert.equal(provider.calls[0]?.prompt, 'a red kite');
      assert.ok(server.library.get(picture.name));
    } finally {
      await server.dispose();
    }
  });

  test('refuses instead of serving a stored picture: provider not ready, none ready, a prompt it cannot take', async () => {
    const off = new HangingProvider('sleepy');
    off.ready = false;
    const photos = new PromptlessProvider('photos', await jpeg(32, 48, '#123456'));
    photos.ready = false;
    const server = await startTestServer({ optionsYaml: ONLY_TEST_PROVIDERS, extraProviders: [off, photos] });
    try {
      const named = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'sleepy' } });
      assert.equal(named.status, 409);
      assert.equal(named.json.error.code, 'Conflict');
      assert.equal(named.json.error.message, 'switched off by the test');
      const any = await admin(server.url, 'POST', '/api/generations', { body: {} });
      assert.equal(any.status, 409);
      assert.equal(any.json.error.message, 'no provider is ready (sleepy: switched off by the test; photos: switched off by the test)');
      const prompted = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'photos', prompt: 'a cat' } });
      assert.equal(prompted.status, 400);
      assert.match(prompted.json.error.message, /prompt: provider photos does not take a prompt/);
      assert.equal(off.calls.length + photos.calls.length, 0);
      assert.equal(server.library.size, 0, 'nothing was made or served');
    } finally {
      await server.dispose();
    }
  });

  test('without a name, any ready provider makes it', async () => {
    const photos = new PromptlessProvider('photos', await jpeg(32, 48, '#123456'));
    const server = await startTestServer({ optionsYaml: ONLY_TEST_PROVIDERS, extraProviders: [photos] });
    try {
      const started = await admin(server.url, 'POST', '/api/generations', { body: {} });
      assert.equal(started.status, 202);
      assert.equal(started.json.generation.type, 'ydart');
      const done = await waitUntilFinished(server.url, started.json.generation.id);
      assert.equal(done['provider'], 'photos');
      const withPrompt = await admin(server.url, 'POST', '/api/generations', { body: { prompt: 'a cat' } });
      assert.equal(withPrompt.status, 409, 'no provider takes a prompt');
    } finally {
      await server.dispose();
    }
  });

  test('refusals: no token, wrong token, bad input, unknown ids', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      assert.equal((await call(server.url, 'POST', '/api/generations', { body: {} })).status, 401);
      assert.equal((await call(server.url, 'POST', '/api/generations', { body: {}, token: 'not-the-token-0123456' })).status, 401);
      for (const [body, message] of [
        [{ provider: 'nobody' }, /provider: unknown provider "nobody"/],
        [{ provider: 5 }, /provider: expected a provider id/],
        [{ provider: '' }, /provider: expected a provider id/],
        [{ prompt: '   ' }, /prompt: must not be empty/],
        [{ prompt: ['a'] }, /prompt: expected a string/],
        [{ negative: 'x'.repeat(2001) }, /negative: must be at most 2000 characters/],
        ['just text', /Invalid request/],
      ] as const) {
        const response = await admin(server.url, 'POST', '/api/generations', { body });
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.match(response.json.error.message, message);
      }
      assert.equal((await admin(server.url, 'POST', '/api/generations', { rawBody: '{' })).status, 400);
      assert.equal((await admin(server.url, 'POST', '/api/generations', { rawBody: JSON.stringify({ prompt: 'x'.repeat(80_000) }) })).status, 413);
      assert.equal((await call(server.url, 'GET', '/api/generations/unknown-id')).status, 404);
      assert.equal((await call(server.url, 'GET', '/api/generations/unknown-id/events')).status, 404);
      assert.equal((await call(server.url, 'GET', '/api/generations/bad%20id')).status, 400);
      assert.equal((await call(server.url, 'GET', '/api/generations/bad%20id/events')).status, 400);
    } finally {
      await server.dispose();
    }
  });
});

describe('live progress (Server-Sent Events)', () => {
  test('progress events arrive as the provider reports them, then done with the picture, then the stream ends', async () => {
    const preview = await jpeg(8, 12, '#ff0000');
    const provider = new SteppedProvider('stepped', await jpeg(320, 480, '#336699'), 3, preview);
    const server = await startTestServer({ optionsYaml: ONLY_TEST_PROVIDERS, extraProviders: [provider] });
    try {
      const { json } = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'stepped' } });
      const events = await openEvents(`${server.url}/api/generations/${json.generation.id}/events`);
      assert.equal(events.status, 200);
      assert.equal(events.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.equal(events.headers.get('cache-control'), 'no-cache, no-transform');
      const state = await nextEvent(events);
      assert.equal(state?.event, 'message', 'the current state first');
      assert.equal(state?.data.status, 'pending');
      assert.equal(state?.data.progress, null);
      for (let step = 1; step <= 3; step++) {
        provider.step();
        const progress = await nextEvent(events);
        assert.equal(progress?.event, 'progress');
        assert.equal(progress?.data.step, step);
        assert.equal(progress?.data.total, 3);
        if (step === 1) assert.equal(progress?.data.preview, `data:image/jpeg;base64,${preview.toString('base64')}`);
        else assert.equal(progress?.data.preview, undefined);
      }
      provider.step();
      const done = await nextEvent(events);
      assert.equal(done?.event, 'done');
      assert.equal(done?.data.status, 'done');
      assert.ok(server.library.get(done?.data.picture.name));
      assert.equal(await events.next(), undefined, 'the stream ends');
      await eventually(() => server.operations.listenerCount() === 0 && server.eventStreams.size === 0, 'the stream is forgotten');
    } finally {
      await server.dispose();
    }
  });

  test('a finished generation replays its last progress before done', async () => {
    const provider = new SteppedProvider('stepped', await jpeg(320, 480, '#336699'), 2, await jpeg(8, 12, '#00ff00'));
    const server = await startTestServer({ optionsYaml: ONLY_TEST_PROVIDERS, extraProviders: [provider] });
    try {
      const { json } = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'stepped' } });
      for (let i = 0; i < 3; i++) provider.step();
      await waitUntilFinished(server.url, json.generation.id);
      const events = await openEvents(`${server.url}/api/generations/${json.generation.id}/events`);
      const all = await events.rest();
      assert.deepEqual(all.map((event) => event.event), ['message', 'progress', 'done']);
      assert.deepEqual(all[1]?.data, { step: 2, total: 2 }, 'the last progress; previews are dropped once done');
      assert.equal(all[2]?.data.status, 'done');
    } finally {
      await server.dispose();
    }
  });

  test('a failed generation ends with failed: the stored picture that stood in and the reason', async () => {
    const failing = new FailingProvider('broken');
    const server = await startTestServer({ optionsYaml: ONLY_TEST_PROVIDERS, extraProviders: [failing] });
    try {
      await server.library.add(await jpeg(32, 48, '#222222'), { provider: 'seeded' });
      const { json } = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'broken' } });
      const events = await openEvents(`${server.url}/api/generations/${json.generation.id}/events`);
      const all = await events.rest();
      const last = all[all.length - 1];
      assert.equal(last?.event, 'failed');
      assert.equal(last?.data.status, 'error');
      assert.equal(last?.data.source, 'fallback');
      assert.match(last?.data.note, /generation failed: remote service answered 500/);
    } finally {
      await server.dispose();
    }
  });

  test('with the offline provider: its steps, one with a preview, then done', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      const { json } = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'offline', prompt: 'a winter forest' } });
      const events = await openEvents(`${server.url}/api/generations/${json.generation.id}/events`);
      const all = await events.rest();
      // The stream may open after some steps: the state, then the last progress (replayed) or
      // each later one, then done.
      assert.equal(all[0]?.event, 'message');
      assert.equal(all[all.length - 1]?.event, 'done');
      const progress = all.filter((event) => event.event === 'progress').map((event) => event.data);
      assert.ok(progress.length >= 1);
      assert.deepEqual(progress.at(-1), { step: 3, total: 3 });
      const done = all[all.length - 1]?.data;
      assert.equal(done.picture.prompt, 'a winter forest');
      assert.equal(done.provider, 'offline');
    } finally {
      await server.dispose();
    }
  });

  test('the offline provider reports composing, rasterising with a preview, and encoding', async () => {
    // Watched from the operation store, which sees every step whenever a client connects.
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      const seen: Array<{ step: number; total: number; preview?: Uint8Array }> = [];
      const { json } = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'offline' } });
      const unsubscribe = server.operations.subscribe(json.generation.id, (_operation, change) => {
        if (change.progress) seen.push(change.progress);
      });
      await waitUntilFinished(server.url, json.generation.id);
      unsubscribe();
      // Steps already reported before subscribing are missed; those after are in order.
      assert.ok(seen.length >= 1);
      assert.deepEqual(seen.at(-1), { step: 3, total: 3 });
      const withPreview = seen.find((progress) => progress.preview !== undefined);
      if (withPreview) {
        const info = await sharp(withPreview.preview).metadata();
        assert.equal(info.format, 'jpeg');
        assert.ok((info.width ?? 0) <= 96 && (info.height ?? 0) <= 96);
      }
    } finally {
      await server.dispose();
    }
  });

  test('a client that disconnects leaves no listener behind', async () => {
    const provider = new SteppedProvider('stepped', await jpeg(320, 480, '#336699'), 5);
    const server = await startTestServer({ optionsYaml: ONLY_TEST_PROVIDERS, extraProviders: [provider] });
    try {
      const { json } = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'stepped' } });
      const id = json.generation.id as string;
      const readers = await Promise.all([1, 2, 3].map(() => openEvents(`${server.url}/api/generations/${id}/events`)));
      for (const reader of readers) assert.equal((await nextEvent(reader))?.event, 'message');
      assert.equal(server.operations.listenerCount(id), 3);
      assert.equal(server.eventStreams.size, 3);
      readers[0]?.close();
      readers[1]?.close();
      await eventually(() => server.operations.listenerCount(id) === 1 && server.eventStreams.size === 1, 'two listeners are gone');
      const remaining = readers[2];
      assert.ok(remaining);
      provider.step();
      assert.equal((await nextEvent(remaining))?.event, 'progress', 'the remaining client still hears');
      remaining.close();
      await eventually(() => server.operations.listenerCount() === 0 && server.eventStreams.size === 0, 'every listener is gone');
      for (let i = 0; i < 5; i++) provider.step();
      assert.equal((await waitUntilFinished(server.url, id)).status, 'done', 'the generation carries on without listeners');
    } finally {
      await server.dispose();
    }
  });

  test('shutdown ends open streams instead of waiting for them', async () => {
    const provider = new HangingProvider('hanging');
    const server = await startTestServer({ optionsYaml: ONLY_TEST_PROVIDERS, extraProviders: [provider] });
    const { json } = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'hanging' } });
    const events = await openEvents(`${server.url}/api/generations/${json.generation.id}/events`);
    assert.equal((await nextEvent(events))?.event, 'message');
    await server.dispose();
    const rest = await events.rest();
    assert.ok(rest.every((event) => event.event !== 'done'), 'ended, not finished');
    assert.equal(server.operations.listenerCount(), 0);
  });
});
