/** A clear night: the Milky Way across a starry sky above dark hills and pines. */
import { mix } from './color.js';
import { drawMist, drawRidge } from './land.js';
import { ridgeLine } from './noise.js';
import { layerColor } from './palette.js';
import { frequencyScale, type SceneContext, type SceneStyle } from './scene-context.js';
import { drawCelestial, drawSkyGradient, drawStars } from './sky.js';
import { alpha, fmt } from './svg-kit.js';
import { treeRow } from './trees.js';

export const drawNightSky: SceneStyle = (scene) => {
  const { doc, rng, width, height, unit, palette } = scene;
  const horizonY = height * rng.range(0.7, 0.8);
  drawSkyGradient(scene, { horizonY });
  drawMilkyWay(scene, horizonY);
  drawStars(scene, { horizonY }, 1.3);
  if (rng.chance(0.35)) drawCelestial(scene, { horizonY }, { y: horizonY * rng.range(0.1, 0.3), radius: unit * rng.range(8, 12) });
  if (rng.chance(0.4)) drawShootingStar(scene, horizonY);
  // The glow of the last light, or of a far town, along the horizon.
  const glow = doc.verticalGradient(
    [
      [0, palette.sky.horizon, 0],
      [1, mix(palette.sky.horizon, palette.sky.glow, 0.3), 0.55],
    ],
    horizonY * 0.75,
    horizonY,
  );
  doc.add(`<rect x="0" y="${fmt(horizonY * 0.75)}" width="${width}" height="${fmt(horizonY * 0.25)}" fill="${glow}"/>`);

  const spread = frequencyScale(scene);
  const far = ridgeLine(rng, {
    width,
    baseY: horizonY + unit * 4,
    amplitude: height * rng.range(0.08, 0.16),
    frequency: 1.5 * spread,
    octaves: 5,
    sharpness: 0.7,
    step: 2.5 * unit,
  });
  drawRidge(scene, far, layerColor(palette, 0.35), height);
  drawMist(scene, horizonY + unit * 6, height * 0.08, 0.25);
  const near = ridgeLine(rng, {
    width,
    baseY: height * rng.range(0.94, 1),
    amplitude: height * rng.range(0.08, 0.15),
    frequency: 1.2 * spread,
    octaves: 3,
    step: 3 * unit,
  });
  const color = mix(layerColor(palette, 1), '#000000', 0.4);
  const row = treeRow(rng, near, { gap: unit * 8, height: unit * rng.range(26, 44), leafy: 0, cover: rng.range(0.3, 0.8) });
  doc.add(`<path d="${row.pines}" fill="${color}"/>`);
  drawRidge(scene, near, color, height);
};

/** A band of faint light and dense small stars along a tilted line, with darker dust lanes. */
function drawMilkyWay(scene: SceneContext, horizonY: number): void {
  const { doc, rng, width, unit } = scene;
  const x0 = width * rng.range(-0.1, 0.5);
  const x1 = width * rng.range(0.5, 1.1);
  const y0 = rng.chance(0.5) ? 0 : horizonY;
  const y1 = horizonY - y0;
  const angle = (Math.atan2(y1 - y0, x1 - x0) * 180) / Math.PI;
  const cloud = (tint: string, opacity: number) =>
    doc.radialGradient([
      [0, tint, opacity],
      [0.5, tint, opacity * 0.45],
      [1, tint, 0],
    ]);
  const clouds = [cloud('#cbbcf2', 0.22), cloud('#f3d9c6', 0.18), cloud('#a9c6f5', 0.16)];
  const dust = cloud('#050a18', 0.3);
  const shapes: string[] = [];
  const count = 12;
  for (let i = 0; i < count; i++) {
    const t = i / (count - 1);
    const x = x0 + (x1 - x0) * t + rng.spread(unit * 6);
    const y = y0 + (y1 - y0) * t + rng.spread(unit * 6);
    const rx = unit * rng.range(60, 120);
    const ry = unit * rng.range(30, 55);
    shapes.push(
      `<ellipse cx="${fmt(x)}" cy="${fmt(y)}" rx="${fmt(rx)}" ry="${fmt(ry)}" transform="rotate(${fmt(angle)} ${fmt(x)} ${fmt(y)})" fill="${rng.pick(clouds)}"/>`,
    );
  }
  for (let i = 0; i < 4; i++) {
    const t = rng.next();
    const x = x0 + (x1 - x0) * t;
    const y = y0 + (y1 - y0) * t + rng.spread(unit * 4);
    shapes.push(
      `<ellipse cx="${fmt(x)}" cy="${fmt(y)}" rx="${fmt(unit * rng.range(25, 55))}" ry="${fmt(unit * rng.range(6, 12))}" transform="rotate(${fmt(angle + rng.spread(8))} ${fmt(x)} ${fmt(y)})" fill="${dust}"/>`,
    );
  }
  const stars: string[] = [];
  const length = Math.hypot(x1 - x0, y1 - y0);
  for (let i = 0; i < 320; i++) {
    const t = rng.next();
    const off = rng.spread(unit * 24);
    const x = x0 + (x1 - x0) * t - ((y1 - y0) / length) * off;
    const y = y0 + (y1 - y0) * t + ((x1 - x0) / length) * off;
    if (y > horizonY) continue;
    stars.push(
      `<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(unit * rng.range(0.25, 0.6))}" fill-opacity="${alpha(rng.range(0.3, 0.9))}"/>`,
    );
  }
  doc.add(shapes.join('') + `<g fill="#ffffff">${stars.join('')}</g>`);
}

function drawShootingStar(scene: SceneContext, horizonY: number): void {
  const { doc, rng, width, unit } = scene;
  const x = width * rng.range(0.2, 0.8);
  const y = horizonY * rng.range(0.1, 0.45);
  const length = unit * rng.range(40, 80);
  const angle = rng.range(0.3, 0.7) * (rng.chance(0.5) ? 1 : -1) + Math.PI / 2;
  const tailX = x - Math.cos(angle) * length;
  const tailY = y - Math.sin(angle) * length;
  const trail = doc.linearGradient(
    [
      [0, '#ffffff', 0],
      [1, '#ffffff', 0.9],
    ],
    tailX,
    tailY,
    x,
    y,
  );
  doc.add(
    `<path d="M${fmt(tailX)},${fmt(tailY)}L${fmt(x)},${fmt(y)}" stroke="${trail}" stroke-width="${fmt(unit * 1.1)}" stroke-linecap="round"/>`,
  );
}
