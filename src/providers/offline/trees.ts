/** Tree silhouettes standing on a skyline: pines, and round leafy crowns for the near layers. */
import { darken, lighten } from './color.js';
import type { Random } from './prng.js';
import { fmt, type Point, type SvgDoc } from './svg-kit.js';
import { heightAt } from './noise.js';

/** A pine as one closed sub-path: tiers that widen downwards, with notches between them. */
export function pinePath(rng: Random, x: number, baseY: number, height: number): string {
  const width = height * rng.range(0.32, 0.42);
  // Far, tiny trees get fewer tiers: the detail would not show, but would cost raster time.
  const tiers = height < 9 ? 2 : height < 18 ? 3 : rng.int(4, 6);
  const top = baseY - height;
  const right: Point[] = [[x, top]];
  for (let tier = 1; tier <= tiers; tier++) {
    const t = tier / tiers;
    const y = top + height * 0.9 * t;
    const half = (width / 2) * (0.3 + 0.7 * t) * rng.range(0.9, 1.1);
    right.push([x + half, y]);
    if (tier < tiers) right.push([x + half * 0.45, y - height * 0.02]);
  }
  const trunk = Math.max(0.6, width * 0.07);
  right.push([x + trunk, top + height * 0.9], [x + trunk, baseY + height * 0.05]);
  const left = right.map(([px, py]): Point => [2 * x - px, py]).reverse();
  return `M${[...right, ...left].map(([px, py]) => `${fmt(px)},${fmt(py)}`).join('L')}Z`;
}

export interface TreeRow {
  /** One path of all pines (draw in the layer's colour, before the layer itself). */
  readonly pines: string;
  /** Round crowns as circles, to draw in accent colours after the layer. */
  readonly crowns: readonly { x: number; y: number; r: number }[];
}

/**
 * Trees along a skyline, over its whole x range. `gap` is the mean distance between trunks; heights vary around
 * `height`; `leafy` is the share of round-crowned trees.
 */
export function treeRow(
  rng: Random,
  skyline: readonly Point[],
  options: { gap: number; height: number; leafy: number; cover?: number },
): TreeRow {
  const pines: string[] = [];
  const crowns: { x: number; y: number; r: number }[] = [];
  const cover = options.cover ?? 1;
  const from = skyline[0]?.[0] ?? 0;
  const to = skyline[skyline.length - 1]?.[0] ?? 0;
  for (let x = from + rng.range(0, options.gap); x < to; x += options.gap * rng.range(0.5, 1.5)) {
    if (!rng.chance(cover)) continue;
    const ground = heightAt(skyline, x) + options.height * 0.08;
    const h = options.height * rng.range(0.6, 1.3);
    if (rng.chance(options.leafy)) {
      crowns.push({ x, y: ground - h * 0.55, r: h * rng.range(0.3, 0.42) });
    } else {
      pines.push(pinePath(rng, x, ground, h));
    }
  }
  return { pines: pines.join(''), crowns };
}

/** Round crowns lit from the upper left, each with a thin trunk, in colours from `colors`. */
export function drawCrowns(
  doc: SvgDoc,
  rng: Random,
  crowns: TreeRow['crowns'],
  colors: readonly string[],
  trunkColor: string,
): void {
  if (crowns.length === 0 || colors.length === 0) return;
  const fills = colors.map((color) =>
    doc.radialGradient(
      [
        [0, lighten(color, 0.12)],
        [0.7, color],
        [1, darken(color, 0.12)],
      ],
      { fx: 0.4, fy: 0.35 },
    ),
  );
  const trunks = crowns
    .map(({ x, y, r }) => `M${fmt(x)},${fmt(y)}L${fmt(x)},${fmt(y + r * 1.9)}`)
    .join('');
  const width = Math.max(0.8, (crowns[0]?.r ?? 4) * 0.12);
  doc.add(`<path d="${trunks}" stroke="${trunkColor}" stroke-width="${fmt(width)}"/>`);
  const circles = crowns.map(({ x, y, r }) => {
    const fill = rng.pick(fills);
    // Two or three overlapping blobs read as foliage rather than lollipops.
    const blobs = [`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(r)}" fill="${fill}"/>`];
    for (let i = rng.int(1, 2); i > 0; i--) {
      blobs.push(
        `<circle cx="${fmt(x + rng.range(-0.6, 0.6) * r)}" cy="${fmt(y + rng.range(-0.2, 0.5) * r)}" r="${fmt(r * rng.range(0.55, 0.8))}" fill="${fill}"/>`,
      );
    }
    return blobs.join('');
  });
  doc.add(circles.join(''));
}
