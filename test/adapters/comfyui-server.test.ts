/** `providers.comfyui` in options.yml, end to end through the real server and a fake ComfyUI. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeComfyUI } from '../support/fake-comfyui.js';
import { addEarlierPicture, assertFrameGetsJpeg } from '../support/server-checks.js';
import { startAndWait, startTestServer } from '../support/test-server.js';

const EXAMPLE = join(process.cwd(), 'examples', 'comfyui-sd15-workflow.json');

/** A server root whose data folder holds the example workflow, as a user would place it. */
async function rootWithWorkflow(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'aiframe-'));
  await mkdir(join(root, 'data'), { recursive: true });
  await copyFile(EXAMPLE, join(root, 'data', 'workflow.json'));
  return root;
}

function optionsYaml(baseUrl: string, workflow = 'workflow.json'): string {
  return ['image_generate_threshold: 0', 'providers:', '  comfyui:', `    base_url: ${baseUrl}`, `    workflow: ${workflow}`, '    steps: 18', '    poll_interval_seconds: 0.02', ''].join('\n');
}

describe('comfyui through the server', () => {
  test('the frame gets a picture made by the workflow (a path relative to options.yml)', async () => {
    const fake = await startFakeComfyUI();
    const server = await startTestServer({ root: await rootWithWorkflow(), optionsYaml: optionsYaml(fake.url) });
    try {
      const id = await startAndWait(server.url, { type: 'comfyui', prompt: 'an owl in a library' });
      const picture = server.library.get(server.frames.get(id)?.pictureName ?? '');
      assert.equal(picture?.provider, 'comfyui');
      assert.deepEqual([picture?.format, picture?.width, picture?.height], ['png', 512, 768]);
      const graph = (fake.submitted[0] as { prompt: Record<string, { inputs: Record<string, unknown> }> }).prompt;
      assert.equal(graph['6']?.inputs.text, 'an owl in a library');
      assert.equal(graph['3']?.inputs.steps, 18);
      assert.equal(graph['3']?.inputs.seed, picture?.seed, 'the seed recorded is the one in the graph');
      await assertFrameGetsJpeg(server.url, id);
    } finally {
      await server.dispose();
      await fake.close();
    }
  });

  test('a server that is down makes comfyui not ready: the frame gets a stored picture', async () => {
    const fake = await startFakeComfyUI();
    await fake.close();
    const server = await startTestServer({ root: await rootWithWorkflow(), optionsYaml: optionsYaml(fake.url) });
    try {
      await addEarlierPicture(server, '#663322');
      for (const type of ['auto', 'comfyui']) {
        const id = await startAndWait(server.url, { type });
        assert.equal(server.frames.get(id)?.source, 'library', type);
      }
      assert.equal(server.library.size, 1);
    } finally {
      await server.dispose();
    }
  });

  test('a workflow that cannot be used stops start-up, naming the file and the reason', async () => {
    const root = await rootWithWorkflow();
    try {
      await assert.rejects(
        startTestServer({ root, optionsYaml: optionsYaml('http://127.0.0.1:9', 'nowhere.json') }),
        /options\.yml: providers\.comfyui\.workflow: workflow .*data\/nowhere\.json: cannot be read \(no such file\)/,
      );
      await writeFile(join(root, 'data', 'editor.json'), JSON.stringify({ nodes: [], links: [], version: 0.4 }));
      await assert.rejects(
        startTestServer({ root, optionsYaml: optionsYaml('http://127.0.0.1:9', 'editor.json') }),
        /providers\.comfyui\.workflow: workflow .*editor\.json: this is the editor format/,
      );
      await assert.rejects(startTestServer({ root, optionsYaml: 'providers:\n  comfyui:\n    base_url: http://127.0.0.1:9\n' }), /providers\.comfyui\.workflow: expected the path of a workflow/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
