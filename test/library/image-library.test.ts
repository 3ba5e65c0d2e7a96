import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ImageLibrary, type ImageLibraryOptions } from '../../src/library/image-library.js';
import { TEMP_PREFIX } from '../../src/util/atomic-write.js';
import { ManualClock } from '../../src/util/clock.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { mulberry32 } from '../../src/providers/offline/prng.js';

function tinyImage(format: 'jpeg' | 'png' | 'webp' = 'jpeg', width = 8, height = 8): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#c82828' } }).toFormat(format).toBuffer();
}

const seeded = mulberry32;

let root: string;
let originals: string;
let clock: ManualClock;
let logger: ReturnType<typeof createMemoryLogger>;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
  originals = path.join(root, 'original');
  clock = new ManualClock(new Date('2026-03-01T10:00:00.000Z'));
  logger = createMemoryLogger();
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function makeLibrary(options: Partial<ImageLibraryOptions> = {}): ImageLibrary {
  return new ImageLibrary({ root, minCount: 50, maxCount: 100, logger, clock, ...options });
}

/** Adds `count` pictures one second apart; returns their names oldest first. */
async function addMany(library: ImageLibrary, count: number): Promise<string[]> {
  const bytes = await tinyImage();
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    clock.advance(1000);
    names.push((await library.add(bytes, { provider: 'offline', prompt: `picture ${i}` })).name);
  }
  return names;
}

function warnings(): string[] {
  return logger.records.filter((r) => r.level === 'warn' || r.level === 'error').map((r) => r.message);
}

describe('ImageLibrary add and open', () => {
  test('open creates the originals folder', async () => {
    const library = makeLibrary();
    await library.open();
    assert.ok((await stat(originals)).isDirectory());
    assert.equal(library.size, 0);
    assert.equal(library.newest(), undefined);
  });

  test('a picture added is found with its metadata after reopening', async () => {
    const library = makeLibrary();
    await library.open();
    const added = await library.add(await tinyImage('jpeg', 12, 6), {
      provider: 'Yandex Art',
      prompt: 'a red fox',
      template: 'a {animal}',
      negative: 'blurry',
      seed: 42,
      details: { model: 'art-1' },
    });
    assert.match(added.name, /^20260301-100000-000-yandex-art-[0-9a-f]{6}$/);
    assert.equal(added.file, `${added.name}.jpg`);
    assert.equal(added.format, 'jpeg');
    assert.equal(added.createdAt, '2026-03-01T10:00:00.000Z');
    assert.equal(added.provider, 'Yandex Art');
    assert.equal(added.width, 12);
    assert.equal(added.height, 6);
    assert.equal(library.originalPath(added.name), path.join(originals, added.file));
    assert.throws(() => library.originalPath('no-such-picture'), /no picture named "no-such-picture"/);

    const sidecar = JSON.parse(await readFile(path.join(originals, `${added.name}.json`), 'utf8'));
    assert.equal(sidecar.prompt, 'a red fox');

    const reopened = makeLibrary();
    await reopened.open();
    assert.equal(reopened.size, 1);
    assert.deepEqual(reopened.get(added.name), added);
    assert.deepEqual(warnings(), []);
  });

  test('PNG and WebP keep their format and extension', async () => {
    const library = makeLibrary();
    await library.open();
    const png = await library.add(await tinyImage('png'), { provider: 'a1111' });
    const webp = await library.add(await tinyImage('webp'), { provider: 'openai' });
    assert.equal(png.file, `${png.name}.png`);
    assert.equal(webp.file, `${webp.name}.webp`);
    assert.equal(webp.format, 'webp');
    const reopened = makeLibrary();
    await reopened.open();
    assert.equal(reopened.get(png.name)?.format, 'png');
    assert.equal(reopened.get(webp.name)?.format, 'webp');
  });

  test('add refuses what is not a JPEG, PNG or WebP image, and writes nothing', async () => {
    const library = makeLibrary();
    await library.open();
    await assert.rejects(library.add(new TextEncoder().encode('<html>no</html>'), { provider: 'x' }), /JPEG, PNG or WebP/);
    await assert.rejects(library.add(new Uint8Array(), { provider: 'x' }), /empty input/);
    const gif = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).gif().toBuffer();
    await assert.rejects(library.add(gif, { provider: 'x' }), /unsupported image format/);
    // Right magic number, garbage after it.
    await assert.rejects(library.add(new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2, 3]), { provider: 'x' }), /cannot read the jpeg/);
    assert.equal(library.size, 0);
    assert.deepEqual(await readdir(originals), []);
  });

  test('list is newest first; names stay unique within one millisecond', async () => {
    const library = makeLibrary();
    await library.open();
    const bytes = await tinyImage();
    const first = await library.add(bytes, { provider: 'p' });
    const sameTime = await Promise.all([library.add(bytes, { provider: 'p' }), library.add(bytes, { provider: 'p' })]);
    clock.advance(5);
    const last = await library.add(bytes, { provider: 'p' });
    assert.equal(library.size, 4);
    assert.equal(new Set(library.list().map((p) => p.name)).size, 4);
    assert.equal(library.newest()?.name, last.name);
    assert.equal(library.list()[0]?.name, last.name);
    assert.equal(library.list()[3]?.name, [first, ...sameTime].map((p) => p.name).sort()[0]);
  });

  test('the constructor refuses minCount above maxCount', () => {
    assert.throws(() => makeLibrary({ minCount: 10, maxCount: 5 }), RangeError);
    assert.throws(() => makeLibrary({ minCount: -1, maxCount: 5 }), RangeError);
  });
});

