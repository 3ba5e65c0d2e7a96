/**
 * A broken local model inside the real server: the frame gets a stored picture, the library
 * gains nothing black, and the operation's note says what went wrong and what to try.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addEarlierPicture, assertFrameGetsJpeg } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';
import { writeTinySdModel, type TinySdVariant } from '../support/tiny-sd-model.js';

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'aiframe-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

interface GenerationBody {
  readonly status: string;
  readonly source: string | null;
  readonly note: string | null;
  readonly picture: { readonly name: string } | null;
}

async function frameGetsStoredPicture(name: string, variant: TinySdVariant, note: RegExp): Promise<void> {
  const modelDir = await writeTinySdModel(join(root, name), variant);
  const optionsYaml = ['providers:', '  onnx:', `    model: ${JSON.stringify(modelDir)}`, '    steps: 6', '    width: 64', '    height: 64', ''].join('\n');
  const server = await startTestServer({ optionsYaml });
  try {
    assert.ok(server.logs.some((record) => record.message === 'provider onnx: ready'));
    const stored = await addEarlierPicture(server, '#3a6b8c');
    const id = await startAndWait(server.url, { type: 'onnx', prompt: 'a castle by the lake' });

    const operation = server.frames.get(id);
    assert.equal(operation?.source, 'fallback');
    assert.equal(operation?.pictureName, stored.name, 'the frame gets the stored picture');
    assert.equal(server.library.size, 1, 'nothing was added to the library');
    assert.match(operation?.note ?? '', note);
    await assertFrameGetsJpeg(server.url, id);

    const { generation } = (await (await fetch(`${server.url}/api/generations/${id}`)).json()) as { generation: GenerationBody };
    assert.equal(generation.status, 'error', 'no new picture came of it');
    assert.equal(generation.source, 'fallback');
    assert.equal(generation.picture?.name, stored.name);
    assert.match(generation.note ?? '', note);
  } finally {
    await server.dispose();
  }
}

describe('a broken onnx model in the server', () => {
  test('a UNet that gives NaN: a stored picture, nothing added, the note names the step', async () => {
    await frameGetsStoredPicture('nan-unet', { brokenUnet: { value: 'nan' } }, /^generation failed: the model produced NaN at step 1 of 6: try an fp32 export or another model$/);
  });

  test('a VAE decoder that gives black: a stored picture, nothing added, the note says blank', async () => {
    await frameGetsStoredPicture('black-vae', { vaeConstant: -1 }, /^generation failed: the model produced a uniform \(blank\) image: try an fp32 export or another model$/);
  });
});
