import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pullModel, type PullTarget } from '../../src/providers/onnx-sd/model-store/downloader.js';
import { ChecksumMismatchError, ModelDownloadError } from '../../src/providers/onnx-sd/model-store/download-errors.js';
import { MANIFEST_FILE, readManifest } from '../../src/providers/onnx-sd/model-store/manifest.js';
import { checkModelLayout } from '../../src/providers/onnx-sd/model-store/model-layout.js';
import { SdPipeline } from '../../src/providers/onnx-sd/sd-pipeline.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { writeTinySdModel } from '../support/tiny-sd-model.js';
import { fakeSdFiles, sha256, startFakeHub, type FakeHub, type FakeHubFile, type FakeRepo } from './model-store-fake-hub.js';

const INCLUDE = ['model_index.json', 'text_encoder/', 'unet/model.onnx', 'unet/weights.pb', 'vae_decoder/', 'tokenizer/', 'scheduler/'];
const TARGET: PullTarget = { name: 'tiny', repo: 'test-org/tiny-sd', revision: 'main', include: INCLUDE };
const COMMIT = 'a'.repeat(40);

describe('pullModel against a fake hub', () => {
  let root: string;
  let modelsDir: string;
  let files: FakeHubFile[];
  let hub: FakeHub;

  async function start(repoFiles: FakeHubFile[] = files, faults = {}): Promise<void> {
    const repo: FakeRepo = { repo: TARGET.repo, revision: 'main', commit: COMMIT, files: repoFiles };
    hub = await startFakeHub([repo], faults);
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
    modelsDir = path.join(root, 'models');
    files = fakeSdFiles();
  });
  afterEach(async () => {
    await hub?.close();
    await rm(root, { recursive: true, force: true });
  });

  const selected = (): FakeHubFile[] => files.filter((f) => INCLUDE.some((p) => (p.endsWith('/') ? f.path.startsWith(p) : f.path === p)));

  test('downloads the selected files, follows the CDN redirect, and writes the manifest last', async () => {
    await start(files, { token: 'hf_secret_token' });
    const logger = createMemoryLogger();
    const progress: number[] = [];
    const result = await pullModel(TARGET, {
      modelsDir,
      endpoint: hub.endpoint,
      token: 'hf_secret_token',
      logger,
      onProgress: (p) => progress.push(p.bytesDone),
    });
    const dir = path.join(modelsDir, 'tiny');
    assert.equal(result.dir, dir);
    for (const file of selected()) {
      assert.deepEqual(await readFile(path.join(dir, file.path)), file.content, file.path);
    }
    // Not selected: other folders, PyTorch weights, the README.
    for (const skipped of ['README.md', 'unet/diffusion_pytorch_model.safetensors', 'vae_encoder/model.onnx']) {
      assert.equal(await stat(path.join(dir, skipped)).catch(() => undefined), undefined, skipped);
    }
    const manifest = await readManifest(dir);
    assert.ok(manifest);
    assert.equal(manifest.repo, TARGET.repo);
    assert.equal(manifest.revision, 'main');
    assert.equal(manifest.commit, COMMIT);
    assert.deepEqual(
      manifest.files.map((f) => [f.path, f.size, f.sha256]).sort(),
      selected().map((f) => [f.path, f.content.length, sha256(f.content)]).sort(),
    );
    assert.equal(result.downloadedBytes, selected().reduce((s, f) => s + f.content.length, 0));
    assert.deepEqual(await checkModelLayout(dir), { ok: true });
    // Progress reached the total and never went backwards.
    assert.equal(progress.at(-1), result.downloadedBytes);
    assert.deepEqual([...progress].sort((a, b) => a - b), progress);
    // LFS files came from the CDN origin without the token; hub requests carried it.
    const cdnRequests = hub.requests.filter((r) => r.host === 'cdn');
    assert.equal(cdnRequests.length, selected().filter((f) => f.lfs).length);
    assert.ok(cdnRequests.every((r) => r.headers.authorization === undefined));
    assert.ok(hub.requests.filter((r) => r.host === 'hub').every((r) => r.headers.authorization === 'Bearer hf_secret_token'));
    // The token is never logged.
    assert.ok(!JSON.stringify(logger.records).includes('hf_secret_token'));
    // No partial files or lock remain.
    assert.equal(await stat(path.join(dir, 'unet/weights.pb.partial')).catch(() => undefined), undefined);
    assert.equal(await stat(path.join(dir, '.aiframe-pull.lock')).catch(() => undefined), undefined);
  });

  test('resumes with Range after the server drops the connection mid-file', async () => {
    const weights = files.find((f) => f.path === 'unet/weights.pb')!;
    await start(files, { dropAfter: new Map([['unet/weights.pb', 120_000]]) });
    const dir = path.join(modelsDir, 'tiny');

    const first = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 0 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(first instanceof ModelDownloadError, String(first));
    assert.equal(first.retryable, true);
    assert.equal(first.file, 'unet/weights.pb');
    const partial = await stat(path.join(dir, 'unet/weights.pb.partial'));
    assert.ok(partial.size > 0 && partial.size < weights.content.length, `partial has ${partial.size} bytes`);
    assert.equal(await stat(path.join(dir, MANIFEST_FILE)).catch(() => undefined), undefined, 'no manifest after a failed pull');
    assert.equal((await checkModelLayout(dir)).ok, false);

    const before = hub.requests.length;
    const second = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 0 });
    // The Range goes to the hub's resolve URL and, through its redirect, to the CDN.
    const ranged = hub.requests.slice(before).filter((r) => r.headers.range !== undefined);
    assert.deepEqual(ranged.map((r) => [r.host, r.headers.range]), [
      ['hub', `bytes=${partial.size}-`],
      ['cdn', `bytes=${partial.size}-`],
    ]);
    assert.deepEqual(await readFile(path.join(dir, 'unet/weights.pb')), weights.content);
    assert.equal(second.resumedFiles, 1);
    // Files finished in the first run were not fetched again.
    assert.ok(second.skippedFiles > 0);
    assert.equal(hub.requests.slice(before).filter((r) => r.url.includes('text_encoder')).length, 0);
    assert.deepEqual(await checkModelLayout(dir), { ok: true });
  });

  test('retries within one run, resuming from the partial file', async () => {
    const weights = files.find((f) => f.path === 'unet/weights.pb')!;
    await start(files, { dropAfter: new Map([['unet/weights.pb', 50_000]]) });
    const result = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 2, retryDelayMs: 1 });
    assert.equal(result.resumedFiles, 1);
    assert.deepEqual(await readFile(path.join(result.dir, 'unet/weights.pb')), weights.content);
    assert.equal(hub.requests.filter((r) => r.host === 'cdn' && r.headers.range !== undefined).length, 1);
  });

  test('a connection that stops delivering is given up and resumed on the retry', async () => {
    const weights = files.find((f) => f.path === 'unet/weights.pb')!;
    await start(files, { stallAfter: new Map([['unet/weights.pb', 70_000]]) });
    const logger = createMemoryLogger();
    const result = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 1, retryDelayMs: 1, stallTimeoutMs: 200, logger });
    assert.deepEqual(await readFile(path.join(result.dir, 'unet/weights.pb')), weights.content);
    assert.equal(result.resumedFiles, 1);
    assert.ok(logger.records.some((r) => r.level === 'warn' && /no data for/.test(r.message)));
  });

  test('restarts from byte 0 when the server ignores Range and answers 200', async () => {
    const weights = files.find((f) => f.path === 'unet/weights.pb')!;
    await start(files, { ignoreRange: true });
    const dir = path.join(modelsDir, 'tiny');
    await mkdir(path.join(dir, 'unet'), { recursive: true });
    await writeFile(path.join(dir, 'unet/weights.pb.partial'), weights.content.subarray(0, 1000));
    const result = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 0 });
    assert.deepEqual(await readFile(path.join(dir, 'unet/weights.pb')), weights.content);
    assert.equal(hub.requests.filter((r) => r.host === 'cdn' && r.headers.range === 'bytes=1000-').length, 1);
    assert.equal(result.downloadedBytes >= weights.content.length, true);
  });

  test('a partial file with wrong bytes is caught by the hash after resuming', async () => {
    const weights = files.find((f) => f.path === 'unet/weights.pb')!;
    await start();
    const dir = path.join(modelsDir, 'tiny');
    await mkdir(path.join(dir, 'unet'), { recursive: true });
    await writeFile(path.join(dir, 'unet/weights.pb.partial'), Buffer.alloc(1000, 7));
    const error = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 0 }).catch((e: unknown) => e);
    assert.ok(error instanceof ChecksumMismatchError);
    assert.equal(error.expected, sha256(weights.content));
    assert.equal(await stat(path.join(dir, 'unet/weights.pb.partial')).catch(() => undefined), undefined);
    // The next run starts that file over and succeeds.
    await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 0 });
    assert.deepEqual(await readFile(path.join(dir, 'unet/weights.pb')), weights.content);
  });

  test('a checksum mismatch names the file and both hashes, deletes the partial and writes no manifest', async () => {
    const vae = files.find((f) => f.path === 'vae_decoder/model.onnx')!;
    await start(files, { corrupt: new Set(['vae_decoder/model.onnx']) });
    const dir = path.join(modelsDir, 'tiny');
    const error = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 3, retryDelayMs: 1 }).catch((e: unknown) => e);
    assert.ok(error instanceof ChecksumMismatchError, String(error));
    const corrupted = Buffer.from(vae.content);
    corrupted[corrupted.length >> 1] = (corrupted[corrupted.length >> 1]! + 1) & 0xff;
    assert.equal(error.file, 'vae_decoder/model.onnx');
    assert.equal(error.expected, sha256(vae.content));
    assert.equal(error.actual, sha256(corrupted));
    assert.match(error.message, /vae_decoder\/model\.onnx/);
    assert.ok(error.message.includes(sha256(vae.content)) && error.message.includes(sha256(corrupted)));
    assert.equal(await stat(path.join(dir, 'vae_decoder/model.onnx.partial')).catch(() => undefined), undefined);
    assert.equal(await stat(path.join(dir, 'vae_decoder/model.onnx')).catch(() => undefined), undefined);
    assert.equal(await stat(path.join(dir, MANIFEST_FILE)).catch(() => undefined), undefined);
    // Not retried: the same bytes would come again.
    assert.equal(hub.requests.filter((r) => r.host === 'cdn' && r.url.includes(sha256(vae.content))).length, 1);
  });

  test('a git-stored file is checked against its blob id too', async () => {
    await start();
    // Serve tokenizer/merges.txt with a changed byte: it has no sha256 in the tree, only a git oid.
    hub.faults.corrupt = new Set(['tokenizer/merges.txt']);
    const error = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, retries: 0 }).catch((e: unknown) => e);
    assert.ok(error instanceof ChecksumMismatchError);
    assert.equal(error.algorithm, 'git-sha1');
    assert.equal(error.file, 'tokenizer/merges.txt');
  });

  test('refuses a repository without the ONNX layout before downloading anything', async () => {
    await start(files.filter((f) => f.path !== 'unet/model.onnx'));
    const target: PullTarget = { ...TARGET, include: ['model_index.json', 'text_encoder/', 'unet/', 'vae_decoder/', 'tokenizer/', 'scheduler/'] };
    const error = await pullModel(target, { modelsDir, endpoint: hub.endpoint }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.match(error.message, /lacks unet\/model\.onnx/);
    assert.equal(hub.requests.filter((r) => r.url.includes('/resolve/')).length, 0);
  });

  test('an include entry the repository lacks is an error', async () => {
    await start();
    const error = await pullModel({ ...TARGET, include: [...INCLUDE, 'unet/model.onnx_data'] }, { modelsDir, endpoint: hub.endpoint }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.match(error.message, /has no unet\/model\.onnx_data/);
  });

  test('a second pull of a complete model downloads nothing', async () => {
    await start();
    await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint });
    const before = hub.requests.length;
    const again = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint });
    assert.equal(again.downloadedBytes, 0);
    assert.equal(again.skippedFiles, selected().length);
    assert.deepEqual(hub.requests.slice(before).map((r) => r.url.split('?')[0]), [`/api/models/${TARGET.repo}/tree/main`]);
  });

  test('follows tree pages through the Link header', async () => {
    await start(files, { treePageSize: 3 });
    const result = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint });
    assert.equal(result.manifest.files.length, selected().length);
    assert.ok(hub.requests.filter((r) => r.url.includes('/tree/')).length > 3);
  });

  test('a gated repository without a token says to set HF_TOKEN', async () => {
    await start(files, { token: 'hf_needed' });
    const error = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.equal(error.status, 401);
    assert.match(error.message, /HF_TOKEN/);
    const refused = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, token: 'hf_wrong_token' }).catch((e: unknown) => e);
    assert.ok(refused instanceof ModelDownloadError);
    assert.ok(!refused.message.includes('hf_wrong_token'));
  });

  test('an unknown revision is a 404 with a hint', async () => {
    await start();
    const error = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, revision: 'no-such-branch' }).catch((e: unknown) => e);
    assert.ok(error instanceof ModelDownloadError);
    assert.equal(error.status, 404);
    assert.match(error.message, /no such repository, revision or file/);
    assert.equal(await stat(path.join(modelsDir, 'tiny')).catch(() => undefined), undefined, 'no empty folder left');
  });

  test('a tiny real export (diffusers layout, weights.pb) pulled from the hub makes a picture', async () => {
    const source = await writeTinySdModel(path.join(root, 'source'), { externalData: 'weights.pb' });
    const repoFiles: FakeHubFile[] = [];
    for (const entry of await readdir(source, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = path.join(entry.parentPath, entry.name);
      const relative = path.relative(source, full).split(path.sep).join('/');
      repoFiles.push({ path: relative, content: await readFile(full), lfs: /\.(onnx|pb)$/.test(relative) });
    }
    await start(repoFiles);
    const include = ['model_index.json', 'text_encoder/', 'unet/', 'vae_decoder/', 'tokenizer/', 'scheduler/'];
    const result = await pullModel({ ...TARGET, include }, { modelsDir, endpoint: hub.endpoint });
    assert.ok(result.manifest.files.some((file) => file.path === 'unet/weights.pb'));
    assert.deepEqual(await checkModelLayout(result.dir), { ok: true });
    const pipeline = await SdPipeline.load({ modelDir: result.dir, executionProvider: 'cpu', graphOptimization: 'all' });
    try {
      const image = await pipeline.generate({ prompt: 'a photo of a cat', seed: 3, steps: 2, guidance: 7.5, width: 64, height: 64 });
      assert.equal(image.rgb.length, 64 * 64 * 3);
    } finally {
      await pipeline.release();
    }
  });

  test('a revision given as the commit works, and the manifest records it', async () => {
    await start();
    const result = await pullModel(TARGET, { modelsDir, endpoint: hub.endpoint, revision: COMMIT });
    assert.equal(result.manifest.revision, COMMIT);
    assert.ok(hub.requests.some((r) => r.url.includes(`/resolve/${COMMIT}/`)));
  });
});
