/**
 * A prompts.json that cannot be read is set aside, and the owner reads so in /status.json,
 * with the place the file went: not only in the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../support/test-server.js';

interface StatusNotice {
  key: string;
  level: string;
  message: string;
  since: string;
}

async function notices(url: string): Promise<StatusNotice[]> {
  const response = await fetch(`${url}/status.json`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { notices: StatusNotice[] }).notices;
}

test('an unreadable prompts.json: set aside, the server starts, and /status.json names the copy', async () => {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-server-'));
  const dataDir = join(root, 'data');
  await mkdir(dataDir, { recursive: true });
  const broken = '{"prompts": [{"idx": 1, "prompt": "my precious prompt"} {"idx": 2}';
  await writeFile(join(dataDir, 'prompts.json'), broken);
  const server = await startTestServer({ root });
  try {
    const [copy, ...more] = (await readdir(dataDir)).filter((name) => name.startsWith('prompts.json.corrupt-'));
    assert.equal(more.length, 0);
    assert.ok(copy, 'the file was set aside');
    assert.equal(await readFile(join(dataDir, copy), 'utf8'), broken);

    const list = await notices(server.url);
    const notice = list.find((entry) => entry.key === 'prompts:corrupt');
    assert.ok(notice, JSON.stringify(list));
    assert.equal(notice.level, 'error');
    assert.ok(notice.message.includes(join(dataDir, copy)), notice.message);
    assert.match(notice.message, /could not be read/);
    assert.ok(!Number.isNaN(Date.parse(notice.since)));
  } finally {
    await server.dispose();
  }
});

test('a readable prompts.json raises no notice', async () => {
  const server = await startTestServer();
  try {
    assert.deepEqual(await notices(server.url), []);
  } finally {
    await server.dispose();
  }
});
