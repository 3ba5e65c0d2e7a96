/**
 * Issue "Never a blank frame", point 8: a paid provider has a daily limit unless the owner
 * writes `unlimited`, and a damaged stats.json does not reset today's count to zero.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_PAID_DAILY_LIMIT } from '../../src/operations/provider-gate.js';
import { FakeYandexArt } from '../support/fake-yandex-art.js';
import { startTestServer, startAndWait, type TestServer } from '../support/test-server.js';
import { API_KEY, FOLDER, tempRoot, writeCredentials } from '../yandex-art/harness.js';

async function ydArtStatus(server: TestServer): Promise<{ ready: boolean; reason?: string; daily_limit?: number; today: { calls: number } }> {
  const report = (await (await fetch(`${server.url}/status.json`)).json()) as { providers: { id: string }[] };
  return report.providers.find((provider) => provider.id === 'ydArt') as never;
}

async function withYdArt(rules: string, root?: string): Promise<{ fake: FakeYandexArt; server: TestServer; root: string }> {
  const fake = await FakeYandexArt.start({ folderId: FOLDER, credentials: [API_KEY], pendingPolls: 0 });
  const dir = root ?? (await tempRoot());
  await writeCredentials(join(dir, 'data'), { folder_id: FOLDER, api_key: API_KEY });
  const server = await startTestServer({
    root: dir,
    optionsYaml: `image_generate_threshold: 0\nproviders:\n  ydArt:\n    base_url: ${fake.url}\n    poll_interval_seconds: 0.02\n${rules}`,
  });
  return { fake, server, root: dir };
}

describe('paid providers: daily limit', () => {
  test(`without daily_limit a paid provider stops at ${DEFAULT_PAID_DAILY_LIMIT} a day; unlimited and a number are honoured`, async () => {
    for (const [rules, expected] of [
      ['', DEFAULT_PAID_DAILY_LIMIT],
      ['    daily_limit: unlimited\n', undefined],
      ['    daily_limit: 50\n', 50],
    ] as const) {
      const { fake, server } = await withYdArt(rules);
      try {
        assert.equal((await ydArtStatus(server)).daily_limit, expected, JSON.stringify(rules));
      } finally {
        await server.dispose();
        await fake.close();
      }
    }
  });

  test('a damaged stats.json does not reset today: the calls journal keeps the count', async () => {
    const first = await withYdArt('    daily_limit: 2\n');
    try {
      for (let i = 0; i < 2; i += 1) await startAndWait(first.server.url, { type: 'ydArt', prompt: `picture ${i}` });
      assert.equal((await ydArtStatus(first.server)).ready, false);
    } finally {
      await first.server.close();
      await first.fake.close();
    }
    await writeFile(join(first.root, 'data', 'stats.json'), '{"days": {"2026-');
    const again = await withYdArt('    daily_limit: 2\n', first.root);
    try {
      const status = await ydArtStatus(again.server);
      assert.equal(status.today.calls, 2);
      assert.equal(status.ready, false);
      assert.match(status.reason ?? '', /daily limit of 2 reached/);
      for (const type of ['ydArt', 'ydart', 'auto']) await startAndWait(again.server.url, { type });
      assert.equal(again.fake.posts.length, 0, 'nothing more paid for today');
    } finally {
      await again.server.dispose();
      await again.fake.close();
    }
  });
});
