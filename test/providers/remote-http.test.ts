import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import sharp from 'sharp';
import { RemoteHttp } from '../../src/providers/http/remote-http.js';
import { RemoteError, bodyExcerpt, redactUrl } from '../../src/providers/http/remote-error.js';
import { withRetries } from '../../src/providers/http/retry.js';
import { decodeBase64Image } from '../../src/providers/http/image-payload.js';
import { RemoteHealth } from '../../src/providers/http/remote-health.js';
import { ProviderError } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { closeServer, listenOnLoopback } from '../support/fake-http-kit.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A loopback server whose answer each test sets. */
async function startServer(): Promise<{ url: string; server: Server; handle(handler: Handler): void; requests: IncomingMessage[] }> {
  let current: Handler = (_request, response) => response.end('{}');
  const requests: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    requests.push(request);
    current(request, response);
  });
  return { url: await listenOnLoopback(server), server, requests, handle: (handler) => (current = handler) };
}

describe('RemoteHttp', () => {
  let remote: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    remote = await startServer();
  });
  after(() => closeServer(remote.server));

  test('sends JSON and parses a JSON answer, keeping a base URL path prefix', async () => {
    remote.handle((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        response.setHeader('Content-Type', 'application/json');
        response.end(JSON.stringify({ path: request.url, got: JSON.parse(body), type: request.headers['content-type'] }));
      });
    });
    const http = new RemoteHttp({ baseUrl: `${remote.url}/proxy/sd` });
    const answer = await http.fetchJson<{ path: string; got: unknown; type: string }>({ path: '/sdapi/v1/txt2img', json: { prompt: 'a cat' }, query: { a: 1 } });
    assert.deepEqual(answer, { path: '/proxy/sd/sdapi/v1/txt2img?a=1', got: { prompt: 'a cat' }, type: 'application/json' });
  });

  test('a non-2xx answer is a RemoteError with status, URL and a readable excerpt, never the credentials', async () => {
    remote.handle((_request, response) => {
      response.statusCode = 500;
      response.setHeader('Content-Type', 'text/html');
      response.end('<!doctype html><html><head><title>500</title><style>p{}</style></head><body><h1>Internal Server Error</h1><p>CUDA out of memory</p></body></html>');
    });
    const withUser = remote.url.replace('http://', 'http://alice:s3cret-password@');
    const http = new RemoteHttp({ baseUrl: withUser, headers: { 'X-Api-Key': 'key-abcdef-123456' } });
    const error = await http.fetchJson({ path: '/generate?token=tok-999999', json: {} }).catch((caught: unknown) => caught);
    assert.ok(error instanceof RemoteError);
    assert.equal(error.status, 500);
    assert.equal(error.failure, 'http');
    assert.equal(error.retryable, true);
    assert.equal(error.excerpt, '500 Internal Server Error CUDA out of memory');
    assert.match(error.message, /HTTP 500: 500 Internal Server Error CUDA out of memory/);
    const everything = `${error.message} ${error.url} ${JSON.stringify(error)} ${String(error.cause)}`;
    for (const secret of ['s3cret-password', 'alice', 'key-abcdef-123456', 'tok-999999']) assert.ok(!everything.includes(secret), secret);
  });

  test('4xx is final, 429 and 503 are retryable and carry Retry-After', async () => {
    const http = new RemoteHttp({ baseUrl: remote.url });
    for (const [status, retryable] of [
      [400, false],
      [401, false],
      [404, false],
      [429, true],
      [503, true],
      [501, false],
    ] as const) {
      remote.handle((_request, response) => {
        response.statusCode = status;
        response.setHeader('Retry-After', '2');
        response.end('{"error":"x"}');
      });
      const error = (await http.fetchBytes({ path: '/' }).catch((caught: unknown) => caught)) as RemoteError;
      assert.equal(error.retryable, retryable, String(status));
      assert.equal(error.retryAfterMs, 2000);
    }
  });

  test('an answer that is not JSON is an invalid response naming its start', async () => {
    remote.handle((_request, response) => response.end('Bad Gateway from nginx'));
    const error = (await new RemoteHttp({ baseUrl: remote.url }).fetchJson({ path: '/' }).catch((caught: unknown) => caught)) as RemoteError;
    assert.equal(error.failure, 'invalid-response');
    assert.equal(error.retryable, false);
    assert.match(error.message, /not JSON: Bad Gateway from nginx/);
  });

  test('a server that never answers is a retryable timeout', async () => {
    remote.handle(() => undefined);
    const error = (await new RemoteHttp({ baseUrl: remote.url, timeoutMs: 200 }).fetchBytes({ path: '/' }).catch((caught: unknown) => caught)) as RemoteError;
    assert.equal(error.failure, 'timeout');
    assert.equal(error.retryable, true);
    assert.match(error.message, /no answer from/);
  });

  test('a body that stalls half way also times out', async () => {
    remote.handle((_request, response) => {
      response.writeHead(200, { 'Content-Length': '1000' });
      response.write('{"images":["');
    });
    const error = (await new RemoteHttp({ baseUrl: remote.url, timeoutMs: 300 }).fetchBytes({ path: '/' }).catch((caught: unknown) => caught)) as RemoteError;
    assert.equal(error.failure, 'timeout');
  });

  test('a refused connection is a retryable network failure', async () => {
    const closed = await startServer();
    const url = closed.url;
    await new Promise((resolve) => closed.server.close(resolve));
    const error = (await new RemoteHttp({ baseUrl: url }).fetchBytes({ path: '/' }).catch((caught: unknown) => caught)) as RemoteError;
    assert.equal(error.failure, 'network');
    assert.equal(error.retryable, true);
    assert.match(error.message, /cannot reach .*ECONNREFUSED/);
  });

  test('aborting rejects with the signal reason at once', async () => {
    remote.handle(() => undefined);
    const controller = new AbortController();
    const pending = new RemoteHttp({ baseUrl: remote.url }).fetchBytes({ path: '/', signal: controller.signal });
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(pending, (error) => error === reason);
  });
});

