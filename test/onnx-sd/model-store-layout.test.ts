import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CATALOGUE, findCatalogueEntry, isIncluded } from '../../src/providers/onnx-sd/model-store/catalogue.js';
import { writeManifest } from '../../src/providers/onnx-sd/model-store/manifest.js';
import { checkModelLayout, externalDataFiles, REQUIRED_MODEL_FILES, resolveModelDir } from '../../src/providers/onnx-sd/model-store/model-layout.js';
import { fakeOnnxWithExternalData } from './model-store-fake-hub.js';

async function writeLayout(dir: string, except: readonly string[] = []): Promise<void> {
  for (const file of REQUIRED_MODEL_FILES) {
    if (except.includes(file)) continue;
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), 'x');
  }
}

describe('resolveModelDir', () => {
  test('names resolve under the models folder', () => {
    assert.equal(resolveModelDir('/data/models', 'sd-turbo'), '/data/models/sd-turbo');
    assert.equal(resolveModelDir('/data/models', 'my-own-export'), '/data/models/my-own-export');
  });
  test('absolute, ./, ../ and ~/ are paths', () => {
    assert.equal(resolveModelDir('/data/models', '/opt/sd'), '/opt/sd');
    assert.equal(resolveModelDir('/data/models', './sd'), path.resolve('sd'));
    assert.equal(resolveModelDir('/data/models', '../sd'), path.resolve('..', 'sd'));
    assert.equal(resolveModelDir('/data/models', '~/models/sd'), path.join(os.homedir(), 'models/sd'));
  });
});

describe('catalogue', () => {
  test('every entry fetches the required files and has sane recommendations', () => {
    const names = new Set<string>();
    for (const entry of CATALOGUE) {
      assert.ok(!names.has(entry.name), `duplicate ${entry.name}`);
      names.add(entry.name);
      assert.match(entry.repo, /^[\w.-]+\/[\w.-]+$/);
      for (const file of REQUIRED_MODEL_FILES) assert.ok(isIncluded(entry.include, file), `${entry.name} does not fetch ${file}`);
      assert.ok(entry.recommended.steps >= 1 && entry.approxBytes > 1e9);
      assert.equal(findCatalogueEntry(entry.name), entry);
    }
    assert.deepEqual([...names].sort(), ['lcm-dreamshaper-v7', 'sd-turbo', 'sd15']);
    // The LCM repository also holds PyTorch weights, which must not be fetched.
    const lcm = findCatalogueEntry('lcm-dreamshaper-v7')!;
    assert.equal(isIncluded(lcm.include, 'unet/diffusion_pytorch_model.safetensors'), false);
    assert.equal(isIncluded(lcm.include, 'unet/model.onnx_data'), true);
  });
});

describe('checkModelLayout', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a complete layout is ok', async () => {
    const dir = path.join(root, 'mine');
    await writeLayout(dir);
    assert.deepEqual(await checkModelLayout(dir), { ok: true });
  });

  test('a catalogue model not downloaded says how to pull it', async () => {
    const report = await checkModelLayout(path.join(root, 'sd-turbo'));
    assert.equal(report.ok, false);
    assert.equal(!report.ok && report.summary, 'model missing (run: npm run model -- pull sd-turbo)');
    // An empty folder of that name says the same.
    await mkdir(path.join(root, 'sd-turbo'));
    const empty = await checkModelLayout(path.join(root, 'sd-turbo'));
    assert.equal(!empty.ok && empty.summary, 'model missing (run: npm run model -- pull sd-turbo)');
  });

  test('a missing folder that is not a catalogue name is named', async () => {
    const dir = path.join(root, 'elsewhere');
    const report = await checkModelLayout(dir);
    assert.equal(!report.ok && report.summary, `model folder ${dir} does not exist`);
  });

  test('a wrong layout names the first missing file and the folder', async () => {
    const dir = path.join(root, 'mine');
    await writeLayout(dir, ['unet/model.onnx']);
    const report = await checkModelLayout(dir);
    assert.equal(report.ok, false);
    if (report.ok) return;
    assert.equal(report.summary, `unet/model.onnx is missing in ${dir}`);
    assert.deepEqual(report.problems, [{ file: 'unet/model.onnx', problem: 'is missing' }]);
  });

  test('several problems are counted in one line; empty files count', async () => {
    const dir = path.join(root, 'mine');
    await writeLayout(dir, ['text_encoder/model.onnx']);
    await writeFile(path.join(dir, 'tokenizer/vocab.json'), '');
    const report = await checkModelLayout(dir);
    assert.equal(!report.ok && report.summary, `text_encoder/model.onnx is missing in ${dir} (and 1 more)`);
    assert.ok(!report.ok && report.problems.some((p) => p.file === 'tokenizer/vocab.json' && p.problem === 'is empty'));
  });

  test('external weights named by a graph must sit beside it', async () => {
    const dir = path.join(root, 'mine');
    await writeLayout(dir);
    await writeFile(path.join(dir, 'unet/model.onnx'), fakeOnnxWithExternalData('model.onnx_data'));
    assert.deepEqual(await externalDataFiles(path.join(dir, 'unet/model.onnx')), ['model.onnx_data']);
    const report = await checkModelLayout(dir);
    assert.equal(!report.ok && report.summary, `unet/model.onnx_data is missing (external weights of unet/model.onnx) in ${dir}`);
    await writeFile(path.join(dir, 'unet/model.onnx_data'), 'weights');
    assert.deepEqual(await checkModelLayout(dir), { ok: true });
  });

  test('an interrupted pull (partial files, no manifest) is reported as unfinished', async () => {
    const dir = path.join(root, 'sd15');
    await writeLayout(dir, ['unet/model.onnx']);
    await mkdir(path.join(dir, 'unet'), { recursive: true });
    await writeFile(path.join(dir, 'unet/weights.pb.partial'), 'abc');
    const report = await checkModelLayout(dir);
    assert.equal(!report.ok && report.summary, 'download of sd15 not finished (run: npm run model -- pull sd15)');
  });

  test('with a manifest, listed files must have their recorded size', async () => {
    const dir = path.join(root, 'sd15');
    await writeLayout(dir);
    await writeFile(path.join(dir, 'unet/weights.pb'), 'short');
    await writeManifest(dir, {
      name: 'sd15',
      repo: 'x/y',
      revision: 'main',
      downloadedAt: new Date(0).toISOString(),
      files: [
        ...REQUIRED_MODEL_FILES.map((file) => ({ path: file, size: 1 })),
        { path: 'unet/weights.pb', size: 1000 },
      ],
    });
    const report = await checkModelLayout(dir);
    assert.equal(!report.ok && report.summary, `unet/weights.pb has 5 bytes, expected 1000 in ${dir} (run: npm run model -- verify sd15)`);
  });

  test('a path that is a file is not a model folder', async () => {
    const file = path.join(root, 'file');
    await writeFile(file, 'x');
    const report = await checkModelLayout(file);
    assert.equal(!report.ok && report.summary, `model path ${file} is not a folder`);
  });
});