describe('ImageLibrary indexing what is on disk', () => {
  test('foreign, corrupt, empty and orphan files are skipped, logged in summary lines, and kept', async () => {
    await mkdir(originals, { recursive: true });
    const jpeg = await tinyImage();
    const good = '20260101-000000-000-offline-aaaaaa';
    await writeFile(path.join(originals, `${good}.jpg`), jpeg);
    await writeFile(path.join(originals, `${good}.json`), JSON.stringify({ provider: 'offline', createdAt: '2026-01-01T00:00:00.000Z', prompt: 'ok' }));
    // Foreign files.
    for (let i = 0; i < 7; i++) await writeFile(path.join(originals, `notes-${i}.txt`), 'hello');
    await writeFile(path.join(originals, '.DS_Store'), 'x');
    await mkdir(path.join(originals, 'a-folder'));
    // Corrupt: an HTML page saved as .jpg, and an empty .png.
    await writeFile(path.join(originals, 'broken.jpg'), '<html>error 502</html>');
    await writeFile(path.join(originals, 'empty.png'), '');
    // A sidecar whose image is gone.
    await writeFile(path.join(originals, 'orphan.json'), JSON.stringify({ provider: 'offline' }));
    // A sidecar that is not JSON: its image is still served, as imported.
    await writeFile(path.join(originals, 'badjson.webp'), await tinyImage('webp'));
    await writeFile(path.join(originals, 'badjson.json'), '{"provider": ');
    // A stale temporary from a crash mid-write.
    await writeFile(path.join(originals, `${TEMP_PREFIX}${good}.jpg-123456`), jpeg.subarray(0, 10));

    const library = makeLibrary();
    await library.open();

    assert.deepEqual(library.list().map((p) => p.name).sort(), ['20260101-000000-000-offline-aaaaaa', 'badjson']);
    assert.equal(library.get(good)?.prompt, 'ok');
    assert.equal(library.get('badjson')?.provider, 'imported');
    assert.equal(library.get('badjson')?.format, 'webp');

    const foreign = logger.records.find((r) => r.message.includes('not pictures'));
    assert.equal(foreign?.meta?.count, 9);
    assert.equal((foreign?.meta?.first as string[]).length, 5);
    const corrupt = logger.records.find((r) => r.message.includes('corrupt'));
    assert.equal(corrupt?.meta?.count, 2);
    assert.equal(logger.records.find((r) => r.message.includes('without an image'))?.meta?.count, 1);
    assert.equal(logger.records.find((r) => r.message.includes('bad JSON'))?.meta?.count, 1);
    // One summary line per kind, never one per file; an unchanged reindex does not repeat them.
    assert.equal(warnings().length, 4);
    await library.reindex();
    assert.equal(warnings().length, 4);

    const left = await readdir(originals);
    for (const kept of ['broken.jpg', 'empty.png', 'orphan.json', 'notes-0.txt', 'badjson.json']) {
      assert.ok(left.includes(kept), `${kept} must stay on disk`);
    }
    assert.ok(!left.some((f) => f.startsWith(TEMP_PREFIX)), 'stale temporaries are removed');
  });

  test('bare upstream files are adopted as imported, dated by their mtime', async () => {
    await mkdir(originals, { recursive: true });
    const mtime = new Date('2024-05-06T07:08:09.000Z');
    await writeFile(path.join(originals, 'image_001.jpg'), await tinyImage());
    await utimes(path.join(originals, 'image_001.jpg'), mtime, mtime);
    await writeFile(path.join(originals, 'IMG_0002.JPEG'), await tinyImage());

    const library = makeLibrary();
    await library.open();
    assert.equal(library.size, 2);
    const adopted = library.get('image_001');
    assert.equal(adopted?.provider, 'imported');
    assert.equal(adopted?.createdAt, mtime.toISOString());
    assert.equal(adopted?.file, 'image_001.jpg');
    assert.equal(library.get('IMG_0002')?.file, 'IMG_0002.JPEG');
    assert.equal(library.originalPath('image_001'), path.join(originals, 'image_001.jpg'));
    // The oldest mtime sorts last.
    assert.equal(library.list()[1]?.name, 'image_001');
    assert.deepEqual(warnings(), []);
  });

  test('sidecar fields of the wrong type are dropped; the disk decides name, file and format', async () => {
    await mkdir(originals, { recursive: true });
    await writeFile(path.join(originals, 'pic.png'), await tinyImage('png'));
    const mtime = new Date('2025-07-08T09:10:11.000Z');
    await utimes(path.join(originals, 'pic.png'), mtime, mtime);
    await writeFile(
      path.join(originals, 'pic.json'),
      JSON.stringify({ name: 'other', file: 'other.jpg', format: 'jpeg', provider: 'a1111', seed: 'abc', width: 8, createdAt: 'yesterday', extra: 1 }),
    );
    const library = makeLibrary();
    await library.open();
    const meta = library.get('pic') as unknown as Record<string, unknown>;
    assert.equal(meta.name, 'pic');
    assert.equal(meta.file, 'pic.png');
    assert.equal(meta.format, 'png');
    assert.equal(meta.provider, 'a1111');
    assert.equal(meta.seed, undefined);
    assert.equal(meta.width, 8);
    assert.equal(meta.extra, 1);
    assert.equal(meta.createdAt, mtime.toISOString(), 'an unreadable createdAt falls back to the mtime');
  });

  test('reindex picks up pictures added and deleted by hand and reports the deleted ones', async () => {
    const library = makeLibrary();
    await library.open();
    const [first, second] = await addMany(library, 2);
    const removed: string[] = [];
    library.onRemoved((name) => removed.push(name));

    await writeFile(path.join(originals, 'dropped-in.png'), await tinyImage('png'));
    await unlink(path.join(originals, `${first}.jpg`));
    const result = await library.reindex();

    assert.deepEqual(result, { added: ['dropped-in'], removed: [first] });
    assert.deepEqual(removed, [first]);
    assert.deepEqual(library.list().map((p) => p.name).sort(), ['dropped-in', second].sort());
  });

  test('an index of 3,000 pictures', async () => {
    await mkdir(originals, { recursive: true });
    const jpeg = await tinyImage();
    const start = Date.parse('2025-01-01T00:00:00.000Z');
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) {
      const at = new Date(start + i * 60_000);
      const name = `${at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-000-offline-${i.toString(16).padStart(6, '0')}`;
      const meta = { provider: 'offline', createdAt: at.toISOString(), prompt: `picture ${i}`, seed: i, width: 8, height: 8 };
      writes.push(writeFile(path.join(originals, `${name}.jpg`), jpeg), writeFile(path.join(originals, `${name}.json`), JSON.stringify(meta)));
      if (writes.length >= 200) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);

    const library = makeLibrary({ minCount: 100, maxCount: 5000 });
    const began = performance.now();
    await library.open();
    console.log(`indexed 3,000 pictures in ${(performance.now() - began).toFixed(1)} ms`);

    assert.equal(library.size, 3000);
    assert.equal(library.newest()?.seed, 2999);
    assert.equal(library.list().at(-1)?.seed, 0);
    assert.deepEqual(warnings(), []);
  });
});