describe('withRetries', () => {
  test('retries retryable failures with jittered, growing waits, then succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async () => {
        calls += 1;
        if (calls < 3) throw new ProviderError('busy', { retryable: true });
        return 'ok';
      },
      { attempts: 5, baseDelayMs: 10, maxDelayMs: 1000, random: () => 0.5, onRetry: (_error, _attempt, delay) => waits.push(delay) },
    );
    assert.equal(result, 'ok');
    assert.deepEqual(waits, [5, 10]);
  });

  test('a final error is thrown at once; attempts are bounded', async () => {
    let calls = 0;
    await assert.rejects(
      withRetries(async () => {
        calls += 1;
        throw new ProviderError('refused by moderation');
      }, { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 }),
      /moderation/,
    );
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(
      withRetries(async () => {
        calls += 1;
        throw new ProviderError('busy', { retryable: true });
      }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 }),
      /busy/,
    );
    assert.equal(calls, 3);
  });

  test('a Retry-After longer than the back-off is honoured', async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetries(
      async () => {
        calls += 1;
        if (calls === 1) throw new RemoteError('429', { failure: 'http', status: 429, url: 'x', retryAfterMs: 40 });
      },
      { attempts: 2, baseDelayMs: 1, maxDelayMs: 10, random: () => 0, onRetry: (_e, _a, delay) => waits.push(delay) },
    );
    assert.deepEqual(waits, [40]);
  });
});

describe('image payloads and messages', () => {
  test('decodes base64 with or without a data URI prefix, and refuses corrupt text', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123456' } }).png().toBuffer();
    assert.equal(decodeBase64Image(png.toString('base64')).format, 'png');
    assert.equal(decodeBase64Image(`data:image/png;base64,${png.toString('base64')}`).format, 'png');
    assert.equal(decodeBase64Image(png.toString('base64url')).format, 'png');
    assert.throws(() => decodeBase64Image('not*base64!'), /not valid base64/);
    assert.throws(() => decodeBase64Image(Buffer.from('hello world').toString('base64')), /not a JPEG, PNG or WebP/);
    assert.throws(() => decodeBase64Image(null), /missing/);
  });

  test('redactUrl removes user info and secret query values', () => {
    assert.equal(redactUrl('http://u:p@host:1/x?key=abc&n=1'), 'http://host:1/x?key=***&n=1');
  });

  test('bodyExcerpt keeps plain text and shortens long bodies', () => {
    assert.equal(bodyExcerpt('{"detail":"Forbidden"}'), '{"detail":"Forbidden"}');
    assert.equal(bodyExcerpt('x'.repeat(500), 10).length, 10);
  });
});

describe('RemoteHealth', () => {
  test('caches the probe result, logs only changes, and can be marked down', async () => {
    let up = false;
    const logger = createMemoryLogger();
    const health = new RemoteHealth({
      name: 'a1111',
      logger,
      intervalMs: 0,
      probe: async () => {
        if (!up) throw new Error('cannot reach http://gpu:7860/: ECONNREFUSED');
      },
    });
    await health.start();
    assert.deepEqual(health.readiness(), { ready: false, reason: 'cannot reach http://gpu:7860/: ECONNREFUSED' });
    await health.refresh();
    up = true;
    await health.refresh();
    assert.deepEqual(health.readiness(), { ready: true });
    health.markDown('the server went away');
    assert.equal(health.readiness().ready, false);
    health.close();
    assert.deepEqual(
      logger.records.map((record) => record.level),
      ['warn', 'info', 'warn'],
    );
  });
});
