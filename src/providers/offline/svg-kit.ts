/** A minimal SVG writer: shapes go into the body, gradients and filters into <defs> under unique ids. */

/** [offset 0..1, colour, opacity (default 1)] */
export type Stop = readonly [number, string, number?];

export type Point = readonly [number, number];

/** One decimal is below what a 320x480 raster can show, and keeps the SVG (and its parse) small. */
export function fmt(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** An opacity for an attribute: two decimals, clamped to 0..1. */
export function alpha(value: number): string {
  return String(Math.round(Math.min(1, Math.max(0, value)) * 100) / 100);
}

/** An open polyline `M x,y L ...`. */
export function linePath(points: readonly Point[]): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${fmt(x)},${fmt(y)}`).join('');
}

/** A closed area under a polyline, down to `bottom` (for ridges, hills, waves). */
export function areaPath(points: readonly Point[], bottom: number): string {
  const first = points[0];
  const last = points[points.length - 1];
  if (first === undefined || last === undefined) return '';
  return `${linePath(points)}L${fmt(last[0])},${fmt(bottom)}L${fmt(first[0])},${fmt(bottom)}Z`;
}

function stopsMarkup(stops: readonly Stop[]): string {
  return stops
    .map(([offset, color, opacity]) => {
      const alpha = opacity === undefined || opacity >= 1 ? '' : ` stop-opacity="${Math.round(Math.max(0, opacity) * 1000) / 1000}"`;
      return `<stop offset="${Math.round(offset * 1000) / 1000}" stop-color="${color}"${alpha}/>`;
    })
    .join('');
}

export class SvgDoc {
  private readonly defs: string[] = [];
  private readonly body: string[] = [];
  private counter = 0;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  /** A fresh id for a definition. */
  id(prefix: string): string {
    this.counter += 1;
    return `${prefix}${this.counter}`;
  }

  add(markup: string): void {
    this.body.push(markup);
  }

  /** A vertical gradient in user space from y1 to y2 (the common case: skies, water, ridges). */
  verticalGradient(stops: readonly Stop[], y1: number, y2: number): string {
    return this.linearGradient(stops, 0, y1, 0, y2);
  }

  linearGradient(stops: readonly Stop[], x1: number, y1: number, x2: number, y2: number): string {
    const id = this.id('lg');
    this.defs.push(
      `<linearGradient id="${id}" gradientUnits="userSpaceOnUse" x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}">${stopsMarkup(stops)}</linearGradient>`,
    );
    return `url(#${id})`;
  }

  /** A radial gradient relative to each shape's own box: one definition serves many circles. */
  radialGradient(stops: readonly Stop[], focus?: { fx: number; fy: number }): string {
    const id = this.id('rg');
    const at = focus === undefined ? '' : ` fx="${focus.fx}" fy="${focus.fy}"`;
    this.defs.push(`<radialGradient id="${id}"${at}>${stopsMarkup(stops)}</radialGradient>`);
    return `url(#${id})`;
  }

  /** A linear gradient across each shape's own box, top to bottom (or left to right). */
  boxGradient(stops: readonly Stop[], direction: 'down' | 'right' = 'down'): string {
    const id = this.id('bg');
    const end = direction === 'down' ? 'x2="0" y2="1"' : 'x2="1" y2="0"';
    this.defs.push(`<linearGradient id="${id}" x1="0" y1="0" ${end}>${stopsMarkup(stops)}</linearGradient>`);
    return `url(#${id})`;
  }

  /** A Gaussian blur; keep the blurred shapes small, since blur cost grows with their area. */
  blur(deviation: number, vertical = deviation): string {
    const id = this.id('bl');
    const amount = vertical === deviation ? fmt(deviation) : `${fmt(deviation)} ${fmt(vertical)}`;
    this.defs.push(
      `<filter id="${id}" x="-50%" y="-50%" width="200%" height="200%"><feGaussianBlur stdDeviation="${amount}"/></filter>`,
    );
    return `url(#${id})`;
  }

  /**
   * A blur whose work is limited to a rectangle in user space: the default filter region
   * (the shape's box plus margins) can be many times the picture for a mirrored sky.
   */
  blurWithin(x: number, y: number, width: number, height: number, deviation: number, vertical = deviation): string {
    const id = this.id('bl');
    this.defs.push(
      `<filter id="${id}" filterUnits="userSpaceOnUse" x="${fmt(x)}" y="${fmt(y)}" width="${fmt(width)}" height="${fmt(height)}">` +
        `<feGaussianBlur stdDeviation="${fmt(deviation)} ${fmt(vertical)}"/></filter>`,
    );
    return `url(#${id})`;
  }

  /** A clip path for a rectangle (water that holds a mirrored scene). */
  clipRect(x: number, y: number, width: number, height: number): string {
    const id = this.id('cp');
    this.defs.push(
      `<clipPath id="${id}"><rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(width)}" height="${fmt(height)}"/></clipPath>`,
    );
    return `url(#${id})`;
  }

  /** The body so far, from index `from`: lets water mirror what was drawn above it. */
  mark(): number {
    return this.body.length;
  }

  slice(from: number): string {
    return this.body.slice(from).join('');
  }

  toString(): string {
    const { width, height } = this;
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
      `<defs>${this.defs.join('')}</defs>${this.body.join('')}</svg>`
    );
  }
}
