import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { detectFormat, extensionFor } from '../../src/library/detect-format.js';
import { pictureName, randomSuffix, sanitizeProvider } from '../../src/library/picture-name.js';
import sharp from 'sharp';

function tinyImage(format: 'jpeg' | 'png' | 'webp'): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: '#c82828' } }).toFormat(format).toBuffer();
}

describe('detectFormat', () => {
  test('knows JPEG, PNG and WebP by their first bytes', async () => {
    assert.equal(detectFormat(await tinyImage('jpeg')), 'jpeg');
    assert.equal(detectFormat(await tinyImage('png')), 'png');
    assert.equal(detectFormat(await tinyImage('webp')), 'webp');
  });

  test('refuses other bytes and short input', () => {
    assert.equal(detectFormat(new TextEncoder().encode('GIF89a......')), undefined);
    assert.equal(detectFormat(new TextEncoder().encode('RIFF....WAVE')), undefined);
    assert.equal(detectFormat(new Uint8Array([0xff, 0xd8])), undefined);
    assert.equal(detectFormat(new Uint8Array()), undefined);
  });

  test('saves JPEG as .jpg', () => {
    assert.equal(extensionFor('jpeg'), 'jpg');
    assert.equal(extensionFor('png'), 'png');
  });
});

describe('picture names', () => {
  test('UTC time to the millisecond, the sanitised provider and six hex digits', () => {
    const name = pictureName(new Date('2026-11-21T19:07:43.123Z'), 'Yandex Art!', 'a1b2c3');
    assert.equal(name, '20261121-190743-123-yandex-art-a1b2c3');
  });

  test('providers are cut down to [a-z0-9_-]', () => {
    assert.equal(sanitizeProvider('onnx_sd'), 'onnx_sd');
    assert.equal(sanitizeProvider('../../etc/passwd'), 'etc-passwd');
    assert.equal(sanitizeProvider('Ünïcødé'), 'n-c-d');
    assert.equal(sanitizeProvider('***'), 'unknown');
    assert.ok(sanitizeProvider('x'.repeat(100)).length <= 32);
  });

  test('names sort by creation time', () => {
    const early = pictureName(new Date('2026-01-02T03:04:05.006Z'), 'b', 'ffffff');
    const late = pictureName(new Date('2026-01-02T03:04:05.007Z'), 'a', '000000');
    assert.ok(early < late);
  });

  test('suffixes are six hex digits', () => {
    assert.match(randomSuffix(), /^[0-9a-f]{6}$/);
  });
});
