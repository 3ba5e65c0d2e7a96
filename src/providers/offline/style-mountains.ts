/** Ranges of mountains fading into the haze, sometimes above a still lake that mirrors them. */
import { layerColor } from './palette.js';
import { drawMist, drawRidge, drawSnowcaps } from './land.js';
import { heightAt, ridgeLine } from './noise.js';
import { frequencyScale, type SceneStyle } from './scene-context.js';
import { drawCelestial, drawClouds, drawSkyGradient, drawStars } from './sky.js';
import { drawShoreBank } from './shore.js';
import { drawCrowns, treeRow } from './trees.js';
import { drawMirrorWater } from './water.js';

export const drawMountains: SceneStyle = (scene) => {
  const { doc, rng, width, height, unit, palette, themes } = scene;
  const water = themes.has('lake') || themes.has('sea') || rng.chance(0.35);
  const waterY = height * rng.range(0.64, 0.72);
  const layers = water ? rng.int(3, 4) : rng.int(4, 5);
  const spread = frequencyScale(scene);

  const ridges = Array.from({ length: layers }, (_, i) => {
    const depth = layers === 1 ? 1 : i / (layers - 1);
    const baseY = water ? height * 0.5 + (waterY - height * 0.5) * depth + unit * 2 : height * (0.56 + 0.46 * depth);
    const amplitude = height * (0.3 - 0.17 * depth) * rng.range(0.85, 1.15) * (water ? 0.85 : 1);
    const points = ridgeLine(rng, {
      width,
      baseY,
      amplitude,
      frequency: (1.3 + 0.4 * depth) * spread * rng.range(0.8, 1.25),
      octaves: 5,
      persistence: 0.5,
      sharpness: 0.9 - 0.75 * depth,
      step: 2.5 * unit,
    });
    return { points, depth, baseY, color: layerColor(palette, water ? depth * 0.75 : depth) };
  });

  const horizonY = water ? waterY : height * 0.72;
  const start = doc.mark();
  drawSkyGradient(scene, { horizonY });
  drawStars(scene, { horizonY });
  const far = ridges[0];
  const sunX = width * rng.range(0.22, 0.78);
  const lowSun = palette.time === 'dawn' || palette.time === 'sunset';
  const sunRadius = unit * (palette.time === 'night' ? rng.range(11, 16) : lowSun ? rng.range(20, 27) : rng.range(14, 19));
  const behind = far === undefined ? horizonY : heightAt(far.points, sunX);
  const sun = drawCelestial(scene, { horizonY }, {
    x: sunX,
    radius: sunRadius,
    // A low sun sits on the far range; a high one well above it.
    y: lowSun ? behind - sunRadius * rng.range(0.1, 1.1) : Math.min(behind - sunRadius * 2.5, horizonY * rng.range(0.2, 0.4)),
  });
  drawClouds(scene, { horizonY: behind }, palette.time === 'night' ? rng.int(0, 1) : rng.int(0, 3));

  const leafy = palette.land.leafy;
  ridges.forEach(({ points, depth, baseY, color }, i) => {
    const bottom = i === ridges.length - 1 ? height : Math.min(height, baseY + height * 0.2);
    const near = i === ridges.length - 1 && !water;
    if (near && leafy !== null) {
      const row = treeRow(rng, points, { gap: unit * 7, height: unit * 26, leafy, cover: 0.55 });
      const treeColor = layerColor(palette, 1, palette.land.tree);
      doc.add(`<path d="${row.pines}" fill="${treeColor}"/>`);
      drawRidge(scene, points, color, bottom);
      drawCrowns(doc, rng, row.crowns, palette.land.accents.map((accent) => layerColor(palette, 0.9, accent)), treeColor);
    } else {
      drawRidge(scene, points, color, bottom);
    }
    const { snow } = palette.land;
    if (i <= 1 && (snow === 'always' || (snow === 'sometimes' && depth < 0.5 && rng.chance(0.6)))) {
      drawSnowcaps(scene, points, depth);
    }
    if (i < ridges.length - 1) drawMist(scene, baseY, height * 0.12, 0.3 * (1 - depth) + 0.08);
  });

  if (water) {
    drawMirrorWater(scene, waterY, doc.slice(start), sun);
    drawShoreBank(scene, rng.chance(0.5) ? 'left' : 'right');
  }
};
