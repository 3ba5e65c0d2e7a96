/**
 * Issue "Never a blank frame", point 2: every stored picture unrenderable, or the only one
 * truncated. The fallback chain is bounded (no stack overflow) and ends with the offline
 * picture, or a black frame when the offline generator is disabled.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startTestServer, startAndWait, type TestServer } from '../support/test-server.js';

/** A JPEG cut off after its first third: the magic number is right, the picture is not. */
async function truncatedJpeg(colour: string): Promise<Buffer> {
  const whole = await sharp({ create: { width: 640, height: 960, channels: 3, background: colour } }).jpeg().toBuffer();
  return whole.subarray(0, Math.floor(whole.length / 3));
}

async function rootWith(files: Record<string, Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-fallback-'));
  const original = join(root, 'images', 'original');
  await mkdir(original, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(original, name), bytes);
  return root;
}

async function frameJpeg(server: TestServer, id: string): Promise<{ width?: number; height?: number; mean: number }> {
  const result = (await (await fetch(`${server.url}/operation/result/${id}`)).json()) as { status: string; response: { image: string } };
  assert.equal(result.status, 'done');
  const bytes = Buffer.from(result.response.image, 'base64');
  const meta = await sharp(bytes).metadata();
  const stats = await sharp(bytes).stats();
  return { width: meta.width, height: meta.height, mean: stats.channels.reduce((sum, channel) => sum + channel.mean, 0) / stats.channels.length };
}

describe('fallback chain', () => {
  test('the only stored picture is truncated: old and auto end with the offline picture', async () => {
    const server = await startTestServer({ root: await rootWith({ '20260101-000000-000-earlier-aaaaaa.jpg': await truncatedJpeg('#884422') }), optionsYaml: 'image_generate_threshold: 600\n' });
    try {
      assert.equal(server.library.size, 1);
      const first = await startAndWait(server.url, { type: 'old' });
      const standIn = server.frames.get(first);
      assert.equal(standIn?.source, 'provider', 'the offline generator stood in');
      assert.deepEqual(Object.values(await frameJpeg(server, first)).slice(0, 2), [320, 480]);
      for (const type of ['old', 'auto']) {
        const id = await startAndWait(server.url, { type });
        assert.equal(server.frames.get(id)?.pictureName, standIn?.pictureName, `${type}: the stand-in, kept; never the truncated one`);
        assert.deepEqual(Object.values(await frameJpeg(server, id)).slice(0, 2), [320, 480]);
      }
    } finally {
      await server.dispose();
    }
  });

  test('every stored picture is unrenderable and offline is disabled: a black frame, never an error', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 5; i += 1) files[`2026010${i}-000000-000-earlier-aaaaa${i}.jpg`] = await truncatedJpeg('#2266aa');
    const server = await startTestServer({ root: await rootWith(files), optionsYaml: 'image_generate_threshold: 600\ndisabled_providers: [offline]\n' });
    try {
      for (let i = 0; i < 4; i += 1) {
        const id = await startAndWait(server.url, { type: 'old' });
        assert.equal(server.frames.get(id)?.source, 'black');
        const shown = await frameJpeg(server, id);
        assert.deepEqual([shown.width, shown.height], [320, 480]);
        assert.ok(shown.mean < 8, `black, mean ${shown.mean}`);
      }
    } finally {
      await server.dispose();
    }
  });
});
