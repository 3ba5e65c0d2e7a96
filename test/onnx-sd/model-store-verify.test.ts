import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, unlink, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pullModel, type PullTarget } from '../../src/providers/onnx-sd/model-store/downloader.js';
import { MANIFEST_FILE } from '../../src/providers/onnx-sd/model-store/manifest.js';
import { verifyModel } from '../../src/providers/onnx-sd/model-store/verify.js';
import { fakeSdFiles, sha256, startFakeHub, type FakeHub } from './model-store-fake-hub.js';

const TARGET: PullTarget = {
  name: 'tiny',
  repo: 'test-org/tiny-sd',
  revision: 'main',
  include: ['model_index.json', 'text_encoder/', 'unet/model.onnx', 'unet/weights.pb', 'vae_decoder/', 'tokenizer/', 'scheduler/'],
};

describe('verifyModel', () => {
  let root: string;
  let hub: FakeHub;
  let dir: string;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
    hub = await startFakeHub([{ repo: TARGET.repo, revision: 'main', commit: 'b'.repeat(40), files: fakeSdFiles() }]);
    dir = (await pullModel(TARGET, { modelsDir: path.join(root, 'models'), endpoint: hub.endpoint })).dir;
  });
  after(async () => {
    await hub.close();
    await rm(root, { recursive: true, force: true });
  });

  test('a fresh pull verifies, every file re-hashed', async () => {
    const progress: number[] = [];
    const report = await verifyModel(dir, { onProgress: (p) => progress.push(p.bytesDone) });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.checkedFiles, 9);
    assert.equal(report.hashedFiles, 9);
    assert.equal(progress.at(-1), report.manifest!.files.reduce((s, f) => s + f.size, 0));
  });

  test('one changed byte is found and named with both hashes', async () => {
    const file = path.join(dir, 'unet/weights.pb');
    const original = await readFile(file);
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([original[12345]! ^ 0xff]), 0, 1, 12345);
    await handle.close();
    try {
      const report = await verifyModel(dir);
      assert.equal(report.ok, false);
      assert.equal(report.problems.length, 1);
      assert.equal(report.problems[0]!.file, 'unet/weights.pb');
      assert.equal(report.problems[0]!.problem, `sha256 is ${sha256(await readFile(file))}, expected ${sha256(original)}`);
    } finally {
      const restore = await open(file, 'r+');
      await restore.write(original.subarray(12345, 12346), 0, 1, 12345);
      await restore.close();
    }
    assert.equal((await verifyModel(dir)).ok, true);
  });

  test('missing files and a missing manifest are problems', async () => {
    const copy = path.join(root, 'copy');
    await import('node:fs/promises').then((fs) => fs.cp(dir, copy, { recursive: true }));
    await unlink(path.join(copy, 'vae_decoder/model.onnx'));
    let report = await verifyModel(copy);
    assert.deepEqual(report.problems, [{ file: 'vae_decoder/model.onnx', problem: 'is missing' }]);

    await unlink(path.join(copy, MANIFEST_FILE));
    report = await verifyModel(copy);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => p.file),
      ['vae_decoder/model.onnx'],
      'without a manifest the layout is still checked',
    );
    assert.match(report.problems[0]!.problem, /not an ONNX Stable Diffusion layout/);

    // An interrupted pull (partial files, no manifest) is reported as one.
    await writeFile(path.join(copy, 'unet/weights.pb.partial'), 'half');
    report = await verifyModel(copy);
    assert.deepEqual(
      report.problems.map((p) => p.file),
      [MANIFEST_FILE, 'vae_decoder/model.onnx'],
    );
    assert.match(report.problems[0]!.problem, /download did not finish/);
  });

  test('a folder the user exported (no manifest, no partial files) verifies by its layout', async () => {
    const copy = path.join(root, 'own-export');
    await import('node:fs/promises').then((fs) => fs.cp(dir, copy, { recursive: true }));
    await unlink(path.join(copy, MANIFEST_FILE));
    const report = await verifyModel(copy);
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.equal(report.manifest, undefined);
  });

  test('a folder that does not exist is a problem, not a crash', async () => {
    const report = await verifyModel(path.join(root, 'nothing'));
    assert.deepEqual(report.problems, [{ file: path.join(root, 'nothing'), problem: 'folder does not exist' }]);
  });
});
