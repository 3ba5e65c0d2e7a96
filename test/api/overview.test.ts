/** /api/summary, /api/providers, /api/auth and unknown API routes. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/util/clock.js';
import { FixedBytesProvider, HangingProvider } from '../support/test-providers.js';
import { startTestServer } from '../support/test-server.js';
import { admin, call, jpeg, TOKEN_OPTIONS, waitUntilFinished } from './api-client.js';

describe('overview API', () => {
  test('providers: ready or why not, next allowed time, today\'s counts and limit', async () => {
    const clock = new ManualClock(new Date('2026-06-10T10:00:00'));
    const fixed = new FixedBytesProvider('fixed', await jpeg(320, 480, '#114477'));
    const sleepy = new HangingProvider('sleepy', 'Sleepy remote');
    sleepy.ready = false;
    const server = await startTestServer({
      clock,
      optionsYaml: `${TOKEN_OPTIONS}providers:\n  offline:\n    enabled: false\n  fixed:\n    daily_limit: 1\n`,
      extraProviders: [fixed, sleepy],
    });
    try {
      const before = await call(server.url, 'GET', '/api/providers');
      assert.equal(before.status, 200);
      assert.deepEqual(before.json.providers, [
        {
          id: 'fixed',
          name: 'fixed',
          ready: true,
          reason: null,
          paid: false,
          generates: true,
          acceptsPrompt: true,
          nextAllowedAt: null,
          today: { calls: 0, successes: 0, failures: 0, limit: 1 },
        },
        {
          id: 'sleepy',
          name: 'Sleepy remote',
          ready: false,
          reason: 'switched off by the test',
          paid: false,
          generates: true,
          acceptsPrompt: true,
          nextAllowedAt: null,
          today: { calls: 0, successes: 0, failures: 0, limit: null },
        },
      ]);
      const started = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'fixed' } });
      await waitUntilFinished(server.url, started.json.generation.id);
      const after = (await call(server.url, 'GET', '/api/providers')).json.providers[0];
      assert.equal(after.ready, false);
      assert.equal(after.reason, 'daily limit of 1 reached');
      assert.equal(after.nextAllowedAt, new Date('2026-06-11T00:00:00').toISOString());
      assert.deepEqual(after.today, { calls: 1, successes: 1, failures: 0, limit: 1 });
      const refused = await admin(server.url, 'POST', '/api/generations', { body: { provider: 'fixed' } });
      assert.equal(refused.status, 409);
      assert.equal(refused.json.error.message, 'daily limit of 1 reached');
    } finally {
      await server.dispose();
    }
  });

  test('the summary is what /status.json answers', async () => {
    const clock = new ManualClock(new Date('2026-06-10T10:00:00Z'));
    const server = await startTestServer({ clock, optionsYaml: TOKEN_OPTIONS });
    try {
      const summary = await call(server.url, 'GET', '/api/summary');
      assert.equal(summary.status, 200);
      assert.equal(summary.headers.get('cache-control'), 'no-store');
      const status = await call(server.url, 'GET', '/status.json');
      // Requests counted between the two calls differ; everything else is the same object.
      assert.deepEqual({ ...summary.json, requests: undefined }, { ...status.json, requests: undefined });
      assert.equal(summary.json.providers[0].id, 'offline');
    } finally {
      await server.dispose();
    }
  });

  test('an unknown API route or method is 404/405 in the error shape', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      const unknown = await call(server.url, 'GET', '/api/nothing-here');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.error.code, 'NotFound');
      const method = await admin(server.url, 'PATCH', '/api/prompts');
      assert.equal(method.status, 405);
      assert.equal(method.json.error.code, 'MethodNotAllowed');
    } finally {
      await server.dispose();
    }
  });
});
