import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { profileKey, type FrameProfile } from '../../src/render/frame-profile.js';
import { readJpegInfo } from '../../src/render/jpeg-info.js';
import { RenderCache, type RenderCacheOptions } from '../../src/render/render-cache.js';
import { TEMP_PREFIX } from '../../src/util/atomic-write.js';
import { createMemoryLogger } from '../../src/util/logger.js';

const PROFILE: FrameProfile = { width: 320, height: 480, fitMode: 'auto', fitThreshold: 0.03, quality: 80 };

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A renderer that records its calls and returns the input path's bytes tagged, without sharp. */
function fakeRenderer(): { calls: string[]; render: NonNullable<RenderCacheOptions['render']> } {
  const calls: string[] = [];
  return {
    calls,
    render: async (input) => {
      calls.push(input);
      return Buffer.from(`render of ${input}`);
    },
  };
}

async function openCache(options: Partial<RenderCacheOptions> = {}): Promise<RenderCache> {
  const cache = new RenderCache({ root, profile: PROFILE, logger: createMemoryLogger(), ...options });
  await cache.open();
  return cache;
}

/** Lets queued promise callbacks and immediate tasks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('RenderCache', () => {
  test('renders a picture once and reuses it, across restarts', async () => {
    const fake = fakeRenderer();
    const cache = await openCache({ render: fake.render });
    assert.equal(cache.has('pic-1'), false);
    const first = await cache.ensure('pic-1', '/originals/pic-1.png');
    assert.equal(first, path.join(root, profileKey(PROFILE), 'pic-1.jpg'));
    assert.equal(first, cache.pathFor('pic-1'));
    assert.equal(cache.has('pic-1'), true);
    assert.equal(await cache.ensure('pic-1', '/originals/pic-1.png'), first);
    assert.deepEqual(fake.calls, ['/originals/pic-1.png']);
    assert.equal(await readFile(first, 'utf8'), 'render of /originals/pic-1.png');

    const again = fakeRenderer();
    const reopened = await openCache({ render: again.render });
    assert.equal(reopened.has('pic-1'), true, 'loaded from disk at open');
    assert.equal(await reopened.ensure('pic-1', '/originals/pic-1.png'), first);
    assert.deepEqual(again.calls, []);
  });

  test('concurrent ensure calls for one picture share one render', async () => {
    const fake = fakeRenderer();
    const cache = await openCache({ render: fake.render });
    const paths = await Promise.all(Array.from({ length: 5 }, () => cache.ensure('pic-1', '/o/pic-1.png')));
    assert.equal(new Set(paths).size, 1);
    assert.equal(fake.calls.length, 1);
  });

  test('runs at most two renders at once and queues the rest', async () => {
    let active = 0;
    let most = 0;
    let started = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const cache = await openCache({
      render: async (input) => {
        started += 1;
        active += 1;
        most = Math.max(most, active);
        await gate;
        active -= 1;
        return Buffer.from(input);
      },
    });
    const all = Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => cache.ensure(name, `/o/${name}`)));
    await settle();
    assert.equal(started, 2, 'only two started while they are blocked');
    release();
    await all;
    assert.equal(started, 5);
    assert.equal(most, 2);
    for (const name of ['a', 'b', 'c', 'd', 'e']) assert.equal(cache.has(name), true);
  });

  test('a failed render rejects, leaves nothing behind and is retried next time', async () => {
    let fail = true;
    const cache = await openCache({
      render: async () => {
        if (fail) throw new Error('cannot render picture /o/x for the frame: corrupt');
        return Buffer.from('ok');
      },
    });
    await assert.rejects(cache.ensure('x', '/o/x'), /corrupt/);
    assert.equal(cache.has('x'), false);
    assert.deepEqual(await readdir(path.join(root, profileKey(PROFILE))), ['external']);
    fail = false;
    assert.equal(await readFile(await cache.ensure('x', '/o/x'), 'utf8'), 'ok');
  });

  test('remove deletes the render and ignores a missing one', async () => {
    const fake = fakeRenderer();
    const cache = await openCache({ render: fake.render });
    const file = await cache.ensure('pic-1', '/o/pic-1');
    await cache.remove('pic-1');
    assert.equal(cache.has('pic-1'), false);
    await assert.rejects(readFile(file), { code: 'ENOENT' });
    await cache.remove('pic-1');
    await cache.remove('never-rendered');
  });

  test('open deletes temporaries and the folders of other profiles, nothing else', async () => {
    const own = path.join(root, profileKey(PROFILE));
    const otherProfiles = [
      profileKey({ ...PROFILE, quality: 95 }),
      profileKey({ ...PROFILE, fitMode: 'cover' }),
      profileKey({ ...PROFILE, width: 240, height: 320, fitThreshold: 0.1 }),
    ];
    for (const key of otherProfiles) {
      await mkdir(path.join(root, key, 'external'), { recursive: true });
      await writeFile(path.join(root, key, 'old.jpg'), 'old');
    }
    await mkdir(path.join(root, 'my-notes'), { recursive: true });
    await writeFile(path.join(root, '320x480-notes.txt'), 'a file, not a profile folder');
    await mkdir(path.join(own, 'external'), { recursive: true });
    await writeFile(path.join(own, 'kept.jpg'), 'render');
    await writeFile(path.join(own, `${TEMP_PREFIX}kept.jpg-abc123`), 'half');
    await writeFile(path.join(own, 'external', `${TEMP_PREFIX}x.jpg-abc123`), 'half');

    const logger = createMemoryLogger();
    const cache = new RenderCache({ root, profile: PROFILE, logger, render: fakeRenderer().render });
    await cache.open();

    assert.deepEqual((await readdir(root)).sort(), ['320x480-notes.txt', profileKey(PROFILE), 'my-notes'].sort());
    assert.deepEqual((await readdir(own)).sort(), ['external', 'kept.jpg']);
    assert.deepEqual(await readdir(path.join(own, 'external')), []);
    assert.equal(cache.has('kept'), true);
    assert.ok(logger.records.some((r) => r.message === 'deleted renders of other frame profiles'));
  });

  test('refuses names that could leave the folder', async () => {
    const cache = await openCache({ render: fakeRenderer().render });
    for (const name of ['../escape', 'a/b', '', '.hidden', `${TEMP_PREFIX}x`]) {
      assert.throws(() => cache.pathFor(name), /not a valid picture name/);
      await assert.rejects(cache.ensure(name, '/o/x'), /not a valid picture name/);
    }
  });

  test('must be opened first', async () => {
    const cache = new RenderCache({ root, profile: PROFILE, logger: createMemoryLogger() });
    await assert.rejects(cache.ensure('x', '/o/x'), /open\(\) must be awaited/);
  });

  test('renders real pictures with the frame encoder by default', async () => {
    const original = path.join(root, 'original.png');
    await sharp({ create: { width: 600, height: 900, channels: 4, background: { r: 10, g: 120, b: 200, alpha: 1 } } })
      .png()
      .toFile(original);
    const cache = await openCache();
    const info = readJpegInfo(await readFile(await cache.ensure('real', original)));
    assert.equal(info?.baseline, true);
    assert.equal(info?.width, 320);
    assert.equal(info?.height, 480);
  });
});

describe('RenderCache external renders', () => {
  async function sources(count: number): Promise<string[]> {
    const dir = path.join(root, 'photos');
    await mkdir(dir, { recursive: true });
    const files: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const file = path.join(dir, `photo-${i}.jpg`);
      await writeFile(file, `photo ${i}`);
      files.push(file);
    }
    return files;
  }

  async function externalFiles(): Promise<string[]> {
    return readdir(path.join(root, profileKey(PROFILE), 'external'));
  }

  test('renders a foreign file once, keyed by path, size and mtime', async () => {
    const fake = fakeRenderer();
    const cache = await openCache({ render: fake.render });
    const [photo] = await sources(1);
    assert.ok(photo);
    const first = await cache.ensureExternal(photo);
    assert.equal(path.dirname(first), path.join(root, profileKey(PROFILE), 'external'));
    assert.equal(await cache.ensureExternal(photo), first);
    assert.equal(fake.calls.length, 1);

    // The user edits the photo: a new render, the old one ages out later.
    await writeFile(photo, 'photo 0, edited');
    await utimes(photo, new Date('2030-01-01T00:00:00Z'), new Date('2030-01-01T00:00:00Z'));
    const second = await cache.ensureExternal(photo);
    assert.notEqual(second, first);
    assert.equal(fake.calls.length, 2);

    const reopened = fakeRenderer();
    const again = await openCache({ render: reopened.render });
    assert.equal(await again.ensureExternal(photo), second);
    assert.equal(reopened.calls.length, 0, 'kept across restarts');
  });

  test('concurrent calls for one file share one render', async () => {
    const fake = fakeRenderer();
    const cache = await openCache({ render: fake.render });
    const [photo] = await sources(1);
    assert.ok(photo);
    const paths = await Promise.all(Array.from({ length: 4 }, () => cache.ensureExternal(photo)));
    assert.equal(new Set(paths).size, 1);
    assert.equal(fake.calls.length, 1);
  });

  test('keeps at most maxExternal renders, deleting the oldest', async () => {
    const fake = fakeRenderer();
    const cache = await openCache({ render: fake.render, maxExternal: 3 });
    const photos = await sources(5);
    const rendered: string[] = [];
    for (const photo of photos) rendered.push(await cache.ensureExternal(photo));
    const left = (await externalFiles()).sort();
    assert.deepEqual(left, rendered.slice(2).map((p) => path.basename(p)).sort());

    // A smaller cap at the next start trims what is on disk.
    await openCache({ render: fake.render, maxExternal: 1 });
    assert.equal((await externalFiles()).length, 1);
  });

  test('a missing source rejects', async () => {
    const cache = await openCache({ render: fakeRenderer().render });
    await assert.rejects(cache.ensureExternal(path.join(root, 'gone.jpg')), { code: 'ENOENT' });
  });
});
