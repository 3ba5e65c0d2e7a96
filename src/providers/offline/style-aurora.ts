/** Northern lights: curtains of green fading to violet over snowy hills, often mirrored in a lake. */
import { mix } from './color.js';
import { drawMist, drawRidge } from './land.js';
import { fractalNoise, ridgeLine } from './noise.js';
import { layerColor } from './palette.js';
import { frequencyScale, type SceneContext, type SceneStyle } from './scene-context.js';
import { drawSkyGradient, drawStars } from './sky.js';
import { drawShoreBank } from './shore.js';
import { alpha, fmt } from './svg-kit.js';
import { treeRow } from './trees.js';
import { drawMirrorWater } from './water.js';

const CURTAIN_HUES: readonly (readonly [string, string])[] = [
  ['#6dffb2', '#9b6cf0'],
  ['#5cf0c8', '#6d8cff'],
  ['#9dff7a', '#e06ad0'],
];

export const drawAurora: SceneStyle = (scene) => {
  const { doc, rng, width, height, unit, palette } = scene;
  const water = rng.chance(0.5);
  const horizonY = height * (water ? rng.range(0.62, 0.68) : rng.range(0.7, 0.76));
  const start = doc.mark();
  drawSkyGradient(scene, { horizonY });
  // A teal glow low in the sky, lit by the aurora itself.
  const glow = doc.verticalGradient(
    [
      [0, '#1d6f6a', 0],
      [1, '#1d6f6a', 0.4],
    ],
    horizonY * 0.3,
    horizonY,
  );
  doc.add(`<rect width="${width}" height="${fmt(horizonY)}" fill="${glow}"/>`);
  drawStars(scene, { horizonY }, 0.8);
  const [low, high] = rng.pick(CURTAIN_HUES);
  const ray = doc.boxGradient([
    [0, high, 0],
    [0.45, high, 0.25],
    [0.85, low, 0.8],
    [1, low, 0],
  ]);
  const bands = rng.int(2, 3);
  let curtains = '';
  for (let i = 0; i < bands; i++) curtains += curtainRays(scene, horizonY, 1 - i * 0.25);
  // One blurred copy for the glow (a filter per curtain would cost a pass each), one faint sharp copy for the rays.
  doc.add(`<g fill="${ray}" filter="${doc.blurWithin(0, 0, width, horizonY, unit * 2, unit * 3)}">${curtains}</g>`);
  doc.add(`<g fill="${ray}" opacity="0.5">${curtains}</g>`);

  const spread = frequencyScale(scene);
  const far = ridgeLine(rng, {
    width,
    baseY: horizonY + unit * 2,
    amplitude: height * rng.range(0.06, 0.14),
    frequency: 1.6 * spread,
    octaves: 5,
    sharpness: 0.6,
    step: 2.5 * unit,
  });
  const snow = layerColor(palette, 0.5, '#dfe9f5');
  drawRidge(scene, far, mix(snow, '#1d6f6a', 0.15), height);
  drawMist(scene, horizonY, height * 0.06, 0.2);
  if (water) {
    drawMirrorWater(scene, horizonY + unit * 2, doc.slice(start));
    drawShoreBank(scene, rng.chance(0.5) ? 'left' : 'right');
    return;
  }
  const near = ridgeLine(rng, {
    width,
    baseY: height * rng.range(0.95, 1),
    amplitude: height * rng.range(0.08, 0.14),
    frequency: 1.2 * spread,
    octaves: 3,
    step: 3 * unit,
  });
  const row = treeRow(rng, near, { gap: unit * 9, height: unit * rng.range(24, 40), leafy: 0, cover: 0.6 });
  doc.add(`<path d="${row.pines}" fill="${layerColor(palette, 1, palette.land.tree)}"/>`);
  // Snow in the foreground takes a little of the aurora's green.
  drawRidge(scene, near, mix(layerColor(palette, 1, '#cfdbea'), low, 0.08), height);
};

/**
 * One curtain: thin vertical rays standing on a wavy lower edge, to be filled with a
 * gradient that is bright at the foot and fades upwards.
 */
function curtainRays(scene: SceneContext, horizonY: number, strength: number): string {
  const { rng, width, unit } = scene;
  const edge = fractalNoise(rng, { frequency: 1.5, octaves: 3 });
  const tall = fractalNoise(rng, { frequency: 3, octaves: 2 });
  const bright = fractalNoise(rng, { frequency: 6, octaves: 2 });
  const baseY = horizonY * rng.range(0.38, 0.7);
  const wave = horizonY * rng.range(0.12, 0.25);
  const reach = horizonY * rng.range(0.25, 0.45);
  const rays: string[] = [];
  const step = unit * 2.2;
  for (let x = -step; x < width + step; x += step) {
    const at = Math.max(0, x) / width;
    const foot = baseY + (edge(at) - 0.5) * wave * 2;
    const h = reach * (0.4 + 0.8 * tall(at));
    const opacity = strength * Math.pow(bright(at), 1.5);
    if (opacity < 0.05) continue;
    rays.push(
      `<rect x="${fmt(x)}" y="${fmt(foot - h)}" width="${fmt(step * rng.range(0.5, 1.2))}" height="${fmt(h)}" fill-opacity="${alpha(opacity * rng.range(0.6, 1))}"/>`,
    );
  }
  return rays.join('');
}
