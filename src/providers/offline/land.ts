/** Layers of land: ridges with shading and snow, and the mist that separates them. */
import { mix } from './color.js';
import { layerShades } from './palette.js';
import type { SceneContext } from './scene-context.js';
import { areaPath, fmt, linePath, type Point } from './svg-kit.js';
import { fractalNoise, topOf } from './noise.js';

/** Fills the area under a skyline, lit at the crest and shaded at the foot. */
export function drawRidge(scene: SceneContext, points: readonly Point[], color: string, bottom: number): void {
  const { doc, palette } = scene;
  const shades = layerShades(color, palette.time);
  const top = topOf(points);
  const fill = doc.verticalGradient(
    [
      [0, shades.top],
      [0.35, color],
      [1, shades.foot],
    ],
    top,
    bottom,
  );
  doc.add(`<path d="${areaPath(points, bottom)}" fill="${fill}"/>`);
}

/**
 * Snow on the high parts of a range: it reaches down from each crest by an amount that
 * grows with the crest's height above the snow line, so peaks get caps and saddles stay bare.
 */
export function drawSnowcaps(scene: SceneContext, points: readonly Point[], depth: number): void {
  const { doc, palette, rng, unit } = scene;
  const top = topOf(points);
  const lowest = points.reduce((low, [, y]) => Math.max(low, y), 0);
  const line = top + (lowest - top) * rng.range(0.35, 0.6);
  const snow = mix(mix('#f4f8fc', palette.sky.haze, (1 - depth) * 0.35), palette.sky.landTint, palette.sky.landTintAmount * 0.8);
  const shade = mix(snow, palette.sky.top, 0.25);
  const jag = fractalNoise(rng, { frequency: 14, octaves: 2 });
  const lower: Point[] = [];
  for (const [x, y] of points) {
    const above = Math.max(0, line - y);
    const reach = above * (0.55 + 0.9 * jag(Math.max(0, x) / scene.width));
    lower.push([x, y + (above > 0 ? reach + unit * 0.5 : 0)]);
  }
  const outline = [...points, ...lower.reverse()];
  const fill = doc.verticalGradient(
    [
      [0, snow],
      [1, shade],
    ],
    top,
    line,
  );
  doc.add(`<path d="${linePath(outline)}Z" fill="${fill}"/>`);
}

/** A band of haze lying in a valley, in front of a layer and behind the next. */
export function drawMist(scene: SceneContext, y: number, thickness: number, strength: number): void {
  const { doc, palette, width } = scene;
  const fill = doc.verticalGradient(
    [
      [0, palette.sky.haze, 0],
      [0.55, palette.sky.haze, strength],
      [1, palette.sky.haze, 0],
    ],
    y - thickness * 0.6,
    y + thickness * 0.4,
  );
  doc.add(
    `<rect x="0" y="${fmt(y - thickness * 0.6)}" width="${width}" height="${fmt(thickness)}" fill="${fill}"/>`,
  );
}
