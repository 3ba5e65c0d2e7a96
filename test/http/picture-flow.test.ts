/** The decision and the providers, end to end through HTTP on the real server. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ManualClock } from '../../src/util/clock.js';
import { FailingProvider, FixedBytesProvider } from '../support/test-providers.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

async function jpeg(width: number, height: number, colour: string): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).jpeg().toBuffer();
}

describe('picture flow', () => {
  test('auto generates after the threshold and serves stored pictures before it', async () => {
    const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
    const provider = new FixedBytesProvider('fixed', await jpeg(640, 960, '#3366aa'));
    const server = await startTestServer({ clock, extraProviders: [provider], optionsYaml: 'image_generate_threshold: 10\n' });
    try {
      await startAndWait(server.url, { type: 'auto' }); // empty library: generates
      assert.equal(provider.calls.length, 1);
      clock.advance(5 * 60_000);
      const cached = await startAndWait(server.url, { type: 'auto' });
      assert.equal(provider.calls.length, 1, 'within the threshold: no provider call');
      assert.equal(server.frames.get(cached)?.source, 'library');
      clock.advance(6 * 60_000);
      await startAndWait(server.url, { type: 'auto' });
      assert.equal(provider.calls.length, 2, 'threshold passed: generates');
      await startAndWait(server.url, { type: 'old' });
      assert.equal(provider.calls.length, 2, 'old never generates when pictures are stored');
      await startAndWait(server.url, { type: 'ydart' });
      assert.equal(provider.calls.length, 3, 'ydart always generates');
      assert.equal(server.library.size, 3);
    } finally {
      await server.dispose();
    }
  });

  test('a failed generation falls back to a stored picture; an empty library falls back to the offline generator', async () => {
    const failing = new FailingProvider('broken');
    const server = await startTestServer({ extraProviders: [failing], optionsYaml: 'providers:\n  offline:\n    enabled: false\n' });
    try {
      const first = await startAndWait(server.url, { type: 'auto' });
      assert.equal(failing.calls.length, 1);
      assert.equal(server.library.get(server.frames.get(first)?.pictureName ?? '')?.provider, 'offline', 'the last resort made it');
      const second = await startAndWait(server.url, { type: 'ydart' });
      assert.equal(failing.calls.length, 2);
      assert.equal(server.frames.get(second)?.source, 'fallback');
      assert.ok(server.logs.some((record) => record.level === 'warn' && record.message.includes('generation failed')));
    } finally {
      await server.dispose();
    }
  });

  test('the photo folder provider serves a photo without copying it into the library', async () => {
    const photos = await mkdtemp(join(tmpdir(), 'aiframe-photos-'));
    try {
      // A landscape photo with EXIF orientation 6: shown upright, so portrait on the frame.
      await sharp(await jpeg(600, 400, '#884422')).withMetadata({ orientation: 6 }).toFile(join(photos, 'Holiday.JPG'));
      const server = await startTestServer({ optionsYaml: `providers:\n  lim:\n    local_image_folder: ${photos}\n` });
      try {
        const id = await startAndWait(server.url, { type: 'lim' });
        const result = await fetch(`${server.url}/operation/result/${id}`);
        const body = (await result.json()) as { response: { image: string } };
        const info = await sharp(Buffer.from(body.response.image, 'base64')).metadata();
        assert.deepEqual([info.width, info.height], [320, 480]);
        assert.equal(server.library.size, 0);
        assert.deepEqual(await readdir(join(server.config.paths.imagesDir, 'original')), []);
        assert.equal((await stat(join(photos, 'Holiday.JPG'))).isFile(), true);
      } finally {
        await server.dispose();
      }
    } finally {
      await rm(photos, { recursive: true, force: true });
    }
  });

  test('the scan job prunes the oldest pictures down to the minimum, renders included', async () => {
    const provider = new FixedBytesProvider('fixed', await jpeg(320, 480, '#228844'));
    const server = await startTestServer({ extraProviders: [provider], optionsYaml: 'image_amount_min: 2\nimage_amount_max: 4\n' });
    try {
      for (let i = 0; i < 4; i += 1) await startAndWait(server.url, { type: 'ydart' });
      assert.equal(server.library.size, 4);
      const oldest = server.library.list().at(-1)?.name;
      await startAndWait(server.url, { type: 'ydart' }); // the fifth pushes the count over the maximum
      assert.equal(server.library.size, 2);
      assert.equal(server.library.get(oldest ?? ''), undefined);
      const frameDir = (await readdir(join(server.config.paths.imagesDir, 'frame')))[0] ?? '';
      await new Promise((resolve) => setTimeout(resolve, 50));
      const renders = (await readdir(join(server.config.paths.imagesDir, 'frame', frameDir))).filter((name) => name.endsWith('.jpg'));
      assert.equal(renders.length, 2, `renders left: ${renders.join(', ')}`);
      await server.jobs.scanImages();
      assert.equal(server.library.size, 2);
    } finally {
      await server.dispose();
    }
  });
});
