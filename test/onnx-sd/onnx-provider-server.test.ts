/** The `onnx` provider inside the real server: configured from options.yml, pictures over HTTP. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAndWait, startOperation, startTestServer } from '../support/test-server.js';
import { writeTinySdModel } from '../support/tiny-sd-model.js';

let root: string;
let modelDir: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'aiframe-'));
  // Some real work per step, so the generation is still running while the test polls it.
  modelDir = await writeTinySdModel(join(root, 'tiny-export'), { heavy: { channels: 128, layers: 2 } });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

interface StatusBody {
  readonly status: string;
  readonly progress?: { readonly step: number; readonly total: number };
}

describe('onnx provider in the server', () => {
  test('a frame gets a picture made by the onnx provider, with progress while it runs', async () => {
    const steps = 200;
    const optionsYaml = ['providers:', '  onnx:', `    model: ${JSON.stringify(modelDir)}`, `    steps: ${steps}`, '    width: 64', '    height: 64', ''].join('\n');
    const server = await startTestServer({ optionsYaml });
    try {
      assert.ok(server.logs.some((record) => record.message === 'provider onnx: ready'));
      const { status, json } = await startOperation(server.url, { type: 'onnx', prompt: 'a castle by the lake' });
      assert.equal(status, 200);
      const id = json.id!;
      const seen: { step: number; total: number }[] = [];
      let final: StatusBody;
      for (;;) {
        const body = (await (await fetch(`${server.url}/operation/status/${id}`)).json()) as StatusBody;
        if (body.progress) seen.push(body.progress);
        if (body.status !== 'pending') {
          final = body;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(final.status, 'done');
      assert.ok(seen.length > 0, 'progress was shown while the picture was made');
      for (const progress of seen) {
        assert.equal(progress.total, steps);
        assert.ok(progress.step >= 0 && progress.step <= steps);
      }
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.step >= seen[i - 1]!.step, 'progress never goes back');

      const operation = server.frames.get(id);
      assert.equal(operation?.source, 'provider');
      const picture = server.library.get(operation?.pictureName ?? '');
      assert.equal(picture?.provider, 'onnx');
      assert.equal(picture?.format, 'png');
      assert.equal(picture?.prompt, 'a castle by the lake');
      assert.equal(picture?.details?.['steps'], steps);
      assert.equal(picture?.details?.['size'], '64x64');
      assert.equal(picture?.details?.['model'], modelDir);

      const result = await fetch(`${server.url}/operation/result/${id}`);
      assert.equal(result.status, 200);
      const body = (await result.json()) as { status: string; response: { image: string } };
      assert.equal(body.status, 'done');
      assert.equal(Buffer.from(body.response.image, 'base64').subarray(0, 2).toString('hex'), 'ffd8', 'the frame gets a JPEG');
    } finally {
      await server.dispose();
    }
  });

  test('a missing model leaves the provider not ready with the pull command, and the frame still gets a picture', async () => {
    const server = await startTestServer({ optionsYaml: 'providers:\n  onnx:\n    model: sd-turbo\n' });
    try {
      const line = server.logs.find((record) => record.message.startsWith('provider onnx:'));
      assert.match(line?.message ?? '', /^provider onnx: not ready: model missing \(run: npm run model -- pull sd-turbo\)$/);
      const status = (await (await fetch(`${server.url}/status.json`)).json()) as { providers: { id: string; ready: boolean; reason?: string }[] };
      const onnx = status.providers.find((provider) => provider.id === 'onnx');
      assert.equal(onnx?.ready, false);
      assert.match(onnx?.reason ?? '', /run: npm run model -- pull sd-turbo/);

      const id = await startAndWait(server.url, { type: 'onnx' });
      const result = await fetch(`${server.url}/operation/result/${id}`);
      assert.equal(result.status, 200);
      assert.notEqual(server.library.get(server.frames.get(id)?.pictureName ?? '')?.provider, 'onnx');
    } finally {
      await server.dispose();
    }
  });
});
