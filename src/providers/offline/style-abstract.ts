/** Soft layered waves in the palette's colours, with out-of-focus lights (bokeh) drifting over them. */
import { mix } from './color.js';
import { fractalNoise } from './noise.js';
import type { SceneContext, SceneStyle } from './scene-context.js';
import { alpha, areaPath, fmt, linePath, type Point } from './svg-kit.js';

export const drawAbstract: SceneStyle = (scene) => {
  const { doc, rng, width, height, palette } = scene;
  const { sky, land } = palette;
  const background = doc.linearGradient(
    [
      [0, sky.top],
      [0.55, sky.mid],
      [1, sky.low],
    ],
    rng.range(0, width),
    0,
    rng.range(0, width),
    height,
  );
  doc.add(`<rect width="${width}" height="${height}" fill="${background}"/>`);
  const lights = [sky.glow, sky.horizon, sky.cloud, ...land.accents];
  drawBokeh(scene, lights, 14, 0.6);

  // Sky colours, plus one accent: land greens and browns make muddy waves.
  const colors = [sky.low, sky.glow, sky.horizon, sky.mid, sky.cloud, land.accents[0] ?? sky.glow];
  const waves = rng.int(4, 6);
  const first = height * rng.range(0.35, 0.5);
  for (let i = 0; i < waves; i++) {
    const t = i / (waves - 1);
    drawWave(scene, first + (height * 0.95 - first) * t, mix(rng.pick(colors), sky.top, t * 0.45), 0.75 + 0.25 * t);
  }
  drawBokeh(scene, lights, 10, 0.9);
};

function drawWave(scene: SceneContext, baseY: number, color: string, opacity: number): void {
  const { doc, rng, width, height, unit } = scene;
  const noise = fractalNoise(rng, { frequency: 1.2, octaves: 2 });
  const amplitude = height * rng.range(0.04, 0.09);
  const frequency = rng.range(0.6, 1.6);
  const phase = rng.range(0, Math.PI * 2);
  const points: Point[] = [];
  for (let x = -unit * 4; x <= width + unit * 4; x += unit * 4) {
    const at = Math.max(0, x) / width;
    points.push([x, baseY + Math.sin(at * Math.PI * 2 * frequency + phase) * amplitude + (noise(at) - 0.5) * amplitude]);
  }
  const fill = doc.verticalGradient(
    [
      [0, mix(color, '#ffffff', 0.15), opacity],
      [1, mix(color, '#000000', 0.25), opacity],
    ],
    baseY - amplitude * 1.5,
    height,
  );
  doc.add(`<path d="${areaPath(points, height + unit)}" fill="${fill}"/>`);
  // A fine light rim along the crest.
  doc.add(
    `<path d="${linePath(points)}" fill="none" stroke="#ffffff" stroke-opacity="0.25" stroke-width="${fmt(unit * 1.2)}"/>`,
  );
}

/** Out-of-focus discs: a bright rim and a soft centre, as a lens draws them. */
function drawBokeh(scene: SceneContext, colors: readonly string[], count: number, strength: number): void {
  const { doc, rng, width, height, unit } = scene;
  const fills = colors.map((color) =>
    doc.radialGradient([
      [0, color, 0.35 * strength],
      [0.82, color, 0.45 * strength],
      [0.92, color, 0.6 * strength],
      [1, color, 0],
    ]),
  );
  const discs: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = unit * rng.range(6, 34) * rng.range(0.6, 1);
    discs.push(
      `<circle cx="${fmt(rng.range(0, width))}" cy="${fmt(rng.range(0, height))}" r="${fmt(r)}" fill="${rng.pick(fills)}" fill-opacity="${alpha(rng.range(0.35, 1))}"/>`,
    );
  }
  doc.add(discs.join(''));
}
