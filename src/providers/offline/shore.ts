/** A dark bank of land with trees in a bottom corner: frames a lake or sea view. */
import { mix } from './color.js';
import { layerColor } from './palette.js';
import type { SceneContext } from './scene-context.js';
import { areaPath, type Point } from './svg-kit.js';
import { fractalNoise } from './noise.js';
import { drawCrowns, treeRow } from './trees.js';

export function drawShoreBank(scene: SceneContext, side: 'left' | 'right'): void {
  const { doc, rng, width, height, unit, palette } = scene;
  const reach = width * rng.range(0.35, 0.65);
  const rise = height * rng.range(0.06, 0.12);
  const noise = fractalNoise(rng, { frequency: 3, octaves: 3 });
  const points: Point[] = [];
  for (let x = -unit * 3; x <= width + unit * 3; x += unit * 2.5) {
    const along = side === 'left' ? x / reach : (width - x) / reach;
    const falloff = along >= 1 ? 0 : Math.pow(1 - Math.max(0, along), 0.6);
    points.push([x, height + unit * 3 - (rise * 0.7 + rise * 0.3 * noise(Math.max(0, x) / width)) * falloff]);
  }
  const color = mix(layerColor(palette, 1), '#000000', 0.35);
  const leafy = palette.land.leafy;
  if (leafy !== null) {
    const onBank = points.filter(([x]) => (side === 'left' ? x < reach * 0.85 : x > width - reach * 0.85));
    const row = treeRow(rng, onBank, { gap: unit * 9, height: unit * 34, leafy, cover: 0.8 });
    doc.add(`<path d="${row.pines}" fill="${mix(layerColor(palette, 1, palette.land.tree), '#000000', 0.3)}"/>`);
    doc.add(`<path d="${areaPath(points, height + unit * 4)}" fill="${color}"/>`);
    drawCrowns(doc, rng, row.crowns, palette.land.accents.map((accent) => mix(layerColor(palette, 1, accent), '#000000', 0.25)), color);
    return;
  }
  doc.add(`<path d="${areaPath(points, height + unit * 4)}" fill="${color}"/>`);
}
