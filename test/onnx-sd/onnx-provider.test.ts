/** The `onnx` provider: its options, readiness from the model's files, and pictures through the seam. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ConfigError } from '../../src/config/config-error.js';
import { resolveModelDir } from '../../src/providers/onnx-sd/model-store/model-layout.js';
import { onnxOptionsSchema, type OnnxOptions } from '../../src/providers/onnx-sd/onnx-options.js';
import { OnnxProvider } from '../../src/providers/onnx-sd/onnx-provider.js';
import { parseSection } from '../../src/providers/registry.js';
import { ProviderError, type GenerateRequest, type GenerationProgress, type ProviderResult } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { generateRequest } from '../support/generate-request.js';
import { writeTinySdModel } from '../support/tiny-sd-model.js';

const parse = (section: Record<string, unknown>): OnnxOptions => parseSection(onnxOptionsSchema, section, 'onnx', 'data/options.yml');

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => generateRequest({ prompt: 'a photo of a castle', seed: 1234, ...overrides });

function bytesOf(result: ProviderResult): Buffer {
  assert.equal(result.kind, 'bytes');
  return Buffer.from(result.bytes);
}

let root: string;
let modelDir: string;
const providers: OnnxProvider[] = [];

async function provider(section: Record<string, unknown>, dir = modelDir): Promise<OnnxProvider> {
  const made = new OnnxProvider({ options: parse({ model: dir, ...section }), modelDir: dir, logger: createMemoryLogger() });
  providers.push(made);
  await made.start();
  return made;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'aiframe-'));
  // Native 192×192 (sample_size 24): a 2:3 frame gets 128×256.
  modelDir = await writeTinySdModel(join(root, 'tiny'), { sampleSize: 24 });
});

after(async () => {
  await Promise.all(providers.map((made) => made.close()));
  await rm(root, { recursive: true, force: true });
});

describe('providers.onnx options', () => {
  test('only the model is required; the rest has defaults', () => {
    const options = parse({ model: 'sd-turbo' });
    assert.equal(options.model, 'sd-turbo');
    assert.equal(options.seed, 'random');
    assert.equal(options.execution_provider, 'cpu');
    assert.equal(options.graph_optimization, 'all');
    assert.equal(options.steps, undefined);
    assert.equal(options.scheduler, undefined);
  });

  test("accepts the common rule keys and other servers' scheduler names", () => {
    const options = parse({
      model: 'sd15',
      scheduler: 'DPM++ 2M Karras',
      seed: 99,
      steps: 30,
      guidance: 6,
      width: 512,
      height: 768,
      threads: 2,
      execution_provider: 'cuda',
      image_generate_threshold: 30,
      daily_limit: 10,
      sleep_time: [{ time_range: { start_time: '23:00', end_time: '07:00' } }],
    });
    assert.equal(options.scheduler, 'dpmpp_2m_karras');
    assert.equal(options.seed, 99);
    assert.equal(options.execution_provider, 'cuda');
    assert.equal(parse({ model: 'x', scheduler: 'Euler a' }).scheduler, 'euler_a');
    assert.equal(parse({ model: 'x', scheduler: 'LCMScheduler' }).scheduler, 'lcm');
  });

  test('mistakes name the key', () => {
    const fails = (section: Record<string, unknown>, pattern: RegExp) =>
      assert.throws(() => parse(section), (error: unknown) => error instanceof ConfigError && pattern.test(error.message));
    fails({}, /providers\.onnx\.model: expected a model name/);
    fails({ model: 'x', scheduler: 'pndm' }, /providers\.onnx\.scheduler: unknown scheduler "pndm"; expected one of euler, euler_a/);
    fails({ model: 'x', width: 500 }, /providers\.onnx\.width: expected a width that is a multiple of 64/);
    // A multiple of 8 is not enough: SD UNets need latent sides in multiples of 8 (pictures in 64s).
    fails({ model: 'x', height: 520 }, /providers\.onnx\.height: expected a height that is a multiple of 64/);
    fails({ model: 'x', seed: 'lucky' }, /providers\.onnx\.seed: expected random or a whole number/);
    fails({ model: 'x', execution_provider: 'rocm' }, /providers\.onnx\.execution_provider: expected cpu or cuda/);
    fails({ model: 'x', stpes: 3 }, /unknown option "stpes"/);
  });
});

describe('OnnxProvider', () => {
  test('describes itself', async () => {
    const made = await provider({});
    assert.equal(made.id, 'onnx');
    assert.deepEqual(made.capabilities, { acceptsPrompt: true, acceptsNegative: true, paid: false, generates: true });
  });

  test('is not ready until the model is there, with the command that fetches it; refresh picks it up', async () => {
    const modelsDir = join(root, 'models');
    const dir = resolveModelDir(modelsDir, 'sd-turbo');
    const logger = createMemoryLogger();
    const made = new OnnxProvider({ options: parse({ model: 'sd-turbo' }), modelDir: dir, logger });
    providers.push(made);
    assert.equal(made.readiness().ready, false, 'not ready before the first check');
    await made.start();
    const readiness = made.readiness();
    assert.equal(readiness.ready, false);
    assert.match(readiness.ready ? '' : readiness.reason, /model missing \(run: npm run model -- pull sd-turbo\)/);
    await assert.rejects(made.generate(request()), (error: unknown) => error instanceof ProviderError && /model missing/.test(error.message));

    await writeTinySdModel(dir);
    await made.refresh();
    assert.deepEqual(made.readiness(), { ready: true });
    assert.ok(logger.records.some((record) => record.level === 'info' && /model sd-turbo is now ready/.test(record.message)));
  });

  test("makes a PNG at the frame's aspect ratio and the model's native pixel count, with details", async () => {
    const made = await provider({});
    const progress: GenerationProgress[] = [];
    const result = await made.generate(request({ onProgress: (step) => progress.push(step) }));
    const bytes = bytesOf(result);
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 128);
    assert.equal(meta.height, 256);
    assert.equal(result.kind === 'bytes' ? result.seed : 'file', undefined, 'the request seed was used');
    const details = result.details as Record<string, unknown>;
    assert.equal(details['model'], modelDir);
    assert.equal(details['scheduler'], 'euler');
    assert.equal(details['steps'], 25, 'the default for an Euler model');
    assert.equal(details['guidance'], 7.5);
    assert.equal(details['seed'], 1234);
    assert.equal(details['size'], '128x256');
    assert.equal(typeof details['seconds'], 'number');
    assert.deepEqual(progress.at(-1), { step: 25, total: 25 });
  });

  test('options from options.yml win over the model defaults', async () => {
    const made = await provider({ steps: 3, guidance: 0, scheduler: 'ddim', width: 64, height: 128 });
    const result = await made.generate(request());
    const details = result.details as Record<string, unknown>;
    assert.equal(details['scheduler'], 'ddim');
    assert.equal(details['steps'], 3);
    assert.equal(details['guidance'], 0);
    assert.equal(details['size'], '64x128');
  });

  test('a fixed seed gives the same picture whatever the request seed; random follows the request', async () => {
    const fixed = await provider({ seed: 5, steps: 4 });
    const a = await fixed.generate(request({ seed: 1 }));
    const b = await fixed.generate(request({ seed: 2 }));
    assert.ok(bytesOf(a).equals(bytesOf(b)));
    assert.equal(a.kind === 'bytes' ? a.seed : undefined, 5, 'the seed used is reported');

    const random = await provider({ steps: 4 });
    const c = await random.generate(request({ seed: 1 }));
    const d = await random.generate(request({ seed: 2 }));
    const again = await random.generate(request({ seed: 1 }));
    assert.ok(!bytesOf(c).equals(bytesOf(d)));
    assert.ok(bytesOf(c).equals(bytesOf(again)));
  });

  test('a model replaced on disk is reloaded after refresh', async () => {
    const dir = await writeTinySdModel(join(root, 'replaced'));
    const made = await provider({ steps: 3 }, dir);
    const before = bytesOf(await made.generate(request()));
    await writeTinySdModel(dir, { hidden: 16 }); // a different export in the same folder
    assert.ok(bytesOf(await made.generate(request())).equals(before), 'the loaded sessions are kept until the model is re-checked');
    await made.refresh();
    assert.ok(!bytesOf(await made.generate(request())).equals(before), 'the new files are used after refresh');
  });

  test('an aborted request rejects with its reason', async () => {
    const made = await provider({ steps: 2 });
    const controller = new AbortController();
    controller.abort(new Error('frame gone'));
    await assert.rejects(made.generate(request({ signal: controller.signal })), /frame gone/);
  });
});