describe('ImageLibrary pruning and removal', () => {
  test('passing maxCount deletes the oldest down to minCount', async () => {
    const library = makeLibrary({ minCount: 2, maxCount: 4 });
    await library.open();
    const removed: string[] = [];
    library.onRemoved((name) => removed.push(name));

    const names = await addMany(library, 4);
    assert.equal(library.size, 4, 'at maxCount nothing is pruned');
    const [fifth] = await addMany(library, 1);

    assert.equal(library.size, 2);
    assert.deepEqual(library.list().map((p) => p.name), [fifth, names[3]]);
    assert.deepEqual(removed.sort(), names.slice(0, 3).sort());
    const files = await readdir(originals);
    for (const gone of names.slice(0, 3)) {
      assert.ok(!files.includes(`${gone}.jpg`) && !files.includes(`${gone}.json`), `${gone} deleted`);
    }
    assert.equal(files.length, 4);
  });

  test('prune does nothing at or under maxCount, and prunes pictures found on disk', async () => {
    const library = makeLibrary({ minCount: 1, maxCount: 3 });
    await library.open();
    await addMany(library, 3);
    assert.deepEqual(await library.prune(), []);

    // Pictures dropped in by hand push the count past max: the next prune catches up.
    for (const n of ['old-a', 'old-b']) {
      await writeFile(path.join(originals, `${n}.jpg`), await tinyImage());
      const at = new Date('2020-01-01T00:00:00Z');
      await utimes(path.join(originals, `${n}.jpg`), at, at);
    }
    await library.reindex();
    assert.equal(library.size, 5);
    const pruned = await library.prune();
    assert.equal(pruned.length, 4);
    assert.ok(pruned.includes('old-a') && pruned.includes('old-b'));
    assert.equal(library.size, 1);
  });

  test('remove deletes image and sidecar and tells listeners; unsubscribe stops that', async () => {
    const library = makeLibrary();
    await library.open();
    const [a, b] = await addMany(library, 2);
    const heard: string[] = [];
    const stop = library.onRemoved((name) => heard.push(name));
    library.onRemoved(() => {
      throw new Error('a broken listener');
    });

    assert.equal(await library.remove(a as string), true);
    assert.equal(await library.remove('no-such-picture'), false);
    stop();
    assert.equal(await library.remove(b as string), true);

    assert.deepEqual(heard, [a]);
    assert.equal(library.size, 0);
    assert.deepEqual(await readdir(originals), []);
    assert.ok(logger.records.some((r) => r.message.includes('listener failed')));
  });
});

