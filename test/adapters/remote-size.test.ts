/** The generator size chosen for a frame: its aspect ratio, about the pixel count wanted, sides on a grid. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pixelsForSize, sizeForFrame } from '../../src/providers/remote-size.js';

describe('sizeForFrame', () => {
  test('a 2:3 frame at the default 640² pixels gets 512×768; landscape is the mirror', () => {
    assert.deepEqual(sizeForFrame(320, 480, pixelsForSize(640)), { width: 512, height: 768 });
    assert.deepEqual(sizeForFrame(480, 320, pixelsForSize(640)), { width: 768, height: 512 });
  });

  test('SDXL-sized targets, square frames and a finer grid', () => {
    assert.deepEqual(sizeForFrame(320, 480, pixelsForSize(1024)), { width: 832, height: 1280 });
    assert.deepEqual(sizeForFrame(240, 240, pixelsForSize(512)), { width: 512, height: 512 });
    assert.deepEqual(sizeForFrame(320, 480, pixelsForSize(512), 8), { width: 416, height: 624 });
  });

  test('a very thin frame still gets at least one grid step per side', () => {
    assert.deepEqual(sizeForFrame(10, 1000, pixelsForSize(640)), { width: 64, height: 6400 });
  });

  test('sizes that are not sizes are refused', () => {
    assert.throws(() => sizeForFrame(0, 480, 1000), RangeError);
    assert.throws(() => sizeForFrame(320, 480, 0), RangeError);
    assert.throws(() => sizeForFrame(320, 480, 1000, 0), RangeError);
  });
});
