/** `providers.a1111` in options.yml, end to end through the real server and a fake AUTOMATIC1111. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { createA1111Provider } from '../../src/providers/a1111/a1111-options.js';
import { SecretRegistry } from '../../src/logging/secret-registry.js';
import type { ProviderContext } from '../../src/providers/registry.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { startFakeA1111 } from '../support/fake-a1111.js';
import { addEarlierPicture } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';
import type { AppConfig } from '../../src/config/app-config.js';

async function frameImage(baseUrl: string, id: string): Promise<Metadata> {
  const response = await fetch(`${baseUrl}/operation/result/${id}`);
  const body = (await response.json()) as { response: { image: string } };
  return sharp(Buffer.from(body.response.image, 'base64')).metadata();
}

describe('a1111 through the server', () => {
  test('the frame gets a picture made by the configured AUTOMATIC1111, with its seed recorded', async () => {
    const fake = await startFakeA1111({ auth: { username: 'frame', password: 'hunter2-long' } });
    const server = await startTestServer({
      optionsYaml: [
        'image_generate_threshold: 0',
        'providers:',
        '  a1111:',
        `    base_url: ${fake.url}`,
        '    username: frame',
        '    password: hunter2-long',
        '    steps: 6',
        '    sampler: DPM++ 2M',
        '    seed: random',
        '    daily_limit: 50',
        '',
      ].join('\n'),
    });
    try {
      const id = await startAndWait(server.url, { type: 'a1111', prompt: 'a red fox in snow' });
      const operation = server.frames.get(id);
      assert.equal(operation?.source, 'provider');
      const picture = server.library.get(operation?.pictureName ?? '');
      assert.equal(picture?.provider, 'a1111');
      assert.equal(picture?.format, 'png', 'the original is kept as the PNG received');
      assert.deepEqual([picture?.width, picture?.height], [512, 768]);
      assert.equal(picture?.seed, fake.seedsUsed[0], 'the seed the server picked');
      assert.equal(fake.txt2img[0]?.prompt, 'a red fox in snow');
      assert.equal(fake.txt2img[0]?.sampler_name, 'DPM++ 2M');
      const shown = await frameImage(server.url, id);
      assert.deepEqual([shown.format, shown.width, shown.height], ['jpeg', 320, 480]);
      assert.ok(!JSON.stringify(server.logs).includes('hunter2-long'), 'the password never reaches a log line');
    } finally {
      await server.dispose();
      await fake.close();
    }
  });

  test('a server that is down makes a1111 not ready: auto and a request by name get a stored picture', async () => {
    const fake = await startFakeA1111();
    const downUrl = fake.url;
    await fake.close();
    const server = await startTestServer({
      optionsYaml: ['image_generate_threshold: 0', 'providers:', '  a1111:', `    base_url: ${downUrl}`, ''].join('\n'),
    });
    try {
      const picture = await addEarlierPicture(server, '#224466');
      assert.ok(server.logs.some((record) => record.level === 'warn' && /provider a1111: not ready: cannot reach/.test(record.message)));
      for (const type of ['auto', 'a1111']) {
        const id = await startAndWait(server.url, { type });
        const operation = server.frames.get(id);
        assert.equal(operation?.source, 'library', `${type}: served from the library`);
        assert.equal(operation?.pictureName, picture.name);
      }
      assert.equal(server.library.size, 1, 'nothing was generated');
    } finally {
      await server.dispose();
    }
  });

  test('mistakes in the section stop start-up with the key named; the password is registered as a secret', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aiframe-'));
    try {
      const refused = async (optionsYaml: string, message: RegExp): Promise<void> => {
        await assert.rejects(startTestServer({ root, optionsYaml }), message);
      };
      await refused('providers:\n  a1111:\n    base_url: http://127.0.0.1:9\n    stpes: 20\n', /providers\.a1111: unknown option "stpes"/);
      await refused('providers:\n  a1111:\n    base_url: gpu-box:7860\n', /providers\.a1111\.base_url: expected the address of the server/);
      await refused('providers:\n  a1111:\n    base_url: http://127.0.0.1:9\n    username: frame\n', /providers\.a1111\.password: username and password go together/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }

    const secrets = new SecretRegistry();
    const context: ProviderContext = {
      config: { optionsFile: '/data/options.yml' } as AppConfig,
      logger: createMemoryLogger(),
      secrets,
      environment: {},
    };
    const provider = createA1111Provider({ base_url: 'http://127.0.0.1:9', username: 'frame', password: 'open-sesame', sleep_time: [] }, context);
    assert.equal(provider.id, 'a1111');
    assert.equal(secrets.redact('password open-sesame'), 'password [redacted]');
  });
});
