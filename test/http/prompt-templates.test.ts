/** Templated prompts and the upstream prompts.yaml import, through the real server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOperation, startTestServer, waitForOperation } from '../support/test-server.js';

test('an upstream prompts.yaml is imported once, and each picture records its template and the prompt sent', async () => {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-templates-'));
  await mkdir(join(root, 'data'), { recursive: true });
  await writeFile(
    join(root, 'data', 'prompts.yaml'),
    `prompts:
  - idx: 1
    prompt: "[[animal]] in a [[place]], watercolour"
    negative: blurry
    placeholders:
      animal: [fox]
global_placeholders:
  place: [forest]
  animal: [whale]
`,
  );
  const server = await startTestServer({ root });
  try {
    const saved = JSON.parse(await readFile(join(root, 'data', 'prompts.json'), 'utf8')) as { prompts: { prompt: string }[] };
    assert.deepEqual(saved.prompts.map((entry) => entry.prompt), ['[[animal]] in a [[place]], watercolour']);
    const dataFiles = await readdir(join(root, 'data'));
    assert.ok(dataFiles.some((name) => name.startsWith('prompts.yaml.imported-')), `backup kept: ${dataFiles.join(', ')}`);
    assert.equal(dataFiles.includes('prompts.yaml'), false);

    const { json } = await startOperation(server.url, { type: 'ydart' });
    assert.equal(await waitForOperation(server.url, json.id ?? ''), 'done');
    const picture = server.library.get(server.frames.get(json.id ?? '')?.pictureName ?? '');
    assert.equal(picture?.prompt, 'fox in a forest, watercolour', "the prompt's own list wins over the global one");
    assert.equal(picture?.template, '[[animal]] in a [[place]], watercolour');
    assert.equal(picture?.negative, 'blurry');
  } finally {
    await server.dispose();
  }
});
