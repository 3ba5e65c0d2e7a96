/** `providers.imagine` in options.yml, end to end through the real server and a fake Imagine. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeImagine } from '../support/fake-imagine.js';
import { addEarlierPicture, assertFrameGetsJpeg } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

describe('imagine through the server', () => {
  test('the frame gets a picture made by the configured Imagine server', async () => {
    const fake = await startFakeImagine();
    const server = await startTestServer({
      optionsYaml: ['providers:', '  imagine:', `    base_url: ${fake.url}/`, '    model: dreamshaper_8', '    sampler: Euler a', '    steps: 12', ''].join('\n'),
    });
    try {
      const id = await startAndWait(server.url, { type: 'imagine', prompt: 'a paper boat on a pond', negative: 'text' });
      const operation = server.frames.get(id);
      assert.equal(operation?.source, 'provider');
      const picture = server.library.get(operation?.pictureName ?? '');
      assert.equal(picture?.provider, 'imagine');
      assert.equal(picture?.negative, 'text');
      assert.deepEqual([picture?.format, picture?.width, picture?.height], ['png', 512, 768]);
      assert.equal(fake.bodies[0]?.sampler, 'euler a', 'sent in the lower case the server knows');
      assert.equal(fake.bodies[0]?.neg, 'text');
      assert.equal(picture?.seed, fake.bodies[0]?.seed, 'the seed sent is the one recorded');
      await assertFrameGetsJpeg(server.url, id);
    } finally {
      await server.dispose();
      await fake.close();
    }
  });

  test('a server that is down makes imagine not ready: the frame gets a stored picture', async () => {
    const fake = await startFakeImagine();
    await fake.close();
    const server = await startTestServer({
      optionsYaml: ['image_generate_threshold: 0', 'providers:', '  imagine:', `    base_url: ${fake.url}`, '    model: dreamshaper_8', ''].join('\n'),
    });
    try {
      await addEarlierPicture(server, '#446622');
      const id = await startAndWait(server.url, { type: 'auto' });
      assert.equal(server.frames.get(id)?.source, 'library');
      assert.equal(server.library.size, 1);
    } finally {
      await server.dispose();
    }
  });

  test('an unknown sampler in options.yml stops start-up, listing the ones Imagine has', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aiframe-'));
    try {
      await assert.rejects(
        startTestServer({ root, optionsYaml: 'providers:\n  imagine:\n    base_url: http://127.0.0.1:9\n    model: m\n    sampler: dpm++ 3m\n' }),
        /providers\.imagine\.sampler: expected one of: ddim, euler, euler a, heun, lms, dpm\+\+ 2m/,
      );
      await assert.rejects(startTestServer({ root, optionsYaml: 'providers:\n  imagine:\n    base_url: http://127.0.0.1:9\n' }), /providers\.imagine\.model: expected the name of a model/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
