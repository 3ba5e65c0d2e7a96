/**
 * A stored original that is not a picture any more (a download cut short, a file replaced by
 * hand): its frame render and thumbnail get a clear 4xx, logged once, never a 500 with a stack.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { startTestServer } from '../support/test-server.js';
import { admin, call, jpeg, TOKEN_OPTIONS } from './api-client.js';

describe('an unreadable original', () => {
  test('frame and thumbnail answer 422 in the error shape, uncached, logged once per picture; the others still work', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      const good = await jpeg(400, 600, '#336699');
      // A download cut short: the header (and size) reads fine, the pixels do not decode.
      const truncated = await server.library.add(good.subarray(0, 400), { provider: 'seeded' });
      // A file replaced by hand after it was stored.
      const replaced = await server.library.add(good, { provider: 'seeded' });
      await writeFile(server.library.originalPath(replaced.name), Buffer.concat([good.subarray(0, 3), Buffer.from('not a picture at all')]));
      const healthy = await server.library.add(good, { provider: 'seeded' });

      const logsBefore = server.logs.length;
      for (const meta of [truncated, replaced]) {
        for (const size of ['frame', 'thumbnail', 'frame', 'thumbnail']) {
          const response = await call(server.url, 'GET', `/api/pictures/${meta.name}/${size}`);
          assert.equal(response.status, 422, `${size}: ${response.bytes.toString()}`);
          assert.equal(response.json.error.code, 'UnreadablePicture');
          assert.match(response.json.error.message, /cannot be decoded/);
          assert.ok(response.json.error.dev_message.length > 0 && !response.json.error.dev_message.includes(server.root), response.json.error.dev_message);
          assert.equal(response.headers.get('etag'), null, 'an error is not the picture: no validator');
          assert.doesNotMatch(response.headers.get('cache-control') ?? '', /immutable|max-age/, 'an error is never cached for a year');
        }
        // The original bytes are still there to download, as stored.
        assert.equal((await call(server.url, 'GET', `/api/pictures/${meta.name}/original`)).status, 200);
      }
      const newLogs = server.logs.slice(logsBefore).filter((record) => record.level === 'warn' || record.level === 'error');
      // The first refusal of each picture is logged, as every 4xx is; the repeats are not.
      assert.deepEqual(
        newLogs.map((record) => [record.level, record.message]),
        [truncated, replaced].map((meta) => ['warn', `422 GET /api/pictures/${meta.name}/frame: The stored picture cannot be decoded; delete it, or replace its file`]),
        'one warning per picture',
      );
      for (const record of newLogs) {
        assert.equal(record.meta?.['stack'], undefined, 'no stack');
        assert.doesNotMatch(String(record.meta?.['detail']), new RegExp(server.root), 'the decoder\'s words, no path on disk');
      }
      for (const size of ['frame', 'thumbnail']) assert.equal((await call(server.url, 'GET', `/api/pictures/${healthy.name}/${size}`)).status, 200, size);
      // Deleting it works as for any picture, and forgets it.
      assert.equal((await admin(server.url, 'DELETE', `/api/pictures/${truncated.name}`)).status, 204);
      assert.equal((await call(server.url, 'GET', `/api/pictures/${truncated.name}/thumbnail`)).status, 404);
    } finally {
      await server.dispose();
    }
  });

  test('an original deleted by hand behind the library\'s back is 404, not 500', async () => {
    const server = await startTestServer({ optionsYaml: TOKEN_OPTIONS });
    try {
      const meta = await server.library.add(await jpeg(40, 60, '#553311'), { provider: 'seeded' });
      await rm(server.library.originalPath(meta.name));
      for (const size of ['frame', 'thumbnail', 'original']) {
        const response = await call(server.url, 'GET', `/api/pictures/${meta.name}/${size}`);
        assert.equal(response.status, 404, size);
        assert.equal(response.json.error.code, 'NotFound');
      }
      assert.equal(server.logs.filter((record) => record.level === 'error').length, 0, JSON.stringify(server.logs.filter((record) => record.level === 'error')));
    } finally {
      await server.dispose();
    }
  });
});
