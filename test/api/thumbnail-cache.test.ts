/** ThumbnailCache under a gallery of thousands: a bounded number of decodes at once, one per picture. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThumbnailCache } from '../../src/render/thumbnail-cache.js';
import { createMemoryLogger } from '../../src/util/logger.js';

/** A renderer that finishes only when the test says, counting how many run at once. */
function gatedRenderer(): { render: (path: string) => Promise<Buffer>; running: () => number; peak: () => number; calls: string[]; releaseAll(): void } {
  let running = 0;
  let peak = 0;
  const calls: string[] = [];
  const waiting: Array<() => void> = [];
  let open = false;
  return {
    calls,
    running: () => running,
    peak: () => peak,
    releaseAll() {
      open = true;
      for (const release of waiting.splice(0)) release();
    },
    async render(path) {
      calls.push(path);
      running += 1;
      peak = Math.max(peak, running);
      if (!open) await new Promise<void>((release) => waiting.push(release));
      running -= 1;
      if (path.includes('broken')) throw new Error('VipsJpeg: premature end of JPEG image');
      return Buffer.from(`thumbnail of ${path}`);
    },
  };
}

describe('ThumbnailCache', () => {
  test('a thousand requests decode two pictures at a time, each picture once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aiframe-'));
    try {
      const renderer = gatedRenderer();
      const cache = new ThumbnailCache({ root, logger: createMemoryLogger(), concurrency: 2, render: renderer.render });
      await cache.open();
      const names = Array.from({ length: 500 }, (_, i) => `20260101-000000-000-seeded-${String(i).padStart(6, '0')}`);
      // Every picture asked for twice, as two tabs scrolling the same gallery would.
      const all = [...names, ...names].map((name) => cache.ensure(name, `/originals/${name}.jpg`));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(renderer.running(), 2, 'two decodes under way, the rest wait');
      renderer.releaseAll();
      const paths = await Promise.all(all);
      assert.equal(renderer.peak(), 2);
      assert.equal(renderer.calls.length, names.length, 'one decode per picture');
      assert.equal(new Set(paths).size, names.length);
      assert.equal((await readdir(root)).length, names.length);
      assert.equal(await readFile(cache.pathFor(names[0] as string), 'utf8'), `thumbnail of /originals/${names[0]}.jpg`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('a failed decode leaves no file and frees its slot; the next request tries again', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aiframe-'));
    try {
      const renderer = gatedRenderer();
      renderer.releaseAll();
      const cache = new ThumbnailCache({ root, logger: createMemoryLogger(), concurrency: 1, render: renderer.render });
      await cache.open();
      await assert.rejects(cache.ensure('20260101-000000-000-seeded-aaaaaa', '/originals/broken.jpg'), /premature end/);
      assert.equal(cache.has('20260101-000000-000-seeded-aaaaaa'), false);
      assert.deepEqual(await readdir(root), []);
      // The one slot is free again: a good picture after it is made.
      await cache.ensure('20260101-000000-000-seeded-bbbbbb', '/originals/good.jpg');
      await assert.rejects(cache.ensure('20260101-000000-000-seeded-aaaaaa', '/originals/broken.jpg'));
      assert.equal(renderer.calls.filter((path) => path.includes('broken')).length, 2, 'not remembered as made');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
