/** Reading a ComfyUI API-format workflow and filling its placeholders. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillWorkflow, loadWorkflowFile, parseWorkflow, WorkflowError } from '../../src/providers/comfyui/workflow.js';

const EXAMPLE = join(process.cwd(), 'examples', 'comfyui-sd15-workflow.json');
const VALUES = { prompt: 'a "quoted" path C:\\pics\nsecond line', negative: 'blurry', seed: 123456789, width: 512, height: 768, steps: 30 };

function node(classType: string, inputs: Record<string, unknown>): Record<string, unknown> {
  return { class_type: classType, inputs };
}

describe('ComfyUI workflow files', () => {
  test('the shipped example uses every placeholder and raises no warning', () => {
    const workflow = loadWorkflowFile(EXAMPLE);
    assert.deepEqual([...workflow.placeholders].sort(), ['height', 'negative', 'prompt', 'seed', 'steps', 'width']);
    assert.deepEqual(workflow.warnings, []);
  });

  test('a value that is exactly a numeric placeholder becomes a number; text is substituted as text', () => {
    const workflow = parseWorkflow(
      JSON.stringify({
        '3': node('KSampler', { seed: '{{seed}}', steps: '{{ steps }}', cfg: 7, model: ['4', 0] }),
        '5': node('EmptyLatentImage', { width: '{{width}}', height: '{{height}}', batch_size: 1 }),
        '6': node('CLIPTextEncode', { text: '{{prompt}}, {{width}}x{{height}} (seed {{seed}})' }),
        '7': node('CLIPTextEncode', { text: '{{negative}}' }),
        '9': node('SaveImage', { filename_prefix: 'frame', images: ['8', 0] }),
      }),
      'wf.json',
    );
    const graph = fillWorkflow(workflow, VALUES) as Record<string, { inputs: Record<string, unknown> }>;
    assert.deepEqual(graph['3']?.inputs, { seed: 123456789, steps: 30, cfg: 7, model: ['4', 0] });
    assert.deepEqual(graph['5']?.inputs, { width: 512, height: 768, batch_size: 1 });
    assert.equal(graph['6']?.inputs.text, `${VALUES.prompt}, 512x768 (seed 123456789)`);
    assert.equal(graph['7']?.inputs.text, 'blurry');
    // Quotes, backslashes and newlines survive the trip to JSON and back unchanged.
    assert.deepEqual(JSON.parse(JSON.stringify(graph)), graph);
    assert.equal(workflow.nodes['3']?.inputs.seed, '{{seed}}', 'the loaded workflow is left as it was');
  });

  test('a prompt that looks like a placeholder is not filled a second time', () => {
    const workflow = parseWorkflow(JSON.stringify({ '6': node('CLIPTextEncode', { text: '{{prompt}}' }), '9': node('SaveImage', {}) }), 'wf.json');
    const graph = fillWorkflow(workflow, { ...VALUES, prompt: 'literally {{seed}}' }) as Record<string, { inputs: Record<string, unknown> }>;
    assert.equal(graph['6']?.inputs.text, 'literally {{seed}}');
  });

  test('the body of a POST /prompt saved as it was sent is accepted', () => {
    const workflow = parseWorkflow(JSON.stringify({ prompt: { '6': node('CLIPTextEncode', { text: '{{prompt}}' }), '9': node('SaveImage', {}) }, client_id: 'x' }), 'wf.json');
    assert.deepEqual(Object.keys(workflow.nodes), ['6', '9']);
  });

  test('files that cannot be used are refused with the file named and the reason', async () => {
    const refused = (text: string, reason: RegExp): void => {
      assert.throws(
        () => parseWorkflow(text, '/data/wf.json'),
        (error: unknown) => error instanceof WorkflowError && error.message.startsWith('workflow /data/wf.json: ') && reason.test(error.message),
      );
    };
    refused('{"3": {', /not valid JSON/);
    refused('[1, 2]', /expected a JSON object of nodes \(the API format\)/);
    refused('{"nodes": [], "links": [], "version": 0.4}', /this is the editor format; save the workflow with "Export \(API\)"/);
    refused('{"3": {"inputs": {}}}', /node "3" is not a node of the API format/);
    refused('{}', /the workflow has no nodes/);
    refused(JSON.stringify({ '6': node('CLIPTextEncode', { text: '{{promt}}' }) }), /node "6" \(CLIPTextEncode\) uses \{\{promt\}\}; the placeholders are \{\{prompt\}\}, \{\{negative\}\}/);

    const folder = await mkdtemp(join(tmpdir(), 'aiframe-'));
    try {
      assert.throws(() => loadWorkflowFile(join(folder, 'missing.json')), /workflow .*missing\.json: cannot be read \(no such file\)/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  test('usable but doubtful workflows come with warnings', () => {
    const workflow = parseWorkflow(JSON.stringify({ '6': node('CLIPTextEncode', { text: 'a fixed prompt' }) }), 'wf.json');
    assert.equal(workflow.warnings.length, 3);
    assert.match(workflow.warnings.join('\n'), /no \{\{prompt\}\}.*\n.*no \{\{seed\}\}.*\n.*no node looks like an output/);
  });
});
