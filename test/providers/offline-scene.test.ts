import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { findThemes } from '../../src/providers/offline/keywords.js';
import { buildScene } from '../../src/providers/offline/scene-svg.js';

describe('findThemes', () => {
  test('matches English and Russian words in any case and form', () => {
    assert.deepEqual([...findThemes('Ночное МОРЕ')].sort(), ['night', 'sea']);
    assert.deepEqual([...findThemes('Night over the OCEAN')].sort(), ['night', 'sea']);
    assert.deepEqual([...findThemes('ёлки в снегу')].sort(), ['forest', 'winter']);
    assert.deepEqual([...findThemes('осенний лес, горы')].sort(), ['autumn', 'forest', 'mountain']);
  });

  test('does not mistake look-alike words', () => {
    assert.deepEqual([...findThemes('мороз')], ['winter'], 'мороз is frost, not море');
    assert.deepEqual([...findThemes('реклама лестница цвет')], []);
    assert.deepEqual([...findThemes('a cat in a hat')], []);
  });
});

describe('buildScene', () => {
  const size = { width: 320, height: 480 };

  test('is a pure function of prompt, seed and size', () => {
    const a = buildScene({ prompt: 'forest lake', seed: 7, ...size });
    const b = buildScene({ prompt: 'forest lake', seed: 7, ...size });
    assert.equal(a.svg, b.svg);
    assert.notEqual(a.svg, buildScene({ prompt: 'forest lake', seed: 8, ...size }).svg);
  });

  test('ignores case and spacing in the prompt', () => {
    assert.equal(
      buildScene({ prompt: '  Forest   LAKE ', seed: 7, ...size }).svg,
      buildScene({ prompt: 'forest lake', seed: 7, ...size }).svg,
    );
  });

  test('seeds beyond 32 bits and negative seeds still vary the picture', () => {
    const base = buildScene({ prompt: 'sea', seed: 1, ...size }).svg;
    assert.notEqual(buildScene({ prompt: 'sea', seed: 2 ** 40 + 1, ...size }).svg, base);
    assert.notEqual(buildScene({ prompt: 'sea', seed: -1, ...size }).svg, base);
    assert.ok(buildScene({ prompt: 'sea', seed: Number.NaN, ...size }).svg.startsWith('<svg'));
  });

  test('a prompt without themes gets a hue palette; themed prompts get named ones', () => {
    assert.match(buildScene({ prompt: 'hello world', seed: 1, ...size }).palette, /^hue-\d+-(day|dawn|sunset|night)$/);
    assert.equal(buildScene({ prompt: 'winter sunset', seed: 1, ...size }).palette, 'sunset-winter');
    const aurora = buildScene({ prompt: 'aurora', seed: 1, ...size });
    assert.equal(aurora.style, 'aurora');
    assert.match(aurora.palette, /^night-/);
  });

  test('rejects sizes that are not positive whole pixels', () => {
    assert.throws(() => buildScene({ prompt: 'x', seed: 1, width: 0, height: 480 }), RangeError);
    assert.throws(() => buildScene({ prompt: 'x', seed: 1, width: 320.5, height: 480 }), RangeError);
  });

  test('every style rasterises in portrait and landscape', async () => {
    const styles = new Set<string>();
    for (const prompt of ['mountains', 'forest lake', 'sea', 'space', 'aurora', 'abstract', 'anything at all']) {
      for (const [width, height] of [
        [96, 144],
        [144, 96],
      ] as const) {
        for (const seed of [1, 2]) {
          const scene = buildScene({ prompt, seed, width, height });
          styles.add(scene.style);
          const meta = await sharp(Buffer.from(scene.svg)).png().toBuffer({ resolveWithObject: true });
          assert.equal(meta.info.width, width);
          assert.equal(meta.info.height, height);
        }
      }
    }
    assert.deepEqual([...styles].sort(), ['abstract', 'aurora', 'forest', 'mountains', 'night-sky', 'sea']);
  });
});
