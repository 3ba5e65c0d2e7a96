/**
 * Issue "Never a blank frame", point 1: `data/` (or everything) full or read-only. The
 * frame still gets a picture; a paid provider is not called when its call cannot be
 * counted; /status.json says what is wrong in words, and stops saying it once it is over.
 * Runs on a real small tmpfs (root only); elsewhere each case skips with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FakeYandexArt } from '../support/fake-yandex-art.js';
import { mountSmallFilesystem, type SmallFilesystem } from '../support/small-filesystem.js';
import { assertFrameGetsJpeg } from '../support/server-checks.js';
import { startTestServer, startAndWait, type TestServer } from '../support/test-server.js';
import { API_KEY, FOLDER, writeCredentials } from '../yandex-art/harness.js';

interface Notice {
  key: string;
  level: string;
  message: string;
}

async function notices(server: TestServer): Promise<Notice[]> {
  return ((await (await fetch(`${server.url}/status.json`)).json()) as { notices: Notice[] }).notices;
}

/** A root whose `data/` (or the whole root) is a small tmpfs; undefined with the reason printed when none can be mounted. */
async function rootWithSmallFs(what: 'data' | 'all', t: { skip(reason: string): void }): Promise<{ root: string; fs: SmallFilesystem; cleanup(): Promise<void> } | undefined> {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-disk-'));
  const mounted = await mountSmallFilesystem({ at: what === 'data' ? join(root, 'data') : root, sizeKb: what === 'data' ? 256 : 2048 });
  if ('skip' in mounted) {
    await rm(root, { recursive: true, force: true });
    process.stdout.write(`# skipped: ${mounted.skip}\n`);
    t.skip(mounted.skip);
    return undefined;
  }
  return {
    root,
    fs: mounted.fs,
    async cleanup() {
      await mounted.fs.unmount();
      await rm(root, { recursive: true, force: true });
    },
  };
}

describe('disk full or read-only', () => {
  test('data/ full: auto and ydart still end with a picture; /status.json says the disk is full; the notice clears once it has room', async (t) => {
    const disk = await rootWithSmallFs('data', t);
    if (disk === undefined) return;
    let server: TestServer | undefined;
    try {
      server = await startTestServer({ root: disk.root, optionsYaml: 'image_generate_threshold: 0\n' });
      await disk.fs.fill();
      for (const type of ['auto', 'ydart', 'old']) {
        const id = await startAndWait(server.url, { type });
        await assertFrameGetsJpeg(server.url, id);
      }
      const [full] = await notices(server);
      assert.match(full?.message ?? '', /disk is full \(ENOSPC\)/);
      assert.match(full?.message ?? '', /stats\.json/);
      assert.equal(server.library.size, 2, 'the free offline provider still made its pictures (images/ has room)');

      await disk.fs.unfill();
      await startAndWait(server.url, { type: 'auto' });
      assert.deepEqual(await notices(server), [], 'over once a write works again');
    } finally {
      await server?.close();
      await disk.cleanup();
    }
  });

  test('data/ read-only: a paid provider is not called, a stored picture is served, and the page says the file system is read-only', async (t) => {
    const disk = await rootWithSmallFs('data', t);
    if (disk === undefined) return;
    const fake = await FakeYandexArt.start({ folderId: FOLDER, credentials: [API_KEY], pendingPolls: 0 });
    let server: TestServer | undefined;
    try {
      await writeCredentials(join(disk.root, 'data'), { folder_id: FOLDER, api_key: API_KEY });
      server = await startTestServer({
        root: disk.root,
        optionsYaml: `image_generate_threshold: 0\nproviders:\n  ydArt:\n    base_url: ${fake.url}\n    poll_interval_seconds: 0.02\n`,
      });
      const stored = await server.library.add(await sharp({ create: { width: 320, height: 480, channels: 3, background: '#225588' } }).jpeg().toBuffer(), { provider: 'earlier' });
      disk.fs.readOnly(true);
      for (const type of ['auto', 'ydart', 'ydArt']) {
        const id = await startAndWait(server.url, { type });
        const operation = server.frames.get(id);
        assert.equal(operation?.pictureName, stored.name, `${type}: the stored picture`);
        assert.match(operation?.note ?? '', /not called: its call count cannot be saved/);
        await assertFrameGetsJpeg(server.url, id);
      }
      assert.equal(fake.posts.length, 0, 'no paid call was made uncounted');
      const [readOnly] = await notices(server);
      assert.match(readOnly?.message ?? '', /read-only \(EROFS\)/);
      const page = await (await fetch(`${server.url}/status`)).text();
      assert.match(page, /read-only \(EROFS\)/, 'the HTML status page says it too');
    } finally {
      disk.fs.readOnly(false);
      await server?.close();
      await fake.close();
      await disk.cleanup();
    }
  });

  test('everything full and the library empty: the offline picture is shown from memory', async (t) => {
    const disk = await rootWithSmallFs('all', t);
    if (disk === undefined) return;
    let server: TestServer | undefined;
    try {
      server = await startTestServer({ root: disk.root });
      await disk.fs.fill();
      for (const type of ['auto', 'old']) {
        const id = await startAndWait(server.url, { type });
        const operation = server.frames.get(id);
        assert.equal(operation?.source, 'provider');
        assert.match(operation?.note ?? '', /could not be saved/);
        await assertFrameGetsJpeg(server.url, id);
      }
      assert.equal(server.library.size, 0, 'nothing could be kept');
      const messages = (await notices(server)).map((notice) => notice.message).join('\n');
      assert.match(messages, /disk is full/);
    } finally {
      await server?.close();
      await disk.cleanup();
    }
  });
});
