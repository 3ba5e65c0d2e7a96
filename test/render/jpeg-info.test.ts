import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { readJpegInfo } from '../../src/render/jpeg-info.js';

function photo(width = 64, height = 48): Sharp {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 30 } } });
}

describe('readJpegInfo', () => {
  test('a baseline 4:2:0 JPEG is SOF0', async () => {
    const info = readJpegInfo(await photo().jpeg({ quality: 80, progressive: false }).toBuffer());
    assert.ok(info);
    assert.equal(info.width, 64);
    assert.equal(info.height, 48);
    assert.equal(info.components, 3);
    assert.equal(info.precision, 8);
    assert.equal(info.sof, 0);
    assert.equal(info.baseline, true);
    assert.equal(info.progressive, false);
    assert.equal(info.arithmetic, false);
    assert.equal(info.samplingFactors, '4:2:0');
    assert.equal(info.hasExif, false);
  });

  test('a progressive JPEG is SOF2 and not baseline', async () => {
    const info = readJpegInfo(await photo().jpeg({ progressive: true }).toBuffer());
    assert.ok(info);
    assert.equal(info.sof, 2);
    assert.equal(info.progressive, true);
    assert.equal(info.baseline, false);
  });

  test("sharp's mozjpeg preset is progressive: the trap encodeFrameJpeg avoids", async () => {
    const info = readJpegInfo(await photo().jpeg({ mozjpeg: true }).toBuffer());
    assert.equal(info?.baseline, false);
    assert.equal(info?.progressive, true);
  });

  test('names 4:4:4 and grey sampling', async () => {
    const full = readJpegInfo(await photo().jpeg({ chromaSubsampling: '4:4:4' }).toBuffer());
    assert.equal(full?.samplingFactors, '4:4:4');
    const grey = readJpegInfo(await photo().greyscale().toColourspace('b-w').jpeg().toBuffer());
    assert.equal(grey?.components, 1);
    assert.equal(grey?.samplingFactors, '4:0:0');
    assert.equal(grey?.baseline, true);
  });

  test('sees an EXIF segment', async () => {
    const info = readJpegInfo(await photo().jpeg().withMetadata({ orientation: 6 }).toBuffer());
    assert.equal(info?.hasExif, true);
  });

  test('an arithmetic-coded frame (SOF9) is not baseline', () => {
    // SOI, SOF9 (8-bit, 1x1, one component with 1x1 sampling), then SOS.
    const bytes = Uint8Array.from([
      0xff, 0xd8, 0xff, 0xc9, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00,
      0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00,
    ]);
    const info = readJpegInfo(bytes);
    assert.ok(info);
    assert.equal(info.sof, 9);
    assert.equal(info.arithmetic, true);
    assert.equal(info.baseline, false);
    assert.equal(info.samplingFactors, '4:0:0');
  });

  test('anything that is not a JPEG header gives undefined', async () => {
    assert.equal(readJpegInfo(new Uint8Array()), undefined);
    assert.equal(readJpegInfo(Buffer.from('not an image at all')), undefined);
    assert.equal(readJpegInfo(await photo().png().toBuffer()), undefined);
    const jpeg = await photo().jpeg().toBuffer();
    assert.equal(readJpegInfo(jpeg.subarray(0, 30)), undefined, 'headers cut short');
  });
});
