/** Checks the adapter tests make through the real server (test-server.ts). */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { PictureMeta } from '../../src/library/picture.js';
import type { TestServer } from './test-server.js';

/** Puts a frame-sized JPEG in the library, as a picture made earlier: what the frame gets when no provider is ready. */
export async function addEarlierPicture(server: TestServer, background: string): Promise<PictureMeta> {
  const stored = await sharp({ create: { width: 320, height: 480, channels: 3, background } }).jpeg().toBuffer();
  return server.library.add(stored, { provider: 'earlier' });
}

/** The operation's result, as the frame fetches it, is a JPEG of the frame's own size. */
export async function assertFrameGetsJpeg(serverUrl: string, id: string): Promise<void> {
  const result = (await (await fetch(`${serverUrl}/operation/result/${id}`)).json()) as { response: { image: string } };
  const shown = await sharp(Buffer.from(result.response.image, 'base64')).metadata();
  assert.deepEqual([shown.format, shown.width, shown.height], ['jpeg', 320, 480]);
}
