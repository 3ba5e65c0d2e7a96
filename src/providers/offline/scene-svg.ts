/**
 * Pure: prompt + seed + size → an SVG scene. The prompt's themes choose the style and the
 * colours; the seed chooses everything left open and all the shapes.
 */
import { findThemes, type Theme } from './keywords.js';
import { resolvePalette, timeNamed, type TimeOfDay } from './palette.js';
import { createRandom, foldSeed, hashString, type Random } from './prng.js';
import type { SceneStyle, StyleName } from './scene-context.js';
import { drawAbstract } from './style-abstract.js';
import { drawAurora } from './style-aurora.js';
import { drawForest } from './style-forest.js';
import { drawMountains } from './style-mountains.js';
import { drawNightSky } from './style-night-sky.js';
import { drawSea } from './style-sea.js';
import { SvgDoc } from './svg-kit.js';

export interface SceneRequest {
  readonly prompt: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
}

export interface Scene {
  readonly svg: string;
  readonly style: StyleName;
  /** The palette's name, e.g. `sunset-autumn` or `hue-212-day`. */
  readonly palette: string;
}

const STYLES: Readonly<Record<StyleName, SceneStyle>> = {
  mountains: drawMountains,
  forest: drawForest,
  sea: drawSea,
  'night-sky': drawNightSky,
  aurora: drawAurora,
  abstract: drawAbstract,
};

/** Styles that only make sense under a night sky. */
const NIGHT_ONLY: ReadonlySet<StyleName> = new Set(['night-sky', 'aurora']);

/** A theme that names a style outright, strongest first ("aurora over the sea" is an aurora). */
const STYLE_NAMED: readonly (readonly [Theme, StyleName])[] = [
  ['aurora', 'aurora'],
  ['space', 'night-sky'],
  ['sea', 'sea'],
  ['forest', 'forest'],
  ['mountain', 'mountains'],
  ['lake', 'mountains'],
  ['abstract', 'abstract'],
];

function chooseStyle(themes: ReadonlySet<Theme>, named: TimeOfDay | undefined, rng: Random): StyleName {
  const explicit = STYLE_NAMED.find(([theme]) => themes.has(theme));
  if (explicit !== undefined) return explicit[1];
  const weights: (readonly [StyleName, number])[] = [
    ['mountains', 30],
    ['forest', 22],
    ['sea', 22],
    ['night-sky', named === 'night' ? 16 : 9],
    ['aurora', named === 'night' ? 14 : 7],
    ['abstract', 8],
  ];
  return rng.weighted(weights.filter(([style]) => named === undefined || named === 'night' || !NIGHT_ONLY.has(style)));
}

function chooseTime(style: StyleName, named: TimeOfDay | undefined, rng: Random): TimeOfDay {
  if (NIGHT_ONLY.has(style)) return 'night';
  return (
    named ??
    rng.weighted<TimeOfDay>([
      ['day', 38],
      ['sunset', 28],
      ['dawn', 18],
      ['night', 16],
    ])
  );
}

/** Case and spacing do not make a different picture: "Sea" and "sea " are the same prompt. */
function normalizePrompt(prompt: string): string {
  return prompt.trim().replace(/\s+/g, ' ').toLowerCase();
}

export function buildScene(request: SceneRequest): Scene {
  const { width, height } = request;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`scene size must be positive whole pixels, got ${width}x${height}`);
  }
  const prompt = normalizePrompt(request.prompt);
  const promptHash = hashString(prompt);
  const seed = foldSeed(request.seed);
  const themes = findThemes(prompt);
  // Style and time of day follow the prompt's meaning, not its wording: "закат на море" and
  // "sunset at sea" choose alike for a seed. A prompt without themes chooses by its text.
  const meaning = themes.size > 0 ? [...themes].sort().join(' ') : prompt;
  const choices = createRandom((seed ^ hashString(`themes:${meaning}`)) >>> 0);
  const root = createRandom((seed ^ promptHash) >>> 0);
  const named = timeNamed(themes);
  const style = chooseStyle(themes, named, choices);
  const palette = resolvePalette(themes, chooseTime(style, named, choices), promptHash);
  const doc = new SvgDoc(width, height);
  STYLES[style]({
    doc,
    rng: root.fork('shapes'),
    width,
    height,
    unit: Math.min(width, height) / 320,
    palette,
    themes,
  });
  return { svg: doc.toString(), style, palette: palette.name };
}
