/** /api/pictures and /api/frame over HTTP: paging, bytes in three sizes, deletion. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { readJpegInfo } from '../../src/render/jpeg-info.js';
import { ManualClock } from '../../src/util/clock.js';
import { startAndWait, startTestServer, type TestServer } from '../support/test-server.js';
import { admin, call, jpeg, TOKEN_OPTIONS } from './api-client.js';

const PICTURES = 150;

describe('pictures API', () => {
  let server: TestServer;
  const clock = new ManualClock(new Date('2026-05-01T08:00:00Z'));

  before(async () => {
    server = await startTestServer({ clock, optionsYaml: `${TOKEN_OPTIONS}providers:\n  offline:\n    enabled: false\n` });
    const bytes = await jpeg(40, 60, '#446688');
    for (let i = 0; i < PICTURES; i++) {
      // Groups of five share a creation time: the name breaks the tie, and paging must too.
      if (i % 5 === 0) clock.advance(1000);
      await server.library.add(bytes, { provider: 'seeded', prompt: `picture ${i}`, seed: i });
    }
  });
  after(() => server.dispose());

  test('pages newest first through every picture once, with a stable total', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=48' : `?limit=48&cursor=${encodeURIComponent(cursor)}`;
      const page = await call(server.url, 'GET', `/api/pictures${query}`);
      assert.equal(page.status, 200);
      assert.equal(page.json.total, PICTURES);
      seen.push(...page.json.pictures.map((picture: { name: string }) => picture.name));
      cursor = page.json.next;
      pages += 1;
    } while (cursor !== null);
    assert.equal(pages, 4);
    assert.equal(seen.length, PICTURES);
    assert.deepEqual(seen, server.library.list().map((meta) => meta.name), 'the library order: newest first');
    const first = await call(server.url, 'GET', '/api/pictures');
    assert.equal(first.json.pictures.length, 48, 'default page size');
    const picture = first.json.pictures[0];
    // The newest group of five shares a time; within it the name decides.
    assert.ok(['145', '146', '147', '148', '149'].includes(picture.prompt.split(' ')[1]), picture.prompt);
    assert.deepEqual(Object.keys(picture).sort(), ['createdAt', 'details', 'height', 'name', 'negative', 'prompt', 'provider', 'seed', 'template', 'urls', 'width']);
    assert.deepEqual(picture.urls, {
      original: `/api/pictures/${picture.name}/original`,
      frame: `/api/pictures/${picture.name}/frame`,
      thumbnail: `/api/pictures/${picture.name}/thumbnail`,
    });
    assert.equal(picture.width, 40);
    assert.equal(picture.template, null);
  });

  test('pictures deleted or added between pages neither repeat nor skip the others', async () => {
    const first = await call(server.url, 'GET', '/api/pictures?limit=10');
    const names = first.json.pictures.map((picture: { name: string }) => picture.name);
    const all = server.library.list().map((meta) => meta.name);
    // The last picture of the page and the first of the next one go; a new one arrives on top.
    await server.library.remove(names[9]);
    await server.library.remove(all[10] as string);
    clock.advance(1000);
    await server.library.add(await jpeg(40, 60, '#000000'), { provider: 'seeded' });
    const second = await call(server.url, 'GET', `/api/pictures?limit=10&cursor=${first.json.next}`);
    assert.deepEqual(
      second.json.pictures.map((picture: { name: string }) => picture.name),
      all.slice(11, 21),
    );
  });

  test('bad paging input is 400 naming the parameter', async () => {
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'limit=1.5', 'cursor=%%%', 'cursor=bm90LWEtY3Vyc29y', 'cursor=' + 'A'.repeat(500)]) {
      const response = await call(server.url, 'GET', `/api/pictures?${query}`);
      assert.equal(response.status, 400, query);
      assert.match(response.json.error.message, query.startsWith('limit') ? /limit: expected a whole number from 1 to 200/ : /cursor/);
    }
  });

  test('one picture, its original, its frame render and its thumbnail', async () => {
    const meta = server.library.list()[3];
    assert.ok(meta);
    const one = await call(server.url, 'GET', `/api/pictures/${meta.name}`);
    assert.equal(one.status, 200);
    assert.equal(one.json.picture.name, meta.name);
    assert.equal(one.json.picture.seed, meta.seed);

    const original = await call(server.url, 'GET', `/api/pictures/${meta.name}/original`);
    assert.equal(original.status, 200);
    assert.equal(original.headers.get('content-type'), 'image/jpeg');
    assert.equal(original.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.deepEqual(original.bytes, await readFile(server.library.originalPath(meta.name)));
    const etag = original.headers.get('etag') ?? '';
    assert.match(etag, /^".+"$/);
    // What a browser sends to revalidate (fetch alone would add no-cache, which forbids a 304).
    const revalidate = (tag: string): Record<string, string> => ({ 'If-None-Match': tag, 'Cache-Control': 'max-age=0' });
    const again = await call(server.url, 'GET', `/api/pictures/${meta.name}/original`, { headers: revalidate(etag) });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);

    const frame = await call(server.url, 'GET', `/api/pictures/${meta.name}/frame`);
    assert.equal(frame.status, 200);
    assert.equal(frame.headers.get('content-type'), 'image/jpeg');
    const info = readJpegInfo(frame.bytes);
    assert.deepEqual([info?.width, info?.height, info?.baseline], [320, 480, true], 'what the frame gets');
    assert.equal(frame.headers.get('cache-control'), 'no-cache', 'new screen settings change it under the same URL');

    const thumbnailFile = join(server.config.paths.imagesDir, 'thumbnail', `${meta.name}.jpg`);
    await assert.rejects(stat(thumbnailFile), /ENOENT/, 'made on first request');
    const thumbnail = await call(server.url, 'GET', `/api/pictures/${meta.name}/thumbnail`);
    assert.equal(thumbnail.status, 200);
    assert.equal(thumbnail.headers.get('content-type'), 'image/jpeg');
    assert.equal(thumbnail.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.deepEqual(thumbnail.bytes, await readFile(thumbnailFile), 'cached on disk');
    const madeAt = (await stat(thumbnailFile)).mtimeMs;
    const second = await call(server.url, 'GET', `/api/pictures/${meta.name}/thumbnail`);
    assert.deepEqual(second.bytes, thumbnail.bytes);
    assert.equal((await stat(thumbnailFile)).mtimeMs, madeAt, 'made once');
    const unchanged = await call(server.url, 'GET', `/api/pictures/${meta.name}/thumbnail`, { headers: revalidate(thumbnail.headers.get('etag') ?? '') });
    assert.equal(unchanged.status, 304);
    const frameAgain = await call(server.url, 'GET', `/api/pictures/${meta.name}/frame`, { headers: revalidate(frame.headers.get('etag') ?? '') });
    assert.equal(frameAgain.status, 304);
  });

  test('a thumbnail fits 256x256 whatever the original, upright', async () => {
    const big = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#884422' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const tall = await sharp({ create: { width: 300, height: 2000, channels: 4, background: '#22448880' } }).png().toBuffer();
    for (const [bytes, size] of [
      [big, [171, 256]],
      [tall, [38, 256]],
    ] as const) {
      const meta = await server.library.add(bytes, { provider: 'seeded' });
      const thumbnail = await call(server.url, 'GET', `/api/pictures/${meta.name}/thumbnail`);
      const info = await sharp(thumbnail.bytes).metadata();
      assert.equal(info.format, 'jpeg');
      assert.deepEqual([info.width, info.height], size);
    }
  });

  test('unknown and invalid names', async () => {
    for (const suffix of ['', '/original', '/frame', '/thumbnail']) {
      const unknown = await call(server.url, 'GET', `/api/pictures/20990101-000000-000-nobody-abcdef${suffix}`);
      assert.equal(unknown.status, 404, suffix);
      assert.equal(unknown.json.error.code, 'NotFound');
      const invalid = await call(server.url, 'GET', `/api/pictures/..%2F..%2Fetc${suffix}`);
      assert.equal(invalid.status, 400, `invalid ${suffix}`);
    }
  });

  test('delete needs the token and removes the original, sidecar, render and thumbnail', async () => {
    const meta = server.library.list()[5];
    assert.ok(meta);
    await call(server.url, 'GET', `/api/pictures/${meta.name}/frame`);
    await call(server.url, 'GET', `/api/pictures/${meta.name}/thumbnail`);
    const files = async (): Promise<string[]> => {
      const images = server.config.paths.imagesDir;
      const found: string[] = [];
      for (const dir of ['original', 'thumbnail', join('frame', (await readdir(join(images, 'frame')))[0] ?? '')]) {
        for (const file of await readdir(join(images, dir))) if (file.startsWith(meta.name)) found.push(join(dir, file));
      }
      return found.sort();
    };
    assert.equal((await files()).length, 4, 'original, sidecar, render, thumbnail');
    assert.equal((await call(server.url, 'DELETE', `/api/pictures/${meta.name}`)).status, 401);
    assert.equal((await files()).length, 4);
    const deleted = await admin(server.url, 'DELETE', `/api/pictures/${meta.name}`);
    assert.equal(deleted.status, 204);
    assert.deepEqual(await files(), []);
    assert.equal((await call(server.url, 'GET', `/api/pictures/${meta.name}`)).status, 404);
    assert.equal((await admin(server.url, 'DELETE', `/api/pictures/${meta.name}`)).status, 404);
    assert.equal((await admin(server.url, 'DELETE', '/api/pictures/bad%20name')).status, 400);
  });

  test('/api/frame shows the picture most recently sent to a frame', async () => {
    const before = await call(server.url, 'GET', '/api/frame');
    assert.deepEqual(before.json, { picture: null });
    const id = await startAndWait(server.url, { type: 'old' });
    const pending = await call(server.url, 'GET', '/api/frame');
    assert.deepEqual(pending.json, { picture: null }, 'started is not sent');
    await fetch(`${server.url}/operation/result/${id}`).then((response) => response.arrayBuffer());
    const sent = await call(server.url, 'GET', '/api/frame');
    assert.equal(sent.json.picture.name, server.frames.get(id)?.pictureName);
  });
});
