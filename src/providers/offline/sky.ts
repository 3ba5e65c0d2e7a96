/** The sky shared by every landscape: gradient, stars, sun or moon, clouds. */
import { mix } from './color.js';
import type { SceneContext } from './scene-context.js';
import { alpha, fmt } from './svg-kit.js';

export interface SkyPlacement {
  /** Where land or water meets the sky. */
  readonly horizonY: number;
}

export interface Celestial {
  readonly x: number;
  readonly y: number;
  readonly radius: number;
}

export function drawSkyGradient(scene: SceneContext, { horizonY }: SkyPlacement): void {
  const { doc, palette, width, height } = scene;
  const { sky } = palette;
  const fill = doc.verticalGradient(
    [
      [0, sky.top],
      [0.45, sky.mid],
      [0.8, sky.low],
      [1, sky.horizon],
    ],
    0,
    horizonY,
  );
  doc.add(`<rect width="${width}" height="${height}" fill="${fill}"/>`);
}

/** Stars thin out towards the horizon, where the air is thick; a few bright ones get a halo. */
export function drawStars(scene: SceneContext, { horizonY }: SkyPlacement, density = scene.palette.sky.stars): void {
  if (density <= 0) return;
  const { doc, rng, width, unit } = scene;
  const count = Math.round(density * 230 * ((width * horizonY) / (320 * 300)));
  const halo = doc.radialGradient([
    [0, '#ffffff', 0.55],
    [0.25, '#dfe8ff', 0.18],
    [1, '#dfe8ff', 0],
  ]);
  const dots: string[] = [];
  const halos: string[] = [];
  for (let i = 0; i < count; i++) {
    const x = rng.range(0, width);
    const y = horizonY * Math.pow(rng.next(), 1.3);
    const fade = 1 - Math.pow(y / horizonY, 2.2);
    const size = 0.3 + Math.pow(rng.next(), 4) * 1.1;
    const opacity = (0.35 + rng.next() * 0.65) * fade;
    if (opacity < 0.05) continue;
    const tint = rng.pick(['#ffffff', '#ffffff', '#fff4dc', '#dbe6ff']);
    dots.push(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(size * unit)}" fill="${tint}" fill-opacity="${alpha(opacity)}"/>`);
    if (size > 0.95 && fade > 0.5) {
      const r = size * unit * 7;
      halos.push(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(r)}" fill="${halo}"/>`);
    }
  }
  doc.add(halos.join('') + dots.join(''));
}

/**
 * The sun low and large at dawn and dusk, higher and smaller by day; at night a moon,
 * full or crescent. Drawn before the land so ridges can hide its lower half.
 */
export function drawCelestial(scene: SceneContext, { horizonY }: SkyPlacement, at?: Partial<Celestial>): Celestial {
  const { doc, rng, width, unit, palette } = scene;
  const { sky, time } = palette;
  const low = time === 'dawn' || time === 'sunset';
  const radius = at?.radius ?? unit * (time === 'night' ? rng.range(11, 17) : low ? rng.range(20, 28) : rng.range(15, 20));
  const x = at?.x ?? width * rng.range(0.22, 0.78);
  const y = at?.y ?? (low ? horizonY - radius * rng.range(0.1, 1.6) : horizonY * rng.range(0.18, 0.42));

  const halo = doc.radialGradient([
    [0, sky.glow, low ? 0.75 : 0.55],
    [0.3, sky.glow, low ? 0.32 : 0.2],
    [1, sky.glow, 0],
  ]);
  const haloRadius = radius * (low ? 9 : 6);
  doc.add(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(haloRadius)}" fill="${halo}"/>`);
  if (low) {
    // A wide band of light along the horizon under a setting sun.
    const band = doc.radialGradient([
      [0, sky.glow, 0.5],
      [1, sky.glow, 0],
    ]);
    doc.add(
      `<ellipse cx="${fmt(x)}" cy="${fmt(horizonY)}" rx="${fmt(width * 0.9)}" ry="${fmt(radius * 2.2)}" fill="${band}"/>`,
    );
  }

  if (sky.body === 'moon') {
    drawMoon(scene, x, y, radius);
  } else {
    const disc = doc.radialGradient([
      [0, '#ffffff'],
      [0.7, sky.sun],
      [1, mix(sky.sun, sky.glow, 0.5)],
    ]);
    doc.add(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(radius)}" fill="${disc}"/>`);
  }
  return { x, y, radius };
}