describe('ImageLibrary pickRandom', () => {
  test('undefined when empty', async () => {
    const library = makeLibrary();
    await library.open();
    assert.equal(library.pickRandom(), undefined);
  });

  test('picks among the pictures not excluded; any picture when all are excluded', async () => {
    let next = 0;
    const library = makeLibrary({ random: () => next });
    await library.open();
    const names = await addMany(library, 3); // list order: names[2], names[1], names[0]

    next = 0;
    assert.equal(library.pickRandom()?.name, names[2]);
    next = 0.999;
    assert.equal(library.pickRandom()?.name, names[0]);
    next = 0;
    assert.equal(library.pickRandom(new Set([names[2] as string]))?.name, names[1]);
    next = 0.5;
    assert.equal(library.pickRandom(new Set([names[2] as string, names[1] as string]))?.name, names[0]);
    assert.ok(names.includes(library.pickRandom(new Set(names))?.name as string));
  });

  test('the same random source gives the same picks, and every candidate comes up', async () => {
    const library = makeLibrary();
    await library.open();
    const names = await addMany(library, 5);
    const exclude = new Set([names[0] as string]);

    const a = new ImageLibrary({ root, minCount: 50, maxCount: 100, logger, random: seeded(7) });
    const b = new ImageLibrary({ root, minCount: 50, maxCount: 100, logger, random: seeded(7) });
    await a.open();
    await b.open();
    const fromA = Array.from({ length: 200 }, () => a.pickRandom(exclude)?.name);
    const fromB = Array.from({ length: 200 }, () => b.pickRandom(exclude)?.name);
    assert.deepEqual(fromA, fromB);
    assert.ok(!fromA.includes(names[0]));
    assert.equal(new Set(fromA).size, 4);
  });
});
