/**
 * The key never leaves the process: the real server as a child process, at DEBUG, through a
 * refused key (the fake echoes it back, as the real gateway does), a new key in the file, a
 * quota, a moderation refusal, a failed operation, a failed poll, a corrupt image and
 * successes. Then every file the server wrote and every HTTP answer it gave is searched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeYandexArt, INTERNAL_ERROR, QUOTA_EXCEEDED } from '../support/fake-yandex-art.js';
import { startChildServer, eventually } from './child-server.js';
import { FOLDER, tempRoot, writeCredentials } from './harness.js';

const REFUSED_KEY = 'AQVN-refused-key-5a1f0c3e9b7d2846';
const GOOD_KEY = 'AQVN-working-key-c7e2b94f1a3d6085';

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? filesUnder(join(folder, entry.name)) : Promise.resolve([join(folder, entry.name)]))),
  );
  return nested.flat();
}

test('no API key in any log line, file, metrics label or HTTP answer', async (t) => {
  const fake = await FakeYandexArt.start({ folderId: FOLDER, credentials: [GOOD_KEY] });
  const root = await tempRoot();
  const answers: string[] = [];
  const get = async (url: string): Promise<string> => {
    const text = await (await fetch(url)).text();
    answers.push(text);
    return text;
  };
  const generate = async (url: string, body: unknown): Promise<void> => {
    const start = await fetch(`${url}/operation/start`, { method: 'POST', body: JSON.stringify(body) });
    const text = await start.text();
    answers.push(text);
    const { id } = JSON.parse(text) as { id: string };
    await eventually(`operation ${id}`, async () => {
      const status = JSON.parse(await get(`${url}/operation/status/${id}`)) as { status: string };
      return status.status === 'pending' ? undefined : status.status;
    });
    await get(`${url}/operation/result/${id}`);
  };
  try {
    await mkdir(join(root, 'data'), { recursive: true });
    const credentialsFile = await writeCredentials(join(root, 'data'), { folder_id: FOLDER, api_key: REFUSED_KEY });
    await writeFile(
      join(root, 'data', 'options.yml'),
      // The check_pending cron every second, so the new key file is read within the test.
      `log_level: DEBUG\nimage_generate_threshold: 0\ncheck_pending_cron: "* * * * * *"\nproviders:\n  ydArt:\n    base_url: ${fake.url}\n    poll_interval_seconds: 0.05\n    retry_base_seconds: 0.01\n    max_attempts: 2\n`,
    );
    const server = await startChildServer(root);
    try {
      const { url } = server;
      // 1. The refused key: 401 with the key in the gateway's message.
      await generate(url, { type: 'ydArt', prompt: 'a harbour at night' });
      assert.ok(fake.requests.some((request) => request.status === 401));
      const refused = JSON.parse(await get(`${url}/status.json`)) as { providers: { id: string; ready: boolean; reason?: string }[] };
      const ydArt = refused.providers.find((provider) => provider.id === 'ydArt');
      assert.equal(ydArt?.ready, false);
      assert.match(ydArt?.reason ?? '', /Unknown api key '\[redacted\]'/);

      // 2. A working key in the file: picked up by the cron, no restart.
      await writeFile(credentialsFile, JSON.stringify({ folder_id: FOLDER, api_key: GOOD_KEY }));
      await eventually('ready with the new key', async () => {
        const report = JSON.parse(await get(`${url}/status.json`)) as { providers: { id: string; ready: boolean }[] };
        return report.providers.find((provider) => provider.id === 'ydArt')?.ready ? true : undefined;
      });

      // 3. Each failure the API can show, then successes.
      fake.postScript.push(QUOTA_EXCEEDED);
      await generate(url, { type: 'ydArt', prompt: 'a quota, then a picture' });
      await generate(url, { type: 'ydArt', prompt: 'something forbidden' });
      fake.outcome = 'error';
      await generate(url, { type: 'ydArt', prompt: 'a failed operation' });
      fake.outcome = 'corrupt';
      await generate(url, { type: 'ydArt', prompt: 'a corrupt picture' });
      fake.outcome = 'image';
      fake.pollScript.push(INTERNAL_ERROR);
      await generate(url, { type: 'ydArt', prompt: 'a failed poll, then a picture' });
      await generate(url, { type: 'auto' });

      for (const path of ['/status.json', '/status', '/metrics', '/healthz', '/api/providers', '/api/summary', '/api/pictures']) await get(`${url}${path}`);
      const pictures = await readdir(join(root, 'images', 'original'));
      for (const name of pictures.filter((file) => file.endsWith('.json'))) await get(`${url}/api/pictures/${name.slice(0, -'.json'.length)}`);
    } finally {
      await server.kill('SIGTERM');
    }

    const printed = server.output();
    // The failures really happened and were logged (otherwise this test proves nothing).
    for (const evidence of [/refused the credentials/, /HTTP 429/, /refused the prompt/, /ended with error 13/, /not valid base64/, /operation poll failed; trying again/, /new picture/]) {
      assert.match(printed, evidence);
    }
    const written = (await filesUnder(root)).filter((file) => file !== credentialsFile);
    assert.ok(written.some((file) => file.includes(`${join(root, 'log')}`)), 'the log files exist');
    t.diagnostic(`searched ${written.length} files, ${answers.length} HTTP answers and ${printed.length} characters of console output`);
    for (const key of [REFUSED_KEY, GOOD_KEY]) {
      for (const file of written) assert.ok(!(await readFile(file)).includes(key), `${key} in ${file}`);
      answers.forEach((answer, index) => assert.ok(!answer.includes(key), `${key} in HTTP answer ${index}: ${answer.slice(0, 200)}`));
      assert.ok(!printed.includes(key), `${key} in the console output`);
    }
    assert.equal(fake.posts.filter((post) => post.authorization === `Api-Key ${REFUSED_KEY}`).length, 1, 'the refused key was tried once');
  } finally {
    await fake.close();
    await rm(root, { recursive: true, force: true });
  }
});
