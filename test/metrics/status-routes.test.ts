/** /metrics, /healthz, the status page and status.json, through a real Koa app on a loopback port. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Router from '@koa/router';
import { createApp } from '../../src/http/create-app.js';
import { HttpError } from '../../src/http/http-error.js';
import { statusRoutes } from '../../src/http/status-routes.js';
import { AppMetrics } from '../../src/metrics/metrics.js';
import { GenerationLedger } from '../../src/operations/generation-ledger.js';
import type { ProviderStatus } from '../../src/operations/provider-gate.js';
import { ManualClock } from '../../src/util/clock.js';
import { createMemoryLogger } from '../../src/util/logger.js';

// ---------------------------------------------------------------------------------------------
// A small parser of the Prometheus text exposition format (version 0.0.4), strict enough to
// catch malformed output: HELP/TYPE once per family and before its samples, every sample of
// a declared family, label values properly quoted and escaped, values that parse as numbers.

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Exposition {
  readonly help: ReadonlyMap<string, string>;
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseExposition(text: string): Exposition {
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  assert.equal(lines.at(-1), '', 'the exposition ends with a newline');
  for (const [index, line] of lines.slice(0, -1).entries()) {
    const where = `line ${index + 1}: ${line}`;
    if (line.startsWith('# HELP ')) {
      const match = /^# HELP (\S+) (.*)$/.exec(line);
      assert.ok(match, where);
      const [, name = '', description = ''] = match;
      assert.match(name, METRIC_NAME, where);
      assert.ok(!help.has(name), `HELP twice for ${name}`);
      help.set(name, description);
    } else if (line.startsWith('# TYPE ')) {
      const match = /^# TYPE (\S+) (\S+)$/.exec(line);
      assert.ok(match, where);
      const [, name = '', type = ''] = match;
      assert.ok(TYPES.has(type), where);
      assert.ok(!types.has(name), `TYPE twice for ${name}`);
      types.set(name, type);
    } else if (line.startsWith('#') || line === '') {
      continue;
    } else {
      const sample = parseSample(line, where);
      const family = familyOf(sample.name, types);
      assert.ok(family !== undefined, `sample before its TYPE: ${where}`);
      samples.push(sample);
    }
  }
  for (const name of types.keys()) assert.ok(help.has(name), `no HELP for ${name}`);
  return { help, types, samples };
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  assert.ok(nameMatch, where);
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const labelMatch = /^([^=]+)="/.exec(rest);
      assert.ok(labelMatch, where);
      const labelName = labelMatch[1] ?? '';
      assert.match(labelName, LABEL_NAME, where);
      rest = rest.slice(labelMatch[0].length);
      let value = '';
      for (;;) {
        const char = rest[0];
        assert.ok(char !== undefined, `unterminated label value: ${where}`);
        if (char === '"') break;
        if (char === '\\') {
          const escaped = rest[1];
          assert.ok(escaped === '\\' || escaped === '"' || escaped === 'n', `bad escape: ${where}`);
          value += escaped === 'n' ? '\n' : escaped;
          rest = rest.slice(2);
          continue;
        }
        assert.notEqual(char, '\n', where);
        value += char;
        rest = rest.slice(1);
      }
      rest = rest.slice(1);
      labels[labelName] = value;
      if (rest.startsWith(',')) rest = rest.slice(1);
    }
    rest = rest.slice(1);
  }
  const valueMatch = /^ (\S+)( -?\d+)?$/.exec(rest);
  assert.ok(valueMatch, where);
  const raw = valueMatch[1] ?? '';
  // Prometheus parses values with Go's ParseFloat, which ignores case in "NaN" (prom-client
  // writes "Nan" for an event-loop lag not yet measured).
  const notANumber = raw.toLowerCase() === 'nan';
  const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : notANumber ? NaN : Number(raw);
  assert.ok(notANumber || !Number.isNaN(value), `value is not a number: ${where}`);
  return { name, labels, value };
}

/** The declared family a sample belongs to (`x_bucket` → `x` for a histogram). */
function familyOf(sampleName: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(sampleName)) return sampleName;
  for (const suffix of ['_bucket', '_sum', '_count', '_created']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || type === 'summary') return base;
  }
  return undefined;
}

