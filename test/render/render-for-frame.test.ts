import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { FitMode, FrameProfile } from '../../src/render/frame-profile.js';
import { readJpegInfo } from '../../src/render/jpeg-info.js';
import {
  autoStretches,
  DEFAULT_JPEG_QUALITY,
  renderBlackFrame,
  renderForFrame,
} from '../../src/render/render-for-frame.js';

const RED = { r: 255, g: 0, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };

function profile(fitMode: FitMode, width = 320, height = 480): FrameProfile {
  return { width, height, fitMode, fitThreshold: 0.03, quality: DEFAULT_JPEG_QUALITY };
}

function solid(width: number, height: number, colour = RED): Sharp {
  return sharp({ create: { width, height, channels: 3, background: colour } });
}

/** Left half `left`, right half `right`. */
async function halves(width: number, height: number, left = RED, right = BLUE): Promise<Sharp> {
  const half = await solid(Math.ceil(width / 2), height, right).png().toBuffer();
  return solid(width, height, left).composite([{ input: half, left: Math.floor(width / 2), top: 0 }]);
}

interface Decoded {
  width: number;
  height: number;
  at(x: number, y: number): { r: number; g: number; b: number };
}

async function decode(jpeg: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at: (x, y) => {
      const i = (y * info.width + x) * info.channels;
      return { r: data[i] ?? -1, g: data[i + 1] ?? -1, b: data[i + 2] ?? -1 };
    },
  };
}

function isBlack(p: { r: number; g: number; b: number }): boolean {
  return p.r <= 8 && p.g <= 8 && p.b <= 8;
}
function isRed(p: { r: number; g: number; b: number }): boolean {
  return p.r >= 200 && p.g <= 60 && p.b <= 60;
}
function isBlue(p: { r: number; g: number; b: number }): boolean {
  return p.b >= 200 && p.r <= 60 && p.g <= 60;
}

/** What the frame can decode: baseline, exactly the frame's size. */
function assertFrameJpeg(jpeg: Buffer, p: FrameProfile): void {
  const info = readJpegInfo(jpeg);
  assert.ok(info, 'output is a JPEG');
  assert.equal(info.baseline, true, `SOF${info.sof} is not baseline`);
  assert.equal(info.width, p.width);
  assert.equal(info.height, p.height);
  assert.equal(info.samplingFactors, '4:2:0');
  assert.equal(info.hasExif, false, 'metadata stripped');
}

describe('renderForFrame fit modes', () => {
  test('stretch fills the frame whatever the aspect ratio', async () => {
    const p = profile('stretch');
    const jpeg = await renderForFrame(await solid(480, 320).jpeg().toBuffer(), p);
    assertFrameJpeg(jpeg, p);
    const image = await decode(jpeg);
    for (const [x, y] of [[2, 2], [317, 2], [2, 477], [317, 477], [160, 240]] as const) {
      assert.ok(isRed(image.at(x, y)), `(${x},${y}) is picture, not padding`);
    }
  });

  test('contain fits inside and pads with black, centred', async () => {
    const p = profile('contain');
    // 480x320 -> 320x213, so about 133 rows of black above and below.
    const image = await decode(await renderForFrame(await solid(480, 320).png().toBuffer(), p));
    assert.equal(image.width, 320);
    assert.equal(image.height, 480);
    assert.ok(isBlack(image.at(160, 20)), 'top padding');
    assert.ok(isBlack(image.at(160, 460)), 'bottom padding');
    assert.ok(isRed(image.at(160, 240)), 'picture in the middle');
    assert.ok(isRed(image.at(2, 240)) && isRed(image.at(317, 240)), 'full width, no side padding');
  });

  test('cover fills the frame by cropping, no padding', async () => {
    const p = profile('cover');
    const jpeg = await renderForFrame(await (await halves(480, 320)).png().toBuffer(), p);
    assertFrameJpeg(jpeg, p);
    const image = await decode(jpeg);
    for (const [x, y] of [[2, 2], [317, 2], [2, 477], [317, 477]] as const) {
      assert.ok(!isBlack(image.at(x, y)), `(${x},${y}) is not padding`);
    }
  });

  test('auto stretches a picture within the threshold (321x480 for 320x480)', async () => {
    const p = profile('auto');
    const jpeg = await renderForFrame(await solid(321, 480).png().toBuffer(), p);
    assertFrameJpeg(jpeg, p);
    const image = await decode(jpeg);
    for (const [x, y] of [[1, 1], [318, 1], [1, 478], [318, 478]] as const) {
      assert.ok(isRed(image.at(x, y)), `(${x},${y}) stretched, not padded`);
    }
  });

  test('auto pads a picture beyond the threshold (480x320 for 320x480)', async () => {
    const p = profile('auto');
    const jpeg = await renderForFrame(await solid(480, 320).png().toBuffer(), p);
    assertFrameJpeg(jpeg, p);
    const image = await decode(jpeg);
    assert.ok(isBlack(image.at(160, 20)));
    assert.ok(isBlack(image.at(160, 460)));
    assert.ok(isRed(image.at(160, 240)));
  });

  test("autoStretches follows upstream's formula |a-b| / min(a,b) <= threshold", () => {
    // Upstream's own test case: 1000x800 (1.25) onto 500x410 (1.2195): diff 2.5%.
    assert.equal(autoStretches({ width: 1000, height: 800 }, { width: 500, height: 410 }, 0.1), true);
    assert.equal(autoStretches({ width: 1000, height: 800 }, { width: 500, height: 410 }, 0.02), false);
    assert.equal(autoStretches({ width: 321, height: 480 }, { width: 320, height: 480 }, 0.03), true);
    assert.equal(autoStretches({ width: 480, height: 320 }, { width: 320, height: 480 }, 0.03), false);
    assert.equal(autoStretches({ width: 320, height: 480 }, { width: 320, height: 480 }, 0), true);
  });
});

