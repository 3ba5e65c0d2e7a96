/** AppMetrics without HTTP: observer counts, the summary line and its timer, registries kept apart. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register as globalRegistry } from 'prom-client';
import { AppMetrics } from '../../src/metrics/metrics.js';
import { escapeHtml, formatDuration, formatLocalTime } from '../../src/metrics/status-page.js';
import { GenerationLedger } from '../../src/operations/generation-ledger.js';
import type { ProviderStatus } from '../../src/operations/provider-gate.js';
import { ManualClock } from '../../src/util/clock.js';
import { createMemoryLogger } from '../../src/util/logger.js';

const STATUSES: ProviderStatus[] = [
  { id: 'offline', displayName: 'Offline', ready: true, today: 2 },
  { id: 'yandex-art', displayName: 'YandexART', ready: false, reason: 'no credentials', today: 5 },
];

describe('AppMetrics', () => {
  let root: string;
  let ledger: GenerationLedger;
  const clock = new ManualClock(new Date('2026-03-02T09:00:00'));

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'aiframe-'));
    ledger = new GenerationLedger({ file: join(root, 'stats.json'), clock, logger: createMemoryLogger() });
    clock.set(new Date('2026-03-01T23:30:00'));
    await ledger.recordCall('yandex-art');
    await ledger.recordOutcome('yandex-art', 'success');
    clock.set(new Date('2026-03-02T09:00:00'));
    for (let i = 0; i < 5; i += 1) await ledger.recordCall('yandex-art');
    for (let i = 0; i < 4; i += 1) await ledger.recordOutcome('yandex-art', 'success');
    await ledger.recordOutcome('yandex-art', 'failure');
    await ledger.recordCall('offline');
    await ledger.recordCall('offline');
    await ledger.recordOutcome('offline', 'success');
    await ledger.recordOutcome('offline', 'success');
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const make = (logger = createMemoryLogger(), summaryIntervalMs?: number): AppMetrics =>
    new AppMetrics({
      logger,
      librarySize: () => 57,
      providerStatuses: () => STATUSES,
      ledger,
      ...(summaryIntervalMs === undefined ? {} : { summaryIntervalMs }),
    });

  test('observer events move the in-memory totals', () => {
    const metrics = make();
    metrics.generationFinished({ providerId: 'yandex-art', outcome: 'success', seconds: 40 });
    metrics.generationFinished({ providerId: 'yandex-art', outcome: 'failure', seconds: 600 });
    metrics.generationFinished({ providerId: 'offline', outcome: 'success', seconds: 0.1 });
    metrics.pictureSent({ source: 'library' });
    metrics.pictureSent({ source: 'fallback' });
    metrics.pictureSent({ source: 'library' });
    assert.deepEqual(metrics.totals(), {
      requests: 0,
      errors: 0,
      imagesSent: 3,
      imagesSentBySource: { library: 2, fallback: 1 },
      providers: { 'yandex-art': { successes: 1, failures: 1 }, offline: { successes: 1, failures: 0 } },
    });
  });

  test('the snapshot holds today and yesterday from the ledger for every configured provider', () => {
    const snapshot = make().snapshot();
    assert.equal(snapshot.libraryPictures, 57);
    assert.deepEqual(
      snapshot.providers.map(({ status, today, yesterday, sinceStart }) => ({ id: status.id, today, yesterday, sinceStart })),
      [
        { id: 'offline', today: { calls: 2, successes: 2, failures: 0 }, yesterday: { calls: 0, successes: 0, failures: 0 }, sinceStart: { successes: 0, failures: 0 } },
        { id: 'yandex-art', today: { calls: 5, successes: 4, failures: 1 }, yesterday: { calls: 1, successes: 1, failures: 0 }, sinceStart: { successes: 0, failures: 0 } },
      ],
    );
  });

  test('the summary line tells requests, errors, images sent, generations today and library size', () => {
    const metrics = make();
    metrics.pictureSent({ source: 'provider' });
    assert.equal(
      metrics.summaryLine(),
      'summary: 0 requests, 0 errors, 1 images sent since start; generations today: offline 2 (2 ok, 0 failed), yandex-art 5 (4 ok, 1 failed); library 57 pictures',
    );
  });

  test('the summary timer logs through the logger until stopped', async () => {
    const logger = createMemoryLogger();
    const metrics = make(logger, 5);
    metrics.startHourlySummary();
    metrics.startHourlySummary(); // a second start does not add a second timer
    while (logger.records.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    metrics.stopHourlySummary();
    const logged = logger.records.length;
    assert.ok(logger.records.every((record) => record.level === 'info' && record.message.startsWith('summary: ')));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(logger.records.length, logged, 'nothing is logged after stop');
  });

  test('a failing source turns into a warning, not a crash of the timer', async () => {
    const logger = createMemoryLogger();
    const metrics = new AppMetrics({
      logger,
      librarySize: () => 1,
      providerStatuses: () => {
        throw new Error('provider exploded');
      },
      ledger,
      summaryIntervalMs: 5,
      defaultMetrics: false,
    });
    metrics.startHourlySummary();
    while (logger.records.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    metrics.stopHourlySummary();
    assert.deepEqual(logger.records[0], { level: 'warn', message: 'could not build the summary line', meta: { error: 'provider exploded' } });
  });

  test('each instance has its own registry; the global default registry stays empty', async () => {
    const first = make();
    const second = make();
    first.pictureSent({ source: 'library' });
    assert.match(await first.registry.metrics(), /aiframe_images_sent_total\{source="library"\} 1/);
    assert.doesNotMatch(await second.registry.metrics(), /aiframe_images_sent_total\{/);
    assert.equal(globalRegistry.getMetricsAsArray().length, 0);
  });

  test('default process metrics can be left out', async () => {
    const metrics = new AppMetrics({ logger: createMemoryLogger(), librarySize: () => 0, providerStatuses: () => [], ledger, defaultMetrics: false });
    const text = await metrics.registry.metrics();
    assert.doesNotMatch(text, /process_cpu/);
    assert.match(text, /aiframe_library_pictures 0/);
    assert.equal(metrics.summaryLine(), 'summary: 0 requests, 0 errors, 0 images sent since start; generations today: none configured; library 0 pictures');
  });
});

describe('status page helpers', () => {
  test('escapeHtml escapes the five HTML metacharacters', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    assert.equal(escapeHtml(12), '12');
  });

  test('durations and times read naturally', () => {
    assert.equal(formatDuration(42), '42 s');
    assert.equal(formatDuration(7 * 60 + 3), '7 min');
    assert.equal(formatDuration(2 * 3600 + 5 * 60), '2 h 5 min');
    assert.equal(formatDuration(3 * 86_400 + 4 * 3600 + 59), '3 d 4 h');
    const now = new Date('2026-03-02T09:00:00');
    assert.equal(formatLocalTime(new Date('2026-03-02T17:05:00'), now), '17:05');
    assert.equal(formatLocalTime(new Date('2026-03-03T00:00:00'), now), '2026-03-03 00:00');
  });
});
