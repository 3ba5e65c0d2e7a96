/** Where a failed request got to (deliveryOf), and the retry rule that follows from it, over real loopback sockets. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveryOf } from '../../src/providers/http/delivery.js';
import type { RemoteError } from '../../src/providers/http/remote-error.js';
import { RemoteHttp } from '../../src/providers/http/remote-http.js';
import { withRetries, type AfterDrop, type Resend } from '../../src/providers/http/retry.js';
import { closedUrl, sendJson, startFakeServer, type FakeServer } from '../support/fake-http-kit.js';
import { FAST_RETRY, rejection } from '../support/generate-request.js';

/** A server that reads each body and then cuts the connection without a word. */
function droppingServer(): Promise<FakeServer> {
  return startFakeServer((_request, response) => void response.socket?.destroy());
}

async function postTo(url: string, resend: Resend<string>): Promise<{ attempts: number; outcome: unknown }> {
  const http = new RemoteHttp({ baseUrl: url, timeoutMs: 5000 });
  let attempts = 0;
  const outcome = await withRetries(
    async () => {
      attempts += 1;
      await http.fetchBytes({ method: 'POST', path: '/job', json: { prompt: 'a fox' } });
      return 'answered';
    },
    FAST_RETRY,
    resend,
  ).catch((error: unknown) => error);
  return { attempts, outcome };
}

describe('deliveryOf', () => {
  test('a refused connection was not sent; a connection cut after the body may have arrived; an error status was answered', async () => {
    const http = (url: string): RemoteHttp => new RemoteHttp({ baseUrl: url, timeoutMs: 5000 });
    const refused = await rejection(http(await closedUrl()).send({ method: 'POST', path: '/job', json: {} }));
    assert.equal(deliveryOf(refused), 'not-sent');

    const dropping = await droppingServer();
    const answering = await startFakeServer((_request, response) => sendJson(response, 503, { detail: 'busy' }));
    try {
      assert.equal(deliveryOf(await rejection(http(dropping.url).send({ method: 'POST', path: '/job', json: {} }))), 'may-have-arrived');
      assert.equal(deliveryOf(await rejection(http(answering.url).fetchBytes({ method: 'POST', path: '/job', json: {} }))), 'answered');
    } finally {
      await dropping.close();
      await answering.close();
    }
  });
});

describe('withRetries: the resend rule', () => {
  test('a refused connection is tried again under every rule', async () => {
    const url = await closedUrl();
    for (const resend of ['always', 'if-not-sent', { ask: () => assert.fail('nothing to ask: it was never sent') }] as const) {
      const { attempts, outcome } = await postTo(url, resend as Resend<string>);
      assert.equal(attempts, FAST_RETRY.attempts, JSON.stringify(resend));
      assert.equal((outcome as RemoteError).failure, 'network');
    }
  });

  test('a dropped connection: sent again under always; once under if-not-sent; per the answer under ask', async () => {
    const server = await droppingServer();
    try {
      assert.equal((await postTo(server.url, 'always')).attempts, FAST_RETRY.attempts);

      const once = await postTo(server.url, 'if-not-sent');
      assert.equal(once.attempts, 1);
      assert.equal((once.outcome as RemoteError).retryable, false);
      assert.match((once.outcome as RemoteError).message, /not sent again/);

      const answers: AfterDrop<string>[] = [{ kind: 'absent' }, { kind: 'found', value: 'job-7' }];
      const found = await postTo(server.url, { ask: async () => answers.shift() ?? assert.fail('asked too often') });
      assert.deepEqual([found.attempts, found.outcome], [2, 'job-7'], 'absent: sent again; found: that job, not a third copy');

      const final = await postTo(server.url, { ask: async () => ({ kind: 'final', reason: 'it ran' }) });
      assert.equal(final.attempts, 1);
      assert.match((final.outcome as RemoteError).message, /not sent again: it ran$/);

      const unanswered = await postTo(server.url, { ask: () => Promise.reject(new Error('no list here')) });
      assert.equal(unanswered.attempts, 1, 'a server that cannot be asked is not sent it twice');
      assert.match((unanswered.outcome as RemoteError).message, /could not be asked .*no list here/);
    } finally {
      await server.close();
    }
  });
});
