/** Rolling hills covered in forest, each row paler in the mist, sometimes by a lake. */
import { mix } from './color.js';
import { drawMist, drawRidge, drawSnowcaps } from './land.js';
import { heightAt, ridgeLine } from './noise.js';
import { layerColor } from './palette.js';
import { frequencyScale, type SceneContext, type SceneStyle } from './scene-context.js';
import { drawCelestial, drawClouds, drawSkyGradient, drawStars, type Celestial } from './sky.js';
import { drawShoreBank } from './shore.js';
import { alpha, fmt } from './svg-kit.js';
import { drawCrowns, treeRow } from './trees.js';
import { drawMirrorWater } from './water.js';

export const drawForest: SceneStyle = (scene) => {
  const { doc, rng, width, height, unit, palette, themes } = scene;
  const water = themes.has('lake') || rng.chance(0.2);
  const waterY = height * rng.range(0.7, 0.76);
  const layers = water ? 4 : rng.int(4, 6);
  const spread = frequencyScale(scene);
  const top = height * rng.range(0.42, 0.52);
  const bottom = water ? waterY : height * 1.02;

  const backdrop = rng.chance(0.5)
    ? ridgeLine(rng, {
        width,
        baseY: top + height * 0.05,
        amplitude: height * rng.range(0.14, 0.22),
        frequency: 1.4 * spread,
        octaves: 5,
        sharpness: 0.85,
        step: 2.5 * unit,
      })
    : undefined;
  const hills = Array.from({ length: layers }, (_, i) => {
    const depth = i / (layers - 1);
    const baseY = top + (bottom - top) * (0.15 + 0.85 * depth);
    const points = ridgeLine(rng, {
      width,
      baseY,
      amplitude: height * (0.09 + 0.05 * depth) * rng.range(0.8, 1.2),
      frequency: (1 + 0.8 * rng.next()) * spread,
      octaves: 3,
      persistence: 0.45,
      step: 3 * unit,
    });
    return { points, depth, baseY };
  });

  const horizonY = water ? waterY : top + height * 0.1;
  const start = doc.mark();
  drawSkyGradient(scene, { horizonY });
  drawStars(scene, { horizonY });
  const farthest = backdrop ?? hills[0]?.points ?? [];
  const sunX = width * rng.range(0.2, 0.8);
  const skyline = heightAt(farthest, sunX);
  const low = palette.time === 'dawn' || palette.time === 'sunset';
  const sun = drawCelestial(scene, { horizonY: skyline }, {
    x: sunX,
    y: low ? skyline - unit * rng.range(4, 26) : skyline * rng.range(0.3, 0.6),
  });
  drawClouds(scene, { horizonY: skyline }, palette.time === 'night' ? rng.int(0, 1) : rng.int(1, 3));
  const rays = palette.time !== 'night' && rng.chance(0.55);

  if (backdrop !== undefined) {
    drawRidge(scene, backdrop, layerColor(palette, 0), height);
    const { snow } = palette.land;
    if (snow === 'always' || (snow === 'sometimes' && rng.chance(0.6))) drawSnowcaps(scene, backdrop, 0);
    drawMist(scene, top + height * 0.05, height * 0.1, 0.4);
  }
  const leafy = palette.land.leafy ?? 0;
  hills.forEach(({ points, depth, baseY }, i) => {
    const own = mix(palette.land.far, palette.land.near, 0.15 + depth * 0.85);
    const color = layerColor(palette, 0.15 + depth * 0.85, mix(own, palette.land.canopy, 0.55));
    const treeColor = layerColor(palette, 0.15 + depth * 0.85, mix(palette.land.tree, palette.land.far, 0.15 * (1 - depth)));
    const row = treeRow(rng, points, {
      gap: unit * (2.2 + 7 * depth * depth),
      height: unit * (7 + 30 * Math.pow(depth, 1.4)),
      leafy: depth > 0.3 ? leafy : leafy * 0.5,
      cover: rng.range(0.75, 0.95),
    });
    doc.add(`<path d="${row.pines}" fill="${treeColor}"/>`);
    drawRidge(scene, points, color, i === hills.length - 1 ? height : Math.min(height, baseY + height * 0.15));
    drawCrowns(
      doc,
      rng,
      row.crowns,
      palette.land.accents.map((accent) => layerColor(palette, 0.15 + depth * 0.85, mix(accent, palette.land.tree, 0.15))),
      treeColor,
    );
    if (i < hills.length - 1) drawMist(scene, baseY, height * 0.1, 0.42 * (1 - depth) + 0.12);
  });

  if (water) {
    drawMirrorWater(scene, waterY, doc.slice(start), sun);
    drawShoreBank(scene, rng.chance(0.5) ? 'left' : 'right');
  }
  // Last, over the trees: beams show where they cross the mist.
  if (rays) drawSunRays(scene, sun);
};

/** Soft beams fanning down from the sun through the haze. */
function drawSunRays(scene: SceneContext, sun: Celestial): void {
  const { doc, rng, width, height, unit, palette } = scene;
  const beams: string[] = [];
  const count = rng.int(4, 7);
  for (let i = 0; i < count; i++) {
    const angle = Math.PI / 2 + rng.range(-0.9, 0.9);
    const spread = rng.range(0.025, 0.07);
    const reach = height * 1.2;
    const a = [sun.x + Math.cos(angle - spread) * reach, sun.y + Math.sin(angle - spread) * reach];
    const b = [sun.x + Math.cos(angle + spread) * reach, sun.y + Math.sin(angle + spread) * reach];
    beams.push(
      `<path d="M${fmt(sun.x)},${fmt(sun.y)}L${fmt(a[0] ?? 0)},${fmt(a[1] ?? 0)}L${fmt(b[0] ?? 0)},${fmt(b[1] ?? 0)}Z" fill-opacity="${alpha(rng.range(0.05, 0.12))}"/>`,
    );
  }
  const fade = doc.verticalGradient(
    [
      [0, palette.sky.glow],
      [1, palette.sky.glow, 0],
    ],
    sun.y,
    height * 0.95,
  );
  doc.add(`<g fill="${fade}" filter="${doc.blurWithin(0, 0, width, height, unit * 3)}">${beams.join('')}</g>`);
}
