/** Thumbnails leave with their picture, however the picture leaves. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '../support/test-server.js';
import { eventually } from '../support/generate-request.js';
import { call, jpeg, TOKEN_OPTIONS } from './api-client.js';

describe('thumbnail files', () => {
  test('a picture deleted by hand loses its thumbnail at the next scan, or at the next start', async () => {
    const first = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    const root = first.root;
    const thumbnailOf = (name: string): string => join(first.config.paths.imagesDir, 'thumbnail', `${name}.jpg`);
    const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);
    const deleteByHand = async (name: string): Promise<void> => {
      const original = first.library.originalPath(name);
      await rm(original);
      await rm(original.replace(/\.[a-z]+$/, '.json'));
    };
    let scanned: string;
    let stopped: string;
    try {
      scanned = (await first.library.add(await jpeg(64, 96, '#335577'), { provider: 'seeded' })).name;
      stopped = (await first.library.add(await jpeg(64, 96, '#775533'), { provider: 'seeded' })).name;
      for (const name of [scanned, stopped]) {
        assert.equal((await call(first.url, 'GET', `/api/pictures/${name}/thumbnail`)).status, 200);
        assert.equal(await exists(thumbnailOf(name)), true);
      }
      await deleteByHand(scanned);
      await first.jobs.scanImages();
      await eventually(() => !first.library.get(scanned), 'the scan notices');
      // The removal listener deletes in the background.
      for (let i = 0; i < 100 && (await exists(thumbnailOf(scanned))); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(await exists(thumbnailOf(scanned)), false, 'removed with the picture at the scan');
      assert.equal(await exists(thumbnailOf(stopped)), true);
    } finally {
      await first.close();
    }
    await deleteByHand(stopped);
    const second = await startTestServer({ root, optionsYaml: TOKEN_OPTIONS });
    try {
      assert.equal(await exists(thumbnailOf(stopped)), false, 'an orphan is removed at start');
      assert.ok(second.logs.some((record) => record.message === 'deleted thumbnails of pictures no longer stored'));
    } finally {
      await second.dispose();
    }
  });
});