function sampleValue(exposition: Exposition, name: string, labels: Record<string, string>): number | undefined {
  const found = exposition.samples.find(
    (sample) => sample.name === name && Object.keys(labels).length === Object.keys(sample.labels).length && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  return found?.value;
}

// ---------------------------------------------------------------------------------------------

const EVIL_NAME = '<script>alert("pwned")</script>';

describe('status routes', () => {
  let root: string;
  let server: Server;
  let base: string;
  let metrics: AppMetrics;
  let pictures = 42;
  const clock = new ManualClock(new Date('2026-01-15T12:00:00'));
  const startedAt = new Date('2026-01-15T10:30:00');
  let releaseSlow: () => void = () => undefined;
  let enterSlow: () => void = () => undefined;
  const slowReached = new Promise<void>((resolve) => {
    enterSlow = resolve;
  });

  const statuses = (): ProviderStatus[] => [
    { id: 'offline', displayName: 'Offline painter', ready: true, today: 0 },
    {
      id: 'evil',
      displayName: EVIL_NAME,
      ready: false,
      reason: 'daily limit of 5 reached & <b>bold</b>',
      nextAllowedAt: new Date('2026-01-16T00:00:00'),
      today: 5,
      dailyLimit: 5,
    },
  ];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'aiframe-'));
    const logger = createMemoryLogger();
    const ledger = new GenerationLedger({ file: join(root, 'stats.json'), clock, logger });
    // Yesterday: 3 calls of "evil", 2 succeeded, 1 failed. Today: 5 calls, 4 succeeded.
    clock.set(new Date('2026-01-14T18:00:00'));
    for (let i = 0; i < 3; i += 1) await ledger.recordCall('evil');
    await ledger.recordOutcome('evil', 'success');
    await ledger.recordOutcome('evil', 'success');
    await ledger.recordOutcome('evil', 'failure');
    clock.set(new Date('2026-01-15T12:00:00'));
    for (let i = 0; i < 5; i += 1) await ledger.recordCall('evil');
    for (let i = 0; i < 4; i += 1) await ledger.recordOutcome('evil', 'success');
    await ledger.recordCall('offline');
    await ledger.recordOutcome('offline', 'success');

    metrics = new AppMetrics({ logger, librarySize: () => pictures, providerStatuses: statuses, ledger });
    metrics.generationFinished({ providerId: 'evil', outcome: 'success', seconds: 12.5 });
    metrics.generationFinished({ providerId: 'evil', outcome: 'failure', seconds: 3 });
    metrics.generationFinished({ providerId: 'offline', outcome: 'success', seconds: 0.2 });
    metrics.pictureSent({ source: 'library' });
    metrics.pictureSent({ source: 'library' });
    metrics.pictureSent({ source: 'provider' });

    // Stand-ins for the frame routes' shapes: a handler that writes to ctx.res itself (like
    // the chunked result route), a 4xx, a 5xx, and one that waits until the test lets go.
    const testRoutes = new Router();
    testRoutes.get('/raw/:id', (ctx) => {
      ctx.respond = false;
      ctx.res.statusCode = 200;
      ctx.res.setHeader('Content-Type', 'application/json');
      ctx.res.write('{"id":');
      ctx.res.end(`${JSON.stringify(ctx.params.id)}}`);
    });
    testRoutes.get('/bad/:id', () => {
      throw new HttpError(400, 'BadRequest', 'no');
    });
    testRoutes.get('/boom', () => {
      throw new Error('a bug');
    });
    testRoutes.get('/slow', async (ctx) => {
      enterSlow();
      await new Promise<void>((resolve) => {
        releaseSlow = resolve;
      });
      ctx.body = 'late';
    });

    const app = createApp({ logger, routers: [statusRoutes({ metrics, version: '1.2.3<x>', startedAt, clock }), testRoutes] });
    // createApp has no slot for middleware before the error middleware yet; the counter must
    // be first, so it goes to the front of the chain (compiled at callback()).
    app.middleware.unshift(metrics.httpMiddleware());
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(root, { recursive: true, force: true });
  });

  async function scrape(): Promise<Exposition> {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), metrics.registry.contentType);
    return parseExposition(await response.text());
  }

  test('/metrics is valid exposition format with every metric declared', async () => {
    const exposition = await scrape();
    const expected: Record<string, string> = {
      aiframe_http_requests_total: 'counter',
      aiframe_images_sent_total: 'counter',
      aiframe_generations_total: 'counter',
      aiframe_generation_duration_seconds: 'histogram',
      aiframe_library_pictures: 'gauge',
      aiframe_provider_ready: 'gauge',
      aiframe_generations_today: 'gauge',
      process_cpu_seconds_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(exposition.types.get(name), type, name);

    assert.equal(sampleValue(exposition, 'aiframe_library_pictures', {}), 42);
    assert.equal(sampleValue(exposition, 'aiframe_provider_ready', { provider: 'offline' }), 1);
    assert.equal(sampleValue(exposition, 'aiframe_provider_ready', { provider: 'evil' }), 0);
    assert.equal(sampleValue(exposition, 'aiframe_generations_today', { provider: 'evil' }), 5);
    assert.equal(sampleValue(exposition, 'aiframe_generations_today', { provider: 'offline' }), 1);
    assert.equal(sampleValue(exposition, 'aiframe_generations_total', { provider: 'evil', outcome: 'failure' }), 1);
    assert.equal(sampleValue(exposition, 'aiframe_images_sent_total', { source: 'library' }), 2);
    assert.equal(sampleValue(exposition, 'aiframe_generation_duration_seconds_count', { provider: 'evil' }), 2);
    assert.equal(sampleValue(exposition, 'aiframe_generation_duration_seconds_bucket', { provider: 'evil', le: '5' }), 1);
    assert.equal(sampleValue(exposition, 'aiframe_generation_duration_seconds_bucket', { provider: 'evil', le: '600' }), 2);
    assert.equal(sampleValue(exposition, 'aiframe_generation_duration_seconds_bucket', { provider: 'evil', le: '+Inf' }), 2);

    pictures = 43;
    assert.equal(sampleValue(await scrape(), 'aiframe_library_pictures', {}), 43, 'the gauge is read at scrape time');
    pictures = 42;
  });

  test('requests are counted by route template, method and final status', async () => {
    const before = await scrape();
    const count = (exposition: Exposition, labels: Record<string, string>): number => sampleValue(exposition, 'aiframe_http_requests_total', labels) ?? 0;

    const raw = await fetch(`${base}/raw/op-123456`);
    assert.equal(await raw.text(), '{"id":"op-123456"}');
    await (await fetch(`${base}/raw/op-abcdef`)).text();
    assert.equal((await fetch(`${base}/bad/x-1`)).status, 400);
    assert.equal((await fetch(`${base}/boom`)).status, 500);
    assert.equal((await fetch(`${base}/nowhere/at-all`)).status, 404);
    // A known path with the wrong method: 405, in the upstream error shape.
    assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405);

    const after = await scrape();
    assert.equal(count(after, { route: '/raw/:id', method: 'GET', status: '200' }) - count(before, { route: '/raw/:id', method: 'GET', status: '200' }), 2);
    assert.equal(count(after, { route: '/bad/:id', method: 'GET', status: '400' }) - count(before, { route: '/bad/:id', method: 'GET', status: '400' }), 1);
    assert.equal(count(after, { route: '/boom', method: 'GET', status: '500' }) - count(before, { route: '/boom', method: 'GET', status: '500' }), 1);
    assert.equal(count(after, { route: 'unmatched', method: 'GET', status: '404' }) - count(before, { route: 'unmatched', method: 'GET', status: '404' }), 1);
    assert.equal(count(after, { route: 'unmatched', method: 'POST', status: '405' }) - count(before, { route: 'unmatched', method: 'POST', status: '405' }), 1);
    assert.ok(count(after, { route: '/metrics', method: 'GET', status: '200' }) >= 1, 'scrapes count too');

    const routes = new Set(after.samples.filter((sample) => sample.name === 'aiframe_http_requests_total').map((sample) => sample.labels.route));
    for (const route of routes) assert.ok(!/op-|x-1|nowhere/.test(route ?? ''), `a raw path leaked into a label: ${route}`);
  });

  test('in-memory totals count requests and errors (status >= 400)', async () => {
    const before = metrics.totals();
    await (await fetch(`${base}/healthz`)).text();
    await (await fetch(`${base}/bad/1`)).text();
    await (await fetch(`${base}/nope`)).text();
    const after = metrics.totals();
    assert.equal(after.requests - before.requests, 3);
    assert.equal(after.errors - before.errors, 2);
  });

  test('a client that leaves before the answer is counted once, as aborted', async () => {
    const port = (server.address() as AddressInfo).port;
    const requestsBefore = metrics.totals().requests;
    const errorsBefore = metrics.totals().errors;
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await slowReached;
    socket.destroy();
    while (metrics.totals().requests === requestsBefore) await new Promise((resolve) => setTimeout(resolve, 5));
    releaseSlow();
    for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(metrics.totals().requests, requestsBefore + 1, 'the late answer to the gone client is not counted again');
    assert.equal(metrics.totals().errors, errorsBefore, 'an abort is not an error response');
    assert.equal(sampleValue(await scrape(), 'aiframe_http_requests_total', { route: '/slow', method: 'GET', status: 'aborted' }), 1);
  });

  test('/healthz answers ok, uptime and library size', async () => {
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { status: 'ok', uptime_seconds: 5400, pictures: 42 });
  });

  test('the status page shows the numbers and escapes every dynamic string', async () => {
    for (const path of ['/status']) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
      const html = await response.text();
      assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
      assert.ok(!html.includes('<script'), 'no script tag, least of all the provider name');
      assert.ok(!html.includes('<b>bold</b>'));
      assert.ok(html.includes('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;'));
      assert.ok(html.includes('daily limit of 5 reached &amp; &lt;b&gt;bold&lt;/b&gt;'));
      assert.ok(html.includes('version 1.2.3&lt;x&gt;'));
      assert.ok(!/<link|src=|@import|url\(/.test(html), 'self-contained: no external files');
      assert.match(html, /<b>42<\/b><span>pictures in library<\/span>/);
      assert.match(html, /<b>3<\/b><span>images sent<\/span>/);
      assert.match(html, /up 1 h 30 min/);
      // evil: today 5 calls of a limit of 5 (4 ok, 0 failed); yesterday 3 (2 ok, 1 failed); since start 2 (1 ok, 1 failed).
      assert.match(html, /<tr><th>today<\/th><td>5 of 5<\/td><td>4<\/td><td>0<\/td><\/tr>/);
      assert.match(html, /<tr><th>yesterday<\/th><td>3<\/td><td>2<\/td><td>1<\/td><\/tr>/);
      assert.match(html, /<tr><th>since start<\/th><td>2<\/td><td>1<\/td><td>1<\/td><\/tr>/);
      assert.match(html, /next at 2026-01-16 00:00 \(in 12 h 0 min\)/);
      assert.match(html, /<span class="badge ok">ready<\/span>/);
      assert.match(html, /<span class="badge no">not ready<\/span>/);
    }
  });

  test('/status.json carries the same data', async () => {
    const response = await fetch(`${base}/status.json`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.version, '1.2.3<x>');
    assert.equal(body.uptime_seconds, 5400);
    assert.deepEqual(body.library, { pictures: 42 });
    assert.deepEqual(body.images_sent, { total: 3, by_source: { library: 2, provider: 1 } });
    const requests = body.requests as { total: number; errors: number };
    assert.ok(requests.total > requests.errors && requests.errors > 0, 'earlier tests made requests and errors');
    assert.deepEqual(body.providers, [
      {
        id: 'offline',
        display_name: 'Offline painter',
        ready: true,
        since_start: { successes: 1, failures: 0 },
        today: { calls: 1, successes: 1, failures: 0 },
        yesterday: { calls: 0, successes: 0, failures: 0 },
      },
      {
        id: 'evil',
        display_name: EVIL_NAME,
        ready: false,
        reason: 'daily limit of 5 reached & <b>bold</b>',
        next_allowed_at: new Date('2026-01-16T00:00:00').toISOString(),
        daily_limit: 5,
        since_start: { successes: 1, failures: 1 },
        today: { calls: 5, successes: 4, failures: 0 },
        yesterday: { calls: 3, successes: 2, failures: 1 },
      },
    ]);
  });
});
