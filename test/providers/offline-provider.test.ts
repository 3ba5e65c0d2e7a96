import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { OfflineProvider } from '../../src/providers/offline/offline-provider.js';
import { ProviderError, type GenerateRequest, type GenerationProgress, type ProviderResult } from '../../src/providers/types.js';
import { createMemoryLogger } from '../../src/util/logger.js';
import { generateRequest } from '../support/generate-request.js';

function request(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return generateRequest({ prompt: 'mountains at sunset', seed: 42, ...overrides });
}

function bytesOf(result: ProviderResult): Uint8Array {
  assert.equal(result.kind, 'bytes');
  return result.bytes;
}

/** Mean absolute difference per channel value (0..255) between two same-size pictures. */
async function meanDifference(a: Uint8Array, b: Uint8Array): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((bytes) => sharp(bytes).removeAlpha().raw().toBuffer()));
  assert.ok(x !== undefined && y !== undefined && x.length === y.length);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs((x[i] ?? 0) - (y[i] ?? 0));
  return sum / x.length;
}

describe('OfflineProvider', () => {
  const provider = new OfflineProvider({ logger: createMemoryLogger() });

  test('describes itself and is always ready', () => {
    assert.equal(provider.id, 'offline');
    assert.equal(new OfflineProvider({ id: 'builtin', logger: createMemoryLogger() }).id, 'builtin');
    assert.equal(provider.displayName, 'Built-in offline generator');
    assert.deepEqual(provider.capabilities, { acceptsPrompt: true, acceptsNegative: false, paid: false, generates: true });
    assert.deepEqual(provider.readiness(), { ready: true });
  });

  test('gives the same bytes for the same prompt, seed and size', async () => {
    const first = bytesOf(await provider.generate(request()));
    const second = bytesOf(await provider.generate(request()));
    assert.deepEqual(Buffer.from(first), Buffer.from(second));
  });

  test('different seeds give visibly different pictures', async () => {
    const pictures = await Promise.all([1, 2, 3].map(async (seed) => bytesOf(await provider.generate(request({ seed })))));
    const [a, b, c] = pictures as [Uint8Array, Uint8Array, Uint8Array];
    for (const [x, y] of [[a, b], [b, c], [a, c]] as const) {
      assert.notDeepEqual(Buffer.from(x), Buffer.from(y));
      assert.ok((await meanDifference(x, y)) > 4, 'pictures should differ visibly, not by a few pixels');
    }
  });

  test('different prompts give different pictures', async () => {
    const a = bytesOf(await provider.generate(request({ prompt: 'a quiet lake' })));
    const b = bytesOf(await provider.generate(request({ prompt: 'a cat in a hat' })));
    assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
  });

  test('renders a JPEG of exactly the requested size, portrait and landscape', async () => {
    for (const [width, height] of [
      [320, 480],
      [480, 320],
      [64, 48],
    ] as const) {
      const bytes = bytesOf(await provider.generate(request({ width, height })));
      assert.equal(bytes[0], 0xff);
      assert.equal(bytes[1], 0xd8, 'starts with a JPEG SOI marker');
      assert.equal(bytes[bytes.length - 2], 0xff);
      assert.equal(bytes[bytes.length - 1], 0xd9, 'ends with a JPEG EOI marker');
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, width);
      assert.equal(meta.height, height);
    }
  });

  test('records the style and palette in details', async () => {
    const result = await provider.generate(request({ prompt: 'night sea' }));
    assert.equal(result.kind, 'bytes');
    assert.equal(result.details?.['style'], 'sea');
    assert.equal(result.details?.['palette'], 'night-summer');
  });

  test('Russian keywords pick the same palette and style as English ones', async () => {
    const pairs: (readonly [string, string])[] = [
      ['night', 'ночь'],
      ['sunset at sea', 'закат на море'],
      ['winter forest', 'зимний лес'],
      ['autumn mountains', 'осенние горы'],
      ['desert at dawn', 'пустыня на рассвете'],
      ['spring', 'весна'],
      ['space', 'космос'],
      ['northern lights', 'северное сияние'],
    ];
    for (const [english, russian] of pairs) {
      const en = await provider.generate(request({ prompt: english, width: 32, height: 48 }));
      const ru = await provider.generate(request({ prompt: russian, width: 32, height: 48 }));
      assert.equal(ru.details?.['palette'], en.details?.['palette'], `${russian} vs ${english}`);
      assert.equal(ru.details?.['style'], en.details?.['style'], `${russian} vs ${english}`);
    }
  });

  test('reports progress up to the total', async () => {
    const seen: GenerationProgress[] = [];
    await provider.generate(request({ onProgress: (progress) => seen.push(progress) }));
    assert.ok(seen.length >= 2);
    const last = seen[seen.length - 1];
    assert.ok(last !== undefined && last.step === last.total);
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i]?.step ?? 0) > (seen[i - 1]?.step ?? 0));
  });

  test('rejects a size no picture can have as a ProviderError', async () => {
    await assert.rejects(provider.generate(request({ width: 0 })), ProviderError);
  });

  test('rejects with the signal reason when aborted before it starts', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    controller.abort(reason);
    await assert.rejects(provider.generate(request({ signal: controller.signal })), (error) => error === reason);
  });

  test('rejects with the signal reason when aborted while painting', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    await assert.rejects(
      provider.generate(
        request({
          signal: controller.signal,
          onProgress: ({ step }) => {
            if (step === 1) controller.abort(reason);
          },
        }),
      ),
      (error) => error === reason,
    );
  });
});
