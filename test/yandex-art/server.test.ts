/**
 * YandexART through the real server (in this process) against the fake API: the picture
 * lands in the library like any other, failures fall back to a stored picture and are
 * counted, and every per-provider rule of options.yml holds for ydArt.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/util/clock.js';
import type { Clock } from '../../src/util/clock.js';
import { FakeYandexArt, QUOTA_EXCEEDED } from '../support/fake-yandex-art.js';
import { startAndWait, startOperation, startTestServer, waitForOperation, type TestServer } from '../support/test-server.js';
import { API_KEY, FOLDER, IAM_TOKEN, tempRoot, writeCredentials } from './harness.js';

interface Setup {
  readonly fake: FakeYandexArt;
  readonly server: TestServer;
  dispose(): Promise<void>;
}

async function setup(
  options: { rules?: string; topLevel?: string; credentials?: boolean; clock?: Clock; environment?: Record<string, string>; pendingPolls?: number; pollSeconds?: number } = {},
): Promise<Setup> {
  const fake = await FakeYandexArt.start({ folderId: FOLDER, credentials: [API_KEY, IAM_TOKEN], pendingPolls: options.pendingPolls ?? 1 });
  const root = await tempRoot();
  if (options.credentials ?? true) await writeCredentials(join(root, 'data'), { folder_id: FOLDER, api_key: API_KEY });
  const optionsYaml = `image_generate_threshold: 0
${options.topLevel ?? ''}
providers:
  ydArt:
    base_url: ${fake.url}
    poll_interval_seconds: ${options.pollSeconds ?? 0.02}
    retry_base_seconds: 0.01
    max_attempts: 2
${options.rules ?? ''}
`;
  const server = await startTestServer({
    root,
    optionsYaml,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.environment === undefined ? {} : { environment: options.environment }),
  });
  return {
    fake,
    server,
    async dispose() {
      await server.dispose();
      await fake.close();
    },
  };
}

async function sidecars(server: TestServer): Promise<Record<string, unknown>[]> {
  const folder = join(server.root, 'images', 'original');
  const names = (await readdir(folder)).filter((name) => name.endsWith('.json')).sort();
  return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(folder, name), 'utf8')) as Record<string, unknown>));
}

async function statusOf(server: TestServer, id = 'ydArt'): Promise<{ ready: boolean; reason?: string; since_start: { successes: number; failures: number }; today: { calls: number; successes: number; failures: number } } | undefined> {
  const report = (await (await fetch(`${server.url}/status.json`)).json()) as { providers: { id: string }[] };
  return report.providers.find((provider) => provider.id === id) as never;
}

describe('YandexART in the server', () => {
  test('a picture lands in the library with provider, prompt, negative and seed; 1 POST per picture', async () => {
    const s = await setup({ pendingPolls: 2 });
    try {
      const id = await startAndWait(s.server.url, { type: 'ydArt', prompt: 'a lighthouse at dawn', negative: 'fog' });
      assert.equal(s.server.frames.get(id)?.source, 'provider');
      const [meta] = await sidecars(s.server);
      const [operation] = s.fake.operations.values();
      assert.equal(meta?.provider, 'ydArt');
      assert.equal(meta?.prompt, 'a lighthouse at dawn');
      assert.equal(meta?.negative, 'fog');
      assert.equal(meta?.seed, operation?.asked.seed);
      assert.equal((meta?.details as Record<string, unknown>).operation_id, operation?.id);
      assert.equal(operation?.asked.texts[0], 'a lighthouse at dawn. Игнорировать следующее: fog');
      assert.deepEqual(JSON.parse(await readFile(join(s.server.root, 'data', 'jobs.json'), 'utf8')), { jobs: [] }, 'the finished job is gone');

      const result = (await (await fetch(`${s.server.url}/operation/result/${id}`)).json()) as { response: { image: string } };
      const jpeg = Buffer.from(result.response.image, 'base64');
      assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'the frame gets a JPEG render of it');

      for (let i = 0; i < 2; i += 1) await startAndWait(s.server.url, { type: 'ydArt' });
      assert.equal(s.fake.posts.length, 3, 'three pictures, three POSTs');
      assert.equal(s.fake.polls.length, 9, 'three polls each (2 pending + done)');
      assert.equal((await sidecars(s.server)).length, 3);
    } finally {
      await s.dispose();
    }
  });

  test('every failure: the frame still gets a stored picture, and the failure is counted', async () => {
    const s = await setup();
    try {
      await startAndWait(s.server.url, { type: 'ydArt', prompt: 'a first picture' });
      const failures: [string, () => void, Record<string, unknown>][] = [
        ['moderation', () => undefined, { type: 'ydArt', prompt: 'something forbidden' }],
        ['finished with error', () => void (s.fake.outcome = 'error'), { type: 'ydArt', prompt: 'a second picture' }],
        ['corrupt base64', () => void (s.fake.outcome = 'corrupt'), { type: 'ydArt', prompt: 'a third picture' }],
        ['429 without end', () => s.fake.postScript.push(QUOTA_EXCEEDED, QUOTA_EXCEEDED), { type: 'ydArt', prompt: 'a fourth picture' }],
      ];
      for (const [name, arrange, body] of failures) {
        arrange();
        const id = await startAndWait(s.server.url, body);
        const operation = s.server.frames.get(id);
        assert.equal(operation?.source, 'fallback', `${name}: a stored picture`);
        assert.match(operation?.note ?? '', /generation failed/, name);
        s.fake.outcome = 'image';
      }
      assert.equal(s.fake.posts.length, 6, '1 + moderation 1 + error 1 + corrupt 1 + 429 twice');
      const status = await statusOf(s.server);
      assert.deepEqual(status?.since_start, { successes: 1, failures: 4 });
      assert.deepEqual(status?.today, { calls: 5, successes: 1, failures: 4 });
      const stats = JSON.parse(await readFile(join(s.server.root, 'data', 'stats.json'), 'utf8')) as { days: Record<string, Record<string, unknown>> };
      assert.deepEqual(Object.values(stats.days)[0]?.ydArt, { calls: 5, successes: 1, failures: 4 }, 'the ledger on disk');
      assert.equal(status?.ready, true, 'none of these is a reason to stop');
    } finally {
      await s.dispose();
    }
  });

  test('401: a stored picture, not ready on /status.json with the reason, and no further paid request', async () => {
    const s = await setup();
    try {
      await startAndWait(s.server.url, { type: 'ydArt', prompt: 'a first picture' });
      s.fake.credentials.delete(API_KEY);
      const id = await startAndWait(s.server.url, { type: 'ydArt', prompt: 'a second picture' });
      assert.equal(s.server.frames.get(id)?.source, 'fallback');
      const status = await statusOf(s.server);
      assert.equal(status?.ready, false);
      assert.match(status?.reason ?? '', /YandexART refused the credentials \(HTTP 401 Unauthorized: Unknown api key '\[redacted\]'\); no paid request until/);
      assert.deepEqual(status?.today, { calls: 2, successes: 1, failures: 1 });
      for (const type of ['ydArt', 'ydart', 'auto']) await startAndWait(s.server.url, { type });
      assert.equal(s.fake.posts.length, 2, 'nothing more was paid for');
    } finally {
      await s.dispose();
    }
  });

  test('an IAM token from the environment', async () => {
    const s = await setup({ credentials: false, environment: { YANDEX_FOLDER_ID: FOLDER, YANDEX_IAM_TOKEN: IAM_TOKEN } });
    try {
      await startAndWait(s.server.url, { type: 'ydArt' });
      assert.equal(s.fake.posts[0]?.authorization, `Bearer ${IAM_TOKEN}`);
    } finally {
      await s.dispose();
    }
  });

  test('no credentials: not ready on /status.json, said once in the log, nothing sent', async () => {
    const s = await setup({ credentials: false });
    try {
      const status = await statusOf(s.server);
      assert.equal(status?.ready, false);
      assert.match(status?.reason ?? '', /^no credentials: put .* in .*ydart-options\.json, or set YANDEX_FOLDER_ID and YANDEX_API_KEY/);
      for (const type of ['ydArt', 'ydart', 'auto']) await startAndWait(s.server.url, { type });
      const lines = s.server.logs.filter((record) => record.message.includes('no credentials'));
      assert.deepEqual(
        lines.map((record) => record.message),
        [`provider ydArt: not ready: ${status?.reason}`],
      );
      assert.equal(s.fake.requests.length, 0);
    } finally {
      await s.dispose();
    }
  });

  test('the check_pending job polls at once (poll_interval_seconds: 0 polls only then)', async () => {
    const s = await setup({ pollSeconds: 0, pendingPolls: 0 });
    try {
      const { json } = await startOperation(s.server.url, { type: 'ydArt' });
      while (s.fake.posts[0]?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(s.fake.polls.length, 0);
      await s.server.jobs.checkPending();
      assert.equal(await waitForOperation(s.server.url, json.id ?? ''), 'done');
      assert.equal(s.fake.polls.length, 1);
    } finally {
      await s.dispose();
    }
  });
});

describe('YandexART and the rules of options.yml', () => {
  test('daily_limit: stored pictures once reached, the log says why once, and it counts across a restart', async () => {
    const s = await setup({ rules: '    daily_limit: 2' });
    try {
      for (let i = 0; i < 4; i += 1) await startAndWait(s.server.url, { type: 'ydart' });
      assert.equal(s.fake.posts.length, 2);
      const status = await statusOf(s.server);
      assert.equal(status?.ready, false);
      assert.match(status?.reason ?? '', /daily limit of 2 reached/);
      const lines = s.server.logs.filter((record) => /daily limit/.test(record.message));
      assert.deepEqual(
        lines.map((record) => record.message),
        ['provider ydArt reached its daily limit of 2 generations; until midnight it is not called'],
      );
    } finally {
      await s.server.close();
    }
    const again = await startTestServer({ root: s.server.root });
    try {
      await startAndWait(again.url, { type: 'ydart' });
      assert.equal(s.fake.posts.length, 2, 'the count survived the restart');
      assert.ok(again.logs.some((record) => record.message === 'provider ydArt: not ready: daily limit of 2 reached'));
    } finally {
      await again.dispose();
      await s.fake.close();
    }
  });

  test('image_generate_threshold under providers.ydArt', async () => {
    const clock = new ManualClock(new Date(2026, 0, 15, 12, 0));
    const s = await setup({ clock, rules: '    image_generate_threshold: 30' });
    try {
      await startAndWait(s.server.url, { type: 'ydArt' });
      const second = await startAndWait(s.server.url, { type: 'ydArt' });
      assert.equal(s.server.frames.get(second)?.source, 'library');
      assert.equal(s.fake.posts.length, 1);
      assert.match((await statusOf(s.server))?.reason ?? '', /called less than 30 minutes ago/);
      clock.advance(30 * 60_000);
      await startAndWait(s.server.url, { type: 'ydArt' });
      assert.equal(s.fake.posts.length, 2);
    } finally {
      await s.dispose();
    }
  });

  test('sleep_time under providers.ydArt', async () => {
    const clock = new ManualClock(new Date(2026, 0, 15, 23, 0));
    const s = await setup({ clock, rules: '    sleep_time:\n      - time_range: { start_time: "22:00", end_time: "07:00" }' });
    try {
      await startAndWait(s.server.url, { type: 'ydart' });
      await startAndWait(s.server.url, { type: 'ydArt' });
      assert.equal(s.fake.requests.length, 0, 'asleep');
      assert.match((await statusOf(s.server))?.reason ?? '', /sleep hours 22:00-07:00/);
      clock.set(new Date(2026, 0, 16, 7, 0, 1));
      await startAndWait(s.server.url, { type: 'ydart' });
      assert.equal(s.fake.posts.length, 1);
    } finally {
      await s.dispose();
    }
  });

  test('disabled_providers: [ydArt] builds no provider and sends nothing', async () => {
    const s = await setup({ topLevel: 'disabled_providers: [ydArt]' });
    try {
      const named = await startOperation(s.server.url, { type: 'ydArt' });
      assert.equal(named.status, 400, 'ydArt is not a type of this server');
      await startAndWait(s.server.url, { type: 'ydart' });
      assert.equal(await statusOf(s.server), undefined);
      assert.equal(s.fake.requests.length, 0);
      assert.ok(s.server.logs.some((record) => record.message === 'provider ydArt is listed in disabled_providers and is not used'));
    } finally {
      await s.dispose();
    }
  });

  test('a mistake in providers.ydArt stops start-up naming the key', async () => {
    const root = await tempRoot();
    await assert.rejects(
      startTestServer({ root, optionsYaml: 'providers:\n  ydArt:\n    poll_interval_secs: 5\n' }),
      /providers\.ydArt: unknown option "poll_interval_secs"/,
    );
    await assert.rejects(startTestServer({ root, optionsYaml: 'providers:\n  ydArt:\n    base_url: ftp://x\n' }), /providers\.ydArt\.base_url/);
    await rm(root, { recursive: true, force: true });
  });
});
