/** The YandexART provider against the local fake API: the request, the polling, every failure. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { utimes, writeFile } from 'node:fs/promises';
import { ProviderError } from '../../src/providers/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { INTERNAL_ERROR, MODERATION_MESSAGE, PERMISSION_DENIED, QUOTA_EXCEEDED, UNAVAILABLE, readGenerationRequest } from '../support/fake-yandex-art.js';
import { rejection } from '../support/generate-request.js';
import { API_KEY, everythingSaid, FOLDER, harness, IAM_TOKEN, memorySlot, OTHER_KEY, request, withHarness } from './harness.js';

describe('YandexART: a picture', () => {
  test('success after 3 pending polls: exactly 1 POST, the id saved before the first poll, the documented body', async () => {
    await withHarness({ fake: { pendingPolls: 3 } }, async (h) => {
      const job = request(h.fake, { negative: 'text, watermark' });
      const result = await h.provider.generate(job);
      assert.equal(result.kind, 'bytes');
      assert.deepEqual(Buffer.from(result.bytes), h.fake.jpeg, 'the decoded bytes are the JPEG the API sent');
      assert.equal(h.fake.posts.length, 1, 'one paid request');
      assert.equal(h.fake.polls.length, 4, '3 pending polls and the one that found it done');

      assert.equal(job.resume.saved.length, 1);
      assert.deepEqual(job.resume.seenAtSave[0], { posts: 1, polls: 0 }, 'saved after the POST, before any poll');
      const saved = job.resume.saved[0] as { operationId: string; seed: number };
      assert.equal(saved.operationId, [...h.fake.operations.keys()][0]);
      assert.equal(saved.seed, 424242);

      const post = h.fake.posts[0];
      assert.equal(post?.path, '/foundationModels/v1/imageGenerationAsync');
      assert.equal(post?.authorization, `Api-Key ${API_KEY}`);
      assert.equal(post?.headers['x-folder-id'], undefined, 'no folder header (the docs advise against it)');
      const body = JSON.parse(post?.body ?? '{}') as Record<string, unknown>;
      assert.deepEqual(body, {
        modelUri: `art://${FOLDER}/yandex-art/latest`,
        messages: [{ text: 'a lighthouse on a cliff at dawn, oil painting. Игнорировать следующее: text, watermark', weight: '1' }],
        generationOptions: { mimeType: 'image/jpeg', seed: '424242', aspectRatio: { widthRatio: '2', heightRatio: '3' } },
      });
      const asked = readGenerationRequest(body);
      assert.equal(asked.spelling, 'camelCase');
      for (const poll of h.fake.polls) assert.equal(poll.path, `/operations/${saved.operationId}`);

      assert.equal(result.seed, 424242);
      assert.equal(result.prompt, 'a lighthouse on a cliff at dawn, oil painting');
      assert.deepEqual(
        { operation_id: result.details?.operation_id, aspect_ratio: result.details?.aspect_ratio },
        { operation_id: saved.operationId, aspect_ratio: '2:3' },
      );
    });
  });

  test('three pictures cost three POSTs: one each', async () => {
    await withHarness({ fake: { pendingPolls: 1 } }, async (h) => {
      for (let i = 0; i < 3; i += 1) await h.provider.generate(request(h.fake, { seed: 100 + i }));
      assert.equal(h.fake.posts.length, 3);
      assert.equal(h.fake.polls.length, 6);
      assert.deepEqual(
        [...h.fake.operations.values()].map((operation) => operation.asked.seed),
        [100, 101, 102],
      );
    });
  });

  test('the fake takes both field spellings, numbers or strings; we send camelCase', async () => {
    await withHarness({}, async (h) => {
      const snake = {
        model_uri: `art://${FOLDER}/yandex-art/latest`,
        messages: [{ text: 'a red cat', weight: 1 }],
        generation_options: { mime_type: 'image/jpeg', seed: 17, aspectRatio: { widthRatio: '320', heightRatio: '480' } },
      };
      const camel = {
        modelUri: `art://${FOLDER}/yandex-art/latest`,
        messages: [{ text: 'a red cat', weight: '1' }],
        generationOptions: { mimeType: 'image/jpeg', seed: '17', aspectRatio: { widthRatio: 2, heightRatio: 3 } },
      };
      for (const body of [snake, camel]) {
        const answer = await fetch(`${h.fake.url}/foundationModels/v1/imageGenerationAsync`, {
          method: 'POST',
          headers: { Authorization: `Api-Key ${API_KEY}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(answer.status, 200);
        const operation = (await answer.json()) as { id: string; done: boolean };
        assert.match(operation.id, /^fbv[a-z0-9]{17}$/);
        assert.equal(operation.done, false);
      }
      assert.deepEqual(
        [...h.fake.operations.values()].map(({ asked }) => [asked.spelling, asked.seed, asked.widthRatio, asked.heightRatio]),
        [
          ['snake_case', 17, 320, 480],
          ['camelCase', 17, 2, 3],
        ],
      );
      await h.provider.generate(request(h.fake));
      assert.equal([...h.fake.operations.values()][2]?.asked.spelling, 'camelCase');
    });
  });

  test('an IAM token from the environment goes as Bearer; the file is optional', async () => {
    await withHarness({ credentials: null, environment: { YANDEX_FOLDER_ID: FOLDER, YANDEX_IAM_TOKEN: IAM_TOKEN } }, async (h) => {
      assert.deepEqual(h.provider.readiness(), { ready: true });
      await h.provider.generate(request(h.fake));
      assert.equal(h.fake.posts[0]?.authorization, `Bearer ${IAM_TOKEN}`);
      assert.deepEqual(h.secrets, [IAM_TOKEN], 'the token was registered as a secret');
    });
  });

  test('an API key from the environment goes as Api-Key and is registered as a secret', async () => {
    await withHarness({ credentials: null, environment: { YANDEX_FOLDER_ID: FOLDER, YANDEX_API_KEY: OTHER_KEY } }, async (h) => {
      await h.provider.generate(request(h.fake));
      assert.equal(h.fake.posts[0]?.authorization, `Api-Key ${OTHER_KEY}`);
      assert.deepEqual(h.secrets, [OTHER_KEY]);
    });
  });
});

describe('YandexART: the prompt', () => {
  test('a prompt over 500 characters is cut, with a warning, not a failure', async () => {
    await withHarness({}, async (h) => {
      const long = `${'a quiet harbour with boats and gulls, '.repeat(20)}end`;
      assert.ok(long.length > 500);
      const result = await h.provider.generate(request(h.fake, { prompt: long, negative: 'people' }));
      const [operation] = h.fake.operations.values();
      assert.equal(Array.from(operation?.asked.texts[0] ?? '').length <= 500, true);
      assert.ok(long.startsWith(operation?.asked.texts[0] ?? '-'), 'the start of the prompt is kept');
      assert.equal(result.prompt, operation?.asked.texts[0], 'the sidecar records the prompt actually sent');
      const warnings = h.logger.records.filter((record) => record.level === 'warn' && /cut/.test(record.message));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]?.message ?? '', /\d+ characters and YandexART takes 500/);
    });
  });

  test('a negative prompt that does not fit is shortened; the prompt stays whole', async () => {
    await withHarness({}, async (h) => {
      const prompt = 'p'.repeat(450);
      await h.provider.generate(request(h.fake, { prompt, negative: 'n'.repeat(100) }));
      const text = [...h.fake.operations.values()][0]?.asked.texts[0] ?? '';
      assert.equal(text.length, 500);
      assert.ok(text.startsWith(`${prompt}. Игнорировать следующее: n`));
      assert.ok(h.logger.records.some((record) => record.level === 'warn' && /negative prompt was cut/.test(record.message)));
    });
  });

  test('negative_prompt_prefix replaces upstream wording', async () => {
    await withHarness({ provider: { negativePrefix: '; avoid: ' } }, async (h) => {
      await h.provider.generate(request(h.fake, { prompt: 'a fox', negative: 'snow' }));
      assert.equal([...h.fake.operations.values()][0]?.asked.texts[0], 'a fox; avoid: snow');
    });
  });

  test('no prompt at all fails before paying', async () => {
    await withHarness({}, async (h) => {
      const error = await rejection(h.provider.generate(request(h.fake, { prompt: '  ' })));
      assert.match(error.message, /needs a prompt/);
      assert.equal(h.fake.requests.length, 0);
    });
  });

  test('the aspect ratio is the frame’s, reduced', async () => {
    await withHarness({}, async (h) => {
      await h.provider.generate(request(h.fake, { width: 800, height: 480 }));
      const asked = [...h.fake.operations.values()][0]?.asked;
      assert.deepEqual([asked?.widthRatio, asked?.heightRatio], [5, 3]);
    });
  });
});

describe('YandexART: failures', () => {
  test('401: a final error without the key, not ready with the reason, no paid attempt until an hour passes', async () => {
    const clock = new ManualClock(new Date(2026, 0, 15, 12, 0));
    await withHarness({ provider: { clock }, credentials: { folder_id: FOLDER, api_key: 'AQVN-revoked-key-0000111122223333' } }, async (h) => {
      const error = await rejection(h.provider.generate(request(h.fake)));
      assert.ok(error instanceof ProviderError && !error.retryable);
      assert.match(error.message, /refused the credentials \(HTTP 401 Unauthorized: Unknown api key '\[redacted\]'\)/);
      assert.equal(h.fake.posts.length, 1, 'no retry of a refused key');
      const readiness = h.provider.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /refused the credentials.*no paid request until 13:00/);

      const again = await rejection(h.provider.generate(request(h.fake)));
      assert.match(again.message, /not ready/);
      assert.equal(h.fake.posts.length, 1, 'no paid attempt while refused');

      clock.advance(59 * 60_000);
      assert.equal(h.provider.readiness().ready, false);
      clock.advance(60_000);
      assert.equal(h.provider.readiness().ready, true, 'an hour later it tries again');
      const said = everythingSaid(h.logger, error.message, again.message);
      assert.ok(!said.includes('AQVN-revoked-key-0000111122223333'), 'the key is in no message and no log line');
      assert.equal(h.logger.records.filter((record) => /not ready: YandexART refused/.test(record.message)).length, 1, 'logged once');
    });
  });

  test('403: the same block, lifted as soon as the credentials file changes', async () => {
    await withHarness({}, async (h) => {
      h.fake.postScript.push(PERMISSION_DENIED);
      const error = await rejection(h.provider.generate(request(h.fake)));
      assert.match(error.message, /HTTP 403 Forbidden/);
      assert.equal(h.provider.readiness().ready, false);
      await h.provider.checkPending();
      assert.equal(h.provider.readiness().ready, false, 'an unchanged file keeps the block');
      await writeFile(h.credentialsFile, JSON.stringify({ folder_id: FOLDER, api_key: OTHER_KEY }));
      await utimes(h.credentialsFile, new Date(), new Date(Date.now() + 5000));
      await h.provider.checkPending();
      assert.equal(h.provider.readiness().ready, true);
      await h.provider.generate(request(h.fake));
      assert.equal(h.fake.posts.at(-1)?.authorization, `Api-Key ${OTHER_KEY}`, 'the new key is used');
      assert.ok(h.logger.records.some((record) => /credentials changed/.test(record.message)));
    });
  });

  test('429 twice, then accepted: back-off, 3 POSTs, one operation, the picture', async () => {
    await withHarness({}, async (h) => {
      h.fake.postScript.push(QUOTA_EXCEEDED, QUOTA_EXCEEDED);
      const result = await h.provider.generate(request(h.fake));
      assert.equal(result.kind, 'bytes');
      assert.deepEqual(
        h.fake.posts.map((post) => post.status),
        [429, 429, 200],
      );
      assert.equal(h.fake.operations.size, 1, 'only the accepted POST made an operation');
      const retries = h.logger.records.filter((record) => /generation request failed; trying again/.test(record.message));
      assert.equal(retries.length, 2);
      assert.match(String(retries[0]?.meta?.reason), /HTTP 429 Too Many Requests: .*quota limit exceed/);
    });
  });

  test('500 and 503 on the POST are retried (no operation was made); 504 is not (one may have been)', async () => {
    await withHarness({}, async (h) => {
      h.fake.postScript.push(INTERNAL_ERROR, UNAVAILABLE);
      await h.provider.generate(request(h.fake));
      assert.deepEqual(
        h.fake.posts.map((post) => post.status),
        [500, 503, 200],
      );
      h.fake.postScript.push({ status: 504, body: { error: { grpcCode: 4, httpCode: 504, message: 'Deadline exceeded', httpStatus: 'Gateway Timeout', details: [] } } });
      const error = await rejection(h.provider.generate(request(h.fake)));
      assert.match(error.message, /HTTP 504 .*not sent again/);
      assert.equal(h.fake.posts.length, 4);
    });
  });

  test('429 that does not stop: bounded by max_attempts, then a failure', async () => {
    await withHarness({ provider: { maxAttempts: 3 } }, async (h) => {
      h.fake.postScript.push(QUOTA_EXCEEDED, QUOTA_EXCEEDED, QUOTA_EXCEEDED, QUOTA_EXCEEDED);
      const error = await rejection(h.provider.generate(request(h.fake)));
      assert.match(error.message, /HTTP 429/);
      assert.equal(h.fake.posts.length, 3);
      assert.equal(h.provider.readiness().ready, true, 'a quota is not a credentials problem');
    });
  });

  test('500 and 503 on polls are retried; the operation is not paid again', async () => {
    await withHarness({ fake: { pendingPolls: 1 } }, async (h) => {
      h.fake.pollScript.push(INTERNAL_ERROR, UNAVAILABLE);
      await h.provider.generate(request(h.fake));
      assert.equal(h.fake.posts.length, 1);
      assert.deepEqual(
        h.fake.polls.map((poll) => poll.status),
        [500, 503, 200, 200],
      );
    });
  });

  test('a moderation refusal (HTTP 400 on the POST) is final: one POST, a clear message, still ready', async () => {
    await withHarness({}, async (h) => {
      const error = await rejection(h.provider.generate(request(h.fake, { prompt: 'something forbidden here' })));
      assert.ok(error instanceof ProviderError && !error.retryable);
      assert.equal(error.message, `YandexART refused the prompt: ${MODERATION_MESSAGE}`);
      assert.equal(h.fake.posts.length, 1);
      assert.equal(h.fake.polls.length, 0);
      assert.equal(h.provider.readiness().ready, true);
    });
  });

  test('an operation that finishes with an error is final', async () => {
    await withHarness({ fake: { pendingPolls: 2 } }, async (h) => {
      h.fake.outcome = 'error';
      const job = request(h.fake);
      const error = await rejection(h.provider.generate(job));
      assert.match(error.message, /^YandexART operation fbv\w+ ended with error 13: internal error$/);
      assert.equal(h.fake.posts.length, 1);
      assert.equal(h.fake.polls.length, 3, 'no poll after the final answer');
    });
  });

  test('a poll that hangs times out and is polled again', async () => {
    await withHarness({ provider: { requestTimeoutMs: 300 } }, async (h) => {
      h.fake.pollScript.push('hang');
      const result = await h.provider.generate(request(h.fake));
      assert.equal(result.kind, 'bytes');
      assert.equal(h.fake.posts.length, 1);
      assert.deepEqual(
        h.fake.polls.map((poll) => poll.status),
        [undefined, 200],
      );
      assert.ok(h.logger.records.some((record) => /operation poll failed; trying again/.test(record.message) && /no answer/.test(String(record.meta?.reason))));
    });
  });

  test('a POST that gets no answer is not sent again (it may have started a paid generation)', async () => {
    await withHarness({ provider: { requestTimeoutMs: 200 } }, async (h) => {
      h.fake.postScript.push('hang');
      const error = await rejection(h.provider.generate(request(h.fake)));
      assert.match(error.message, /not sent again/);
      assert.equal(h.fake.posts.length, 1);
    });
  });

  test('corrupt base64 in the finished operation is a final failure, never a broken file', async () => {
    await withHarness({}, async (h) => {
      h.fake.outcome = 'corrupt';
      const error = await rejection(h.provider.generate(request(h.fake)));
      assert.ok(error instanceof ProviderError);
      assert.match(error.message, /YandexART image is not valid base64/);
      assert.equal(h.fake.posts.length, 1);
      assert.equal(h.fake.polls.length, 1);
    });
  });

  test('an unreachable base_url: refused connections are retried (nothing was sent), then a failure', async () => {
    const h = await harness({ provider: { maxAttempts: 2 } });
    try {
      await h.fake.close();
      const error = await rejection(h.provider.generate(request(undefined)));
      assert.match(error.message, /cannot reach http:\/\/127\.0\.0\.1:\d+\/foundationModels\/v1\/imageGenerationAsync: ECONNREFUSED/);
      assert.equal(h.logger.records.filter((record) => /trying again/.test(record.message)).length, 1);
    } finally {
      await h.dispose().catch(() => undefined);
    }
  });
});

describe('YandexART: resuming and waiting', () => {
  test('a resumed job only polls: never a second POST', async () => {
    await withHarness({ fake: { pendingPolls: 0 } }, async (h) => {
      h.fake.hold = true;
      const first = request(h.fake);
      const abort = new AbortController();
      const running = h.provider.generate({ ...first, signal: abort.signal });
      while (h.fake.polls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      abort.abort(new Error('the server is shutting down'));
      await assert.rejects(running, /shutting down/);
      const saved = first.resume.saved[0];
      assert.ok(saved !== undefined);

      h.fake.release();
      const resumed = request(h.fake, { resume: memorySlot(h.fake, saved) });
      const result = await h.provider.generate(resumed);
      assert.equal(result.kind, 'bytes');
      assert.equal(h.fake.posts.length, 1, 'the restart paid nothing');
      assert.equal(resumed.resume.saved.length, 0);
      assert.ok(h.logger.records.some((record) => /polling operation fbv\w+ again after a restart; no new request/.test(record.message)));
    });
  });

  test('a saved job that cannot be read is dropped, not paid again', async () => {
    await withHarness({}, async (h) => {
      const error = await rejection(h.provider.generate(request(h.fake, { resume: memorySlot(h.fake, { something: 'else' }) })));
      assert.match(error.message, /cannot be read/);
      assert.equal(h.fake.requests.length, 0);
    });
  });

  test('a resumed operation the API does not know (404) fails for good', async () => {
    await withHarness({}, async (h) => {
      const saved = { operationId: 'fbvunknown0000000000', startedAt: Date.now(), seed: 5, prompt: 'x', text: 'x', aspectRatio: '2:3' };
      const error = await rejection(h.provider.generate(request(h.fake, { resume: memorySlot(h.fake, saved) })));
      assert.match(error.message, /does not know operation fbvunknown0000000000/);
      assert.deepEqual(
        h.fake.requests.map((entry) => [entry.method, entry.status]),
        [['GET', 404]],
      );
    });
  });

  test('poll_interval 0: polls happen only when the check_pending cron wakes them', async () => {
    await withHarness({ provider: { pollIntervalMs: 0 }, fake: { pendingPolls: 1 } }, async (h) => {
      const running = h.provider.generate(request(h.fake));
      while (h.fake.posts.length === 0 || h.fake.posts[0]?.status === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(h.fake.polls.length, 0, 'no poll without the cron');
      await h.provider.checkPending();
      while (h.fake.polls.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 30));
      await h.provider.checkPending();
      await running;
      assert.equal(h.fake.polls.length, 2);
    });
  });

  test('an operation still running after max_wait is given up', async () => {
    const clock = new ManualClock(new Date(2026, 0, 15, 12, 0));
    await withHarness({ provider: { clock, maxWaitMs: 60 * 60_000 } }, async (h) => {
      h.fake.hold = true;
      const running = h.provider.generate(request(h.fake));
      while (h.fake.polls.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      clock.advance(61 * 60_000);
      const error = await rejection(running);
      assert.match(error.message, /has not finished after 61 minutes; given up/);
      assert.equal(h.fake.posts.length, 1);
    });
  });

  test('an abort during a hung poll ends the job at once', async () => {
    await withHarness({ provider: { requestTimeoutMs: 60_000 } }, async (h) => {
      h.fake.pollScript.push('hang');
      const abort = new AbortController();
      const running = h.provider.generate(request(h.fake, { signal: abort.signal }));
      while (h.fake.polls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      abort.abort(new Error('cancelled'));
      await assert.rejects(running, /cancelled/);
    });
  });
});

describe('YandexART: credentials', () => {
  test('none: not ready, with what to do; generate pays nothing', async () => {
    await withHarness({ credentials: null }, async (h) => {
      const readiness = h.provider.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /no credentials: put \{"folder_id": "\.\.\.", "api_key": "\.\.\."\} in .*ydart-options\.json, or set YANDEX_FOLDER_ID and YANDEX_API_KEY \(or YANDEX_IAM_TOKEN\)/);
      await assert.rejects(h.provider.generate(request(h.fake)), /not ready: no credentials/);
      assert.equal(h.fake.requests.length, 0);
      assert.equal(h.logger.records.length, 0, 'the server logs the first state; the provider adds nothing');
    });
  });

  test('a damaged file: not ready, and the reason does not quote the file', async () => {
    await withHarness({ credentials: `{"folder_id": "${FOLDER}", "api_key": "${API_KEY}"` }, async (h) => {
      const readiness = h.provider.readiness();
      assert.equal(readiness.ready, false);
      assert.match(readiness.ready ? '' : readiness.reason, /ydart-options\.json is not valid JSON/);
      assert.ok(!JSON.stringify(readiness).includes(API_KEY));
    });
  });

  test('a file written later is picked up by the check_pending cron, logged once', async () => {
    await withHarness({ credentials: null }, async (h) => {
      assert.equal(h.provider.readiness().ready, false);
      await writeFile(h.credentialsFile, JSON.stringify({ folder_id: FOLDER, api_key: API_KEY }));
      await h.provider.checkPending();
      assert.equal(h.provider.readiness().ready, true);
      await h.provider.checkPending();
      assert.equal(h.provider.readiness().ready, true);
      assert.deepEqual(
        h.logger.records.map((record) => record.message),
        [`provider ydArt: ready (credentials from ${h.credentialsFile})`],
      );
      assert.deepEqual(h.secrets, [API_KEY]);
    });
  });

  test('the file wins over the environment', async () => {
    await withHarness({ environment: { YANDEX_FOLDER_ID: 'b1gother', YANDEX_API_KEY: OTHER_KEY } }, async (h) => {
      await h.provider.generate(request(h.fake));
      assert.equal(h.fake.posts[0]?.authorization, `Api-Key ${API_KEY}`);
    });
  });
});