function drawMoon(scene: SceneContext, x: number, y: number, radius: number): void {
  const { doc, rng, palette } = scene;
  const face = doc.radialGradient([
    [0, '#fffef6'],
    [0.8, palette.sky.sun],
    [1, mix(palette.sky.sun, palette.sky.glow, 0.4)],
  ]);
  if (rng.chance(0.45)) {
    // A crescent: the outer arc is the moon's edge, the inner one a larger circle's.
    const side = rng.chance(0.5) ? 1 : -1;
    const inner = radius * rng.range(1.05, 1.35);
    const sweep = side > 0 ? 1 : 0;
    doc.add(
      `<path d="M${fmt(x)},${fmt(y - radius)}A${fmt(radius)},${fmt(radius)} 0 1 ${sweep} ${fmt(x)},${fmt(y + radius)}` +
        `A${fmt(inner)},${fmt(inner)} 0 0 ${1 - sweep} ${fmt(x)},${fmt(y - radius)}Z" fill="${face}"/>`,
    );
    return;
  }
  doc.add(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(radius)}" fill="${face}"/>`);
  // Faint maria, so the full moon is not a flat disc.
  const spots: string[] = [];
  for (let i = 0; i < 5; i++) {
    const angle = rng.range(0, Math.PI * 2);
    const distance = radius * rng.range(0, 0.55);
    const r = radius * rng.range(0.12, 0.3);
    spots.push(
      `<circle cx="${fmt(x + Math.cos(angle) * distance)}" cy="${fmt(y + Math.sin(angle) * distance)}" r="${fmt(r)}" fill="#9aa0b4" fill-opacity="0.18"/>`,
    );
  }
  doc.add(spots.join(''));
}

/** Soft clouds: clusters of ellipses, lit from above, blurred a little. */
export function drawClouds(scene: SceneContext, { horizonY }: SkyPlacement, count: number): void {
  const { doc, rng, width, unit, palette } = scene;
  const { sky } = palette;
  const soften = doc.blur(unit * 1.6);
  for (let c = 0; c < count; c++) {
    const cx = rng.range(-0.1, 1.1) * width;
    const cy = horizonY * rng.range(0.12, 0.8);
    const span = unit * rng.range(50, 120) * (0.6 + (cy / horizonY) * 0.6);
    const puffs = rng.int(5, 9);
    const thickness = span * rng.range(0.14, 0.22);
    const fill = doc.verticalGradient(
      [
        [0, mix(sky.cloud, '#ffffff', 0.25)],
        [0.55, sky.cloud],
        [1, sky.cloudShade],
      ],
      cy - thickness * 1.2,
      cy + thickness * 0.6,
    );
    const shapes: string[] = [];
    for (let p = 0; p < puffs; p++) {
      const t = p / (puffs - 1) - 0.5;
      const rx = span * rng.range(0.14, 0.24) * (1 - Math.abs(t));
      const ry = thickness * rng.range(0.6, 1.1) * (1 - Math.abs(t) * 0.9);
      shapes.push(
        `<ellipse cx="${fmt(cx + t * span)}" cy="${fmt(cy - ry * 0.4)}" rx="${fmt(rx + unit * 4)}" ry="${fmt(ry)}"/>`,
      );
    }
    // A flat base, as cumulus have.
    shapes.push(`<ellipse cx="${fmt(cx)}" cy="${fmt(cy)}" rx="${fmt(span * 0.55)}" ry="${fmt(thickness * 0.35)}"/>`);
    const opacity = palette.time === 'night' ? 0.55 : rng.range(0.75, 0.95);
    doc.add(`<g fill="${fill}" opacity="${alpha(opacity)}" filter="${soften}">${shapes.join('')}</g>`);
  }
}
