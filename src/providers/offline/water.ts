/** Still water that mirrors the scene above it, and the glitter of a low sun or moon on water. */
import { mix } from './color.js';
import type { SceneContext } from './scene-context.js';
import type { Celestial } from './sky.js';
import { alpha, fmt } from './svg-kit.js';

/**
 * Mirrors `above` (markup drawn so far) about the waterline, softens it vertically, darkens
 * it with depth and breaks it with ripples.
 */
export function drawMirrorWater(scene: SceneContext, waterY: number, above: string, light?: Celestial): void {
  const { doc, rng, width, height, unit, palette } = scene;
  const { sky } = palette;
  const clip = doc.clipRect(0, waterY, width, height - waterY);
  const soften = doc.blurWithin(0, waterY, width, height - waterY, unit * 0.4, unit * 1.6);
  doc.add(
    `<g clip-path="${clip}"><g filter="${soften}"><g transform="matrix(1 0 0 -1 0 ${fmt(2 * waterY)})">${above}</g></g></g>`,
  );
  const depth = doc.verticalGradient(
    [
      [0, sky.water, 0.12],
      [1, sky.water, 0.6],
    ],
    waterY,
    height,
  );
  doc.add(`<rect x="0" y="${fmt(waterY)}" width="${width}" height="${fmt(height - waterY)}" fill="${depth}"/>`);

  // Ripples: short light strokes, denser and thinner towards the far shore.
  const ripples: string[] = [];
  const rippleColor = mix(sky.horizon, '#ffffff', 0.2);
  for (let i = 0; i < 70; i++) {
    const t = Math.pow(rng.next(), 1.6);
    const y = waterY + unit + t * (height - waterY - unit);
    const length = unit * rng.range(6, 30) * (0.4 + t);
    const x = rng.range(-length, width);
    ripples.push(
      `<rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(length)}" height="${fmt(unit * (0.4 + t * 0.8))}" fill-opacity="${alpha(rng.range(0.08, 0.22))}"/>`,
    );
  }
  doc.add(`<g fill="${rippleColor}">${ripples.join('')}</g>`);
  // A bright hairline where the far shore meets the water.
  doc.add(
    `<rect x="0" y="${fmt(waterY - unit * 0.3)}" width="${width}" height="${fmt(unit * 0.8)}" fill="${sky.haze}" fill-opacity="0.45"/>`,
  );
  if (light !== undefined && light.y < waterY) {
    drawGlitter(scene, { x: light.x, fromY: waterY, toY: height, spread: light.radius, color: sky.glow, strength: 0.6 });
  }
}

export interface GlitterOptions {
  readonly x: number;
  readonly fromY: number;
  readonly toY: number;
  /** Half-width of the path of light at the horizon; it widens towards the viewer. */
  readonly spread: number;
  readonly color: string;
  readonly strength: number;
}

/** The broken path of light on waves below the sun or moon, with perspective. */
export function drawGlitter(scene: SceneContext, options: GlitterOptions): void {
  const { doc, rng, unit } = scene;
  const dashes: string[] = [];
  let y = options.fromY + unit * 0.5;
  while (y < options.toY) {
    const t = (y - options.fromY) / (options.toY - options.fromY);
    const spread = options.spread * (0.8 + t * 3.5);
    for (let k = rng.int(1, 3); k > 0; k--) {
      const length = unit * rng.range(3, 12) * (0.5 + t * 1.5);
      const x = options.x + rng.spread(spread * 0.6) - length / 2;
      const opacity = options.strength * (1 - t * 0.75) * rng.range(0.5, 1);
      dashes.push(
        `<rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(length)}" height="${fmt(unit * (0.5 + t * 1.3))}" rx="${fmt(unit * 0.5)}" fill-opacity="${alpha(opacity)}"/>`,
      );
    }
    y += unit * (0.9 + 5 * Math.pow(t, 1.4)) * rng.range(0.7, 1.3);
  }
  doc.add(`<g fill="${options.color}">${dashes.join('')}</g>`);
}
