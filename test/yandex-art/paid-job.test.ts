/**
 * The review's cases: a paid operation is never lost to an abort that lands while its POST
 * is in flight, nor to a poll outage shorter than max_wait; a quota that asks for a long
 * wait does not hold the picture; and the documented operation shapes that the main suite
 * does not send (done:false with an error, error.code 0, dropped connections).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { RemoteHttp } from '../../src/providers/http/remote-http.js';
import { authHeaders } from '../../src/providers/yandex-art/yandex-art-api.js';
import { ProviderError } from '../../src/providers/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { INTERNAL_ERROR, QUOTA_EXCEEDED, UNAVAILABLE, FakeYandexArt } from '../support/fake-yandex-art.js';
import { eventually, rejection } from '../support/generate-request.js';
import { API_KEY, everythingSaid, FOLDER, request, withHarness } from './harness.js';

describe('YandexART: a paid operation is not lost', () => {
  test('an abort while the POST is in flight waits for its answer and saves the id first', async () => {
    await withHarness({}, async (h) => {
      h.fake.postDelayMs = 300;
      h.fake.hold = true;
      const abort = new AbortController();
      const job = request(h.fake, { signal: abort.signal });
      const running = h.provider.generate(job);
      await eventually(() => h.fake.posts.length === 1);
      abort.abort(new Error('the server is shutting down'));
      await assert.rejects(running, /shutting down/);
      await eventually(() => h.fake.operations.size === 1, 'the fake to make the operation');
      assert.equal(job.resume.saved.length, 1, 'its id was saved, so a restart resumes it');
      assert.equal((job.resume.saved[0] as { operationId: string }).operationId, [...h.fake.operations.keys()][0]);
      assert.equal(h.fake.posts.length, 1);
    });
  });

  test('a poll outage longer than max_attempts is waited out: the picture, one POST', async () => {
    await withHarness({ provider: { maxAttempts: 2 } }, async (h) => {
      h.fake.pollScript.push(INTERNAL_ERROR, 'drop', UNAVAILABLE, 'hang', QUOTA_EXCEEDED, 'drop');
      const result = await h.provider.generate(request(h.fake, {}));
      assert.equal(result.kind, 'bytes');
      assert.equal(h.fake.posts.length, 1);
      assert.equal(h.fake.polls.length, 7, 'six failed polls and the one that found it done');
    });
  });

  test('polls that keep failing are given up at max_wait, not before', async () => {
    const clock = new ManualClock(new Date(2026, 0, 15, 12, 0));
    await withHarness({ provider: { clock, maxWaitMs: 60 * 60_000, maxAttempts: 2, requestTimeoutMs: 150 } }, async (h) => {
      for (let i = 0; i < 1000; i += 1) h.fake.pollScript.push(i % 2 === 0 ? 'hang' : UNAVAILABLE);
      const running = h.provider.generate(request(h.fake));
      let settled = false;
      void running.catch(() => undefined).finally(() => (settled = true));
      await eventually(() => h.fake.polls.length >= 4, 'a fourth failed poll');
      assert.equal(settled, false, 'still polling after more failures than max_attempts');
      clock.advance(61 * 60_000);
      const error = await rejection(running);
      assert.ok(error instanceof ProviderError);
      assert.match(error.message, /operation fbv\w+ could not be polled for 61 minutes.*given up/);
      assert.equal(h.fake.posts.length, 1);
    });
  });

  test('a 401 on a poll: not ready, the job keeps waiting, and a new key in the file finishes it', async () => {
    await withHarness({}, async (h) => {
      h.fake.hold = true;
      const running = h.provider.generate(request(h.fake));
      await eventually(() => h.fake.operations.size === 1);
      // The key is revoked after the POST: polls now get the gateway's 401, which names the key.
      h.fake.credentials.delete(API_KEY);
      await eventually(() => h.fake.polls.filter((poll) => poll.status === 401).length >= 2);
      assert.equal(h.provider.readiness().ready, false, 'refused credentials stop paid requests');
      const { writeFile, utimes } = await import('node:fs/promises');
      h.fake.credentials.add('AQVN-rotated-key-0123456789abcdef');
      await writeFile(h.credentialsFile, JSON.stringify({ folder_id: FOLDER, api_key: 'AQVN-rotated-key-0123456789abcdef' }));
      await utimes(h.credentialsFile, new Date(), new Date(Date.now() + 5000));
      await h.provider.checkPending();
      h.fake.release();
      const result = await running;
      assert.equal(result.kind, 'bytes');
      assert.equal(h.fake.posts.length, 1);
      assert.equal(h.fake.polls.at(-1)?.authorization, 'Api-Key AQVN-rotated-key-0123456789abcdef');
      assert.ok(!everythingSaid(h.logger).includes(API_KEY), 'the echoed key is in no log line');
    });
  });

  test('credentials missing for a while during polling (a file being rewritten): waited out', async () => {
    await withHarness({ fake: { pendingPolls: 1 } }, async (h) => {
      const { writeFile, utimes } = await import('node:fs/promises');
      h.fake.hold = true;
      const running = h.provider.generate(request(h.fake));
      await eventually(() => h.fake.polls.length >= 1);
      await writeFile(h.credentialsFile, '');
      await h.provider.checkPending();
      assert.equal(h.provider.readiness().ready, false);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await writeFile(h.credentialsFile, JSON.stringify({ folder_id: FOLDER, api_key: API_KEY }));
      await utimes(h.credentialsFile, new Date(), new Date(Date.now() + 5000));
      await h.provider.checkPending();
      h.fake.release();
      const result = await running;
      assert.equal(result.kind, 'bytes');
      assert.equal(h.fake.posts.length, 1);
    });
  });
});

describe('YandexART: bounds and shapes', () => {
  test('a 429 whose Retry-After is longer than the back-off bound fails at once (a stored picture, not an hour of pending)', { timeout: 10_000 }, async () => {
    await withHarness({}, async (h) => {
      h.fake.postScript.push({ ...(QUOTA_EXCEEDED as { status: number; body: unknown }), headers: { 'Retry-After': '3600' } });
      const error = await rejection(h.provider.generate(request(h.fake)));
      assert.ok(error instanceof ProviderError && !error.retryable);
      assert.match(error.message, /HTTP 429.*asks to wait 60 minutes/);
      assert.equal(h.fake.posts.length, 1);
      assert.equal(h.provider.readiness().ready, true);
    });
  });

  test('done:false with an error is final', async () => {
    await withHarness({}, async (h) => {
      const id = (): string => [...h.fake.operations.keys()][0] ?? '';
      h.fake.hold = true;
      const running = h.provider.generate(request(h.fake));
      await eventually(() => h.fake.operations.size === 1);
      h.fake.pollScript.push({ status: 200, body: { id: id(), description: '', createdAt: null, createdBy: '', modifiedAt: null, done: false, metadata: null, error: { code: 9, message: 'failed precondition', details: [] } } });
      const error = await rejection(running);
      assert.match(error.message, /ended with error 9: failed precondition/);
      assert.equal(h.fake.polls.length, 1);
    });
  });

  test('error.code 0 means no error: pending goes on, and a done answer with code 0 is the picture', async () => {
    await withHarness({}, async (h) => {
      h.fake.hold = true;
      const running = h.provider.generate(request(h.fake));
      await eventually(() => h.fake.operations.size === 1);
      const id = [...h.fake.operations.keys()][0] ?? '';
      const base = { id, description: '', createdAt: null, createdBy: '', modifiedAt: null, metadata: null };
      h.fake.pollScript.push(
        { status: 200, body: { ...base, done: false, error: { code: 0, message: '', details: [] } } },
        { status: 200, body: { ...base, done: true, error: { code: 0, message: '', details: [] }, response: { '@type': 'x', image: h.fake.jpeg.toString('base64'), modelVersion: '' } } },
      );
      const result = await running;
      assert.equal(result.kind, 'bytes');
      assert.equal(h.fake.polls.length, 2);
    });
  });

  test('a POST whose connection drops is not sent again; a dropped poll is polled again', async () => {
    await withHarness({}, async (h) => {
      h.fake.postScript.push('drop');
      const error = await rejection(h.provider.generate(request(h.fake)));
      assert.match(error.message, /not sent again/);
      assert.equal(h.fake.posts.length, 1);
      h.fake.pollScript.push('drop');
      const result = await h.provider.generate(request(h.fake));
      assert.equal(result.kind, 'bytes');
      assert.equal(h.fake.posts.length, 2);
      assert.equal(h.fake.polls.length, 2);
    });
  });

  test('a timed-out request carries no key anywhere in its error, cause chain included', async () => {
    const fake = await FakeYandexArt.start({ folderId: FOLDER, credentials: [API_KEY] });
    try {
      fake.pollScript.push('hang');
      const http = new RemoteHttp({ baseUrl: fake.url, timeoutMs: 100 });
      const headers = authHeaders({ folderId: FOLDER, secret: API_KEY, scheme: 'Api-Key', source: 'test' });
      const error = await rejection(http.send({ path: '/operations/fbv00000000000000000', headers }));
      assert.match(error.message, /no answer/);
      assert.ok(!inspect(error, { depth: Infinity, showHidden: true }).includes(API_KEY), 'no key in the error or its causes');
    } finally {
      await fake.close();
    }
  });
});
