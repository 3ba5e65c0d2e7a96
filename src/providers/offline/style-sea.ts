/** The open sea under a wide sky: the sun's path on the waves, clouds, a far headland, a beach. */
import { mix } from './color.js';
import { drawRidge } from './land.js';
import { fractalNoise, ridgeLine } from './noise.js';
import { layerColor } from './palette.js';
import { frequencyScale, type SceneContext, type SceneStyle } from './scene-context.js';
import { drawCelestial, drawClouds, drawSkyGradient, drawStars } from './sky.js';
import { alpha, areaPath, fmt, linePath, type Point } from './svg-kit.js';
import { drawGlitter } from './water.js';

export const drawSea: SceneStyle = (scene) => {
  const { doc, rng, width, height, unit, palette } = scene;
  const { sky } = palette;
  const horizonY = height * rng.range(0.5, 0.6);
  const low = palette.time === 'dawn' || palette.time === 'sunset';

  drawSkyGradient(scene, { horizonY });
  drawStars(scene, { horizonY });
  drawClouds(scene, { horizonY }, palette.time === 'night' ? rng.int(0, 2) : rng.int(2, 4));
  const sun = drawCelestial(scene, { horizonY }, low ? { y: horizonY - unit * rng.range(-8, 22) } : {});
  if (rng.chance(0.55)) drawHeadland(scene, horizonY);

  const sea = doc.verticalGradient(
    [
      [0, mix(sky.horizon, sky.water, 0.35)],
      [0.12, mix(sky.low, sky.water, 0.55)],
      [1, sky.water],
    ],
    horizonY,
    height,
  );
  doc.add(`<rect x="0" y="${fmt(horizonY)}" width="${width}" height="${fmt(height - horizonY)}" fill="${sea}"/>`);
  drawWaves(scene, horizonY);
  drawGlitter(scene, {
    x: sun.x,
    fromY: horizonY,
    toY: height,
    spread: sun.radius * (low ? 1.2 : 0.8),
    color: mix(sky.sun, sky.glow, 0.4),
    strength: palette.time === 'day' ? 0.55 : 0.8,
  });
  if (rng.chance(0.5)) drawBeach(scene);
};

/** Long low strokes of light and shade on the swell, closer together towards the horizon. */
function drawWaves(scene: SceneContext, horizonY: number): void {
  const { doc, rng, width, height, unit, palette } = scene;
  const light: string[] = [];
  const dark: string[] = [];
  let y = horizonY + unit;
  while (y < height) {
    const t = (y - horizonY) / (height - horizonY);
    for (let k = rng.int(2, 5); k > 0; k--) {
      const length = unit * rng.range(10, 50) * (0.4 + t * 1.6);
      const x = rng.range(-length, width);
      const thickness = unit * (0.4 + t * 1.2);
      const mark = `<rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(length)}" height="${fmt(thickness)}" rx="${fmt(thickness / 2)}" fill-opacity="${alpha(rng.range(0.1, 0.25) * (0.5 + t))}"/>`;
      (rng.chance(0.5) ? light : dark).push(mark);
    }
    y += unit * (1 + 7 * Math.pow(t, 1.5)) * rng.range(0.7, 1.3);
  }
  doc.add(`<g fill="${mix(palette.sky.low, '#ffffff', 0.2)}">${light.join('')}</g>`);
  doc.add(`<g fill="${mix(palette.sky.water, '#000000', 0.3)}">${dark.join('')}</g>`);
}

/** A far cape on one side, pale with distance, sitting on the horizon. */
function drawHeadland(scene: SceneContext, horizonY: number): void {
  const { rng, width, height, unit, palette } = scene;
  const fromLeft = rng.chance(0.5);
  const reach = width * rng.range(0.25, 0.5);
  const rise = height * rng.range(0.03, 0.08);
  const points = ridgeLine(rng, {
    width,
    baseY: horizonY,
    amplitude: rise,
    frequency: 2 * frequencyScale(scene),
    octaves: 4,
    step: 2 * unit,
  }).map(([x, y]): Point => {
    const along = fromLeft ? x / reach : (width - x) / reach;
    // The cape slopes down into the sea at its tip.
    const taper = along >= 1 ? 0 : Math.pow(1 - Math.max(0, along), 0.5);
    return [x, horizonY - (horizonY - y) * taper + unit * 0.5];
  });
  drawRidge(scene, points, layerColor(palette, 0.1), horizonY + unit);
}

/** Sand in the foreground, with a line of foam where the last wave ends. */
function drawBeach(scene: SceneContext): void {
  const { doc, rng, width, height, unit, palette } = scene;
  const noise = fractalNoise(rng, { frequency: 1.5, octaves: 3 });
  const tilt = rng.range(-0.08, 0.08) * height;
  const edge: Point[] = [];
  for (let x = -unit * 3; x <= width + unit * 3; x += unit * 3) {
    const at = Math.max(0, x) / width;
    edge.push([x, height * 0.86 + tilt * (at - 0.5) - height * 0.05 * noise(at)]);
  }
  const sand = layerColor(palette, 1, palette.land.sand);
  const wet = mix(sand, palette.sky.water, 0.35);
  const fill = doc.verticalGradient(
    [
      [0, wet],
      [0.12, sand],
      [1, mix(sand, '#000000', 0.15)],
    ],
    height * 0.78,
    height,
  );
  doc.add(`<path d="${areaPath(edge, height + unit)}" fill="${fill}"/>`);
  const foam = mix('#ffffff', palette.sky.landTint, palette.sky.landTintAmount * 0.6);
  const lace = edge.map(([x, y]): Point => [x, y - unit * (0.6 + 1.2 * noise(Math.max(0, x) / width + 0.3))]);
  doc.add(
    `<path d="${linePath(lace)}" fill="none" stroke="${foam}" stroke-width="${fmt(unit * 1.6)}" stroke-opacity="0.75" stroke-linecap="round"/>`,
  );
  const shallow = edge.map(([x, y]): Point => [x, y - unit * (5 + 4 * noise(Math.max(0, x) / width + 0.6))]);
  doc.add(
    `<path d="${linePath(shallow)}" fill="none" stroke="${foam}" stroke-width="${fmt(unit * 0.8)}" stroke-opacity="0.4"/>`,
  );
}