describe('renderForFrame inputs', () => {
  test('applies the EXIF orientation before fitting', async () => {
    // Stored 200x100 landscape, red left and blue right, tagged "rotate 90 clockwise" (6):
    // shown as 100x200 portrait with red on top and blue below.
    const source = await (await halves(200, 100)).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const p = profile('auto');
    const jpeg = await renderForFrame(source, p);
    assertFrameJpeg(jpeg, p);
    const image = await decode(jpeg);
    assert.ok(isRed(image.at(160, 60)), 'top is the stored left half');
    assert.ok(isBlue(image.at(160, 420)), 'bottom is the stored right half');
    // Portrait 1:2 in a 2:3 frame pads left and right (a landscape reading would pad top and bottom).
    assert.ok(isBlack(image.at(10, 240)), 'left padding');
    assert.ok(isBlack(image.at(310, 240)), 'right padding');
  });

  test('auto compares the oriented size with the frame', async () => {
    // Stored 480x321, shown as 321x480 (orientation 6): within the threshold, so stretched.
    const source = await solid(480, 321).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const image = await decode(await renderForFrame(source, profile('auto')));
    for (const [x, y] of [[1, 1], [318, 1], [1, 478], [318, 478]] as const) {
      assert.ok(isRed(image.at(x, y)), `(${x},${y}) stretched, not padded`);
    }
  });

  test('flattens PNG transparency onto black', async () => {
    // Left half fully transparent (but red underneath), right half opaque blue.
    const rgba = Buffer.alloc(100 * 100 * 4);
    for (let y = 0; y < 100; y += 1) {
      for (let x = 0; x < 100; x += 1) {
        const i = (y * 100 + x) * 4;
        if (x < 50) rgba.set([255, 0, 0, 0], i);
        else rgba.set([0, 0, 255, 255], i);
      }
    }
    const png = await sharp(rgba, { raw: { width: 100, height: 100, channels: 4 } }).png().toBuffer();
    const p = profile('stretch');
    const jpeg = await renderForFrame(png, p);
    assertFrameJpeg(jpeg, p);
    assert.equal(readJpegInfo(jpeg)?.components, 3);
    const image = await decode(jpeg);
    assert.ok(isBlack(image.at(60, 240)), 'transparent became black');
    assert.ok(isBlue(image.at(260, 240)), 'opaque kept');
  });

  test('takes WebP input', async () => {
    const p = profile('auto');
    const jpeg = await renderForFrame(await solid(640, 960).webp().toBuffer(), p);
    assertFrameJpeg(jpeg, p);
    assert.ok(isRed((await decode(jpeg)).at(160, 240)));
  });

  test('takes a file path and strips the EXIF block', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aiframe-'));
    try {
      const file = path.join(dir, 'photo.jpg');
      await writeFile(file, await solid(640, 960).jpeg().withMetadata({ orientation: 1 }).toBuffer());
      const p = profile('auto');
      assertFrameJpeg(await renderForFrame(file, p), p);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('renders a frame of any configured size', async () => {
    const p = profile('cover', 480, 320);
    assertFrameJpeg(await renderForFrame(await solid(1024, 1024).png().toBuffer(), p), p);
  });

  test('a corrupt input rejects with a clear Error', async () => {
    await assert.rejects(renderForFrame(Buffer.from('definitely not a picture'), profile('auto')), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /cannot render picture \(24 bytes\) for the frame/);
      return true;
    });
    const jpeg = await solid(640, 960).jpeg().toBuffer();
    await assert.rejects(renderForFrame(jpeg.subarray(0, jpeg.length / 2), profile('auto')), /cannot render/);
    await assert.rejects(renderForFrame('/nonexistent/aiframe/picture.jpg', profile('auto')), /cannot render picture \/nonexistent/);
  });
});

describe('renderBlackFrame', () => {
  test('is an all-black baseline JPEG of the frame size', async () => {
    const p = profile('auto');
    const jpeg = await renderBlackFrame(p);
    assertFrameJpeg(jpeg, p);
    const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    assert.ok(data.every((v) => v <= 2), 'every pixel black');
    assert.ok(jpeg.length < 5000, `a black frame is tiny (${jpeg.length} bytes)`);
  });
});
