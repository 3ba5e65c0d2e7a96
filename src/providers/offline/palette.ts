/**
 * Colours of a scene: the sky by time of day, the land by season or biome. Prompts that name
 * neither get a harmonious palette around a hue taken from a hash of the prompt, so every
 * prompt still has its own colours.
 */
import { darken, hsl, lighten, mix } from './color.js';
import type { Theme } from './keywords.js';

export type TimeOfDay = 'day' | 'dawn' | 'sunset' | 'night';

export interface SkyColors {
  /** Gradient from the zenith down to the horizon. */
  readonly top: string;
  readonly mid: string;
  readonly low: string;
  readonly horizon: string;
  /** The sun's (or moon's) disc and the halo around it. */
  readonly sun: string;
  readonly glow: string;
  /** Air between the viewer and far ridges: far land fades towards it. */
  readonly haze: string;
  readonly cloud: string;
  readonly cloudShade: string;
  /** Deep water far from any reflection. */
  readonly water: string;
  /** Light falling on the land: silhouettes at dusk, blue shadows at night. */
  readonly landTint: string;
  readonly landTintAmount: number;
  /** 0 for none, 1 for a clear night. */
  readonly stars: number;
  readonly body: 'sun' | 'moon';
}

export interface LandColors {
  readonly far: string;
  readonly near: string;
  /** Leaves, blossoms, flowers: small touches of colour on near layers. */
  readonly accents: readonly string[];
  readonly tree: string;
  /** A wooded hillside seen from afar: the colour the canopy blends into. */
  readonly canopy: string;
  readonly sand: string;
  /** Snow on high peaks: on every range, on some (by chance), or never (deserts). */
  readonly snow: 'always' | 'sometimes' | 'never';
  /** Share of round-crowned trees among pines; null where no trees grow (desert, space). */
  readonly leafy: number | null;
}

export interface Palette {
  /** Recorded in the picture's details: `sunset-autumn`, or `hue-212-night` when the prompt named none. */
  readonly name: string;
  readonly time: TimeOfDay;
  readonly sky: SkyColors;
  readonly land: LandColors;
}

type LandName = 'summer' | 'spring' | 'autumn' | 'winter' | 'desert' | 'forest' | 'space';

const SKIES: Readonly<Record<TimeOfDay, SkyColors>> = {
  day: {
    top: '#2c6cc0', mid: '#67a1dc', low: '#a6cbec', horizon: '#e2edf4',
    sun: '#fffbea', glow: '#fff0c4', haze: '#c9dceb', cloud: '#ffffff', cloudShade: '#c3d3e6',
    water: '#1c4e78', landTint: '#24405e', landTintAmount: 0.05, stars: 0, body: 'sun',
  },
  dawn: {
    top: '#2f3f78', mid: '#8a78ae', low: '#e6a3a6', horizon: '#ffd5a4',
    sun: '#fff4dc', glow: '#ffc48e', haze: '#e7b4ae', cloud: '#ffcab6', cloudShade: '#8a6d9b',
    water: '#2b3364', landTint: '#3b3158', landTintAmount: 0.3, stars: 0.12, body: 'sun',
  },
  sunset: {
    top: '#1b1d4b', mid: '#763a72', low: '#de5f58', horizon: '#ffb45a',
    sun: '#fff0c0', glow: '#ff9a48', haze: '#e6836a', cloud: '#ff9d78', cloudShade: '#57305c',
    water: '#28193d', landTint: '#2c1931', landTintAmount: 0.45, stars: 0.06, body: 'sun',
  },
  night: {
    top: '#030716', mid: '#0a1531', low: '#14284b', horizon: '#27466e',
    sun: '#f4f1e2', glow: '#8ea7d6', haze: '#1e3557', cloud: '#25375a', cloudShade: '#0e1931',
    water: '#040a1a', landTint: '#060c1d', landTintAmount: 0.7, stars: 1, body: 'moon',
  },
};

const LANDS: Readonly<Record<LandName, LandColors>> = {
  summer: {
    far: '#7ea379', near: '#2c582b', accents: ['#4f8a3a', '#79b04f', '#e8d36a'],
    tree: '#21462a', canopy: '#3f6e35', sand: '#e3cd9b', snow: 'sometimes', leafy: 0.3,
  },
  spring: {
    far: '#a4c898', near: '#3e7a35', accents: ['#f5b6cd', '#fde4ee', '#f08fb4'],
    tree: '#2f5e2c', canopy: '#6a9a4c', sand: '#e8d6a8', snow: 'sometimes', leafy: 0.6,
  },
  autumn: {
    far: '#c29a6c', near: '#66391e', accents: ['#e58a2b', '#c8442a', '#f2c14e'],
    tree: '#4a2a18', canopy: '#b8692c', sand: '#dcc08e', snow: 'sometimes', leafy: 0.65,
  },
  winter: {
    far: '#b7c8dc', near: '#eef3f8', accents: ['#ffffff', '#d4e3f1'],
    tree: '#2b474d', canopy: '#e6edf4', sand: '#e6ecf2', snow: 'always', leafy: 0,
  },
  desert: {
    far: '#e2b787', near: '#b5673a', accents: ['#d98b4e', '#8a4b2a', '#f0c987'],
    tree: '#5e6b3a', canopy: '#a8834e', sand: '#e8c48f', snow: 'never', leafy: null,
  },
  forest: {
    far: '#6d9682', near: '#1b3927', accents: ['#2f5d3c', '#437a4f', '#5e9a5a'],
    tree: '#143020', canopy: '#24472f', sand: '#d8c69c', snow: 'sometimes', leafy: 0.1,
  },
  space: {
    far: '#262b4a', near: '#0b0e1c', accents: ['#3a3f6b', '#6b5aa8'],
    tree: '#070912', canopy: '#0b0e1c', sand: '#2a2c40', snow: 'never', leafy: null,
  },
};

/** Which land a prompt's themes ask for, most specific first. */
function landFor(themes: ReadonlySet<Theme>): LandName | undefined {
  const order: readonly (readonly [Theme, LandName])[] = [
    ['winter', 'winter'],
    ['desert', 'desert'],
    ['autumn', 'autumn'],
    ['spring', 'spring'],
    ['summer', 'summer'],
    ['forest', 'forest'],
    ['space', 'space'],
    ['aurora', 'winter'],
  ];
  return order.find(([theme]) => themes.has(theme))?.[1];
}

/** The time of day a prompt names, if any; night wins over dusk, dusk over dawn. */
export function timeNamed(themes: ReadonlySet<Theme>): TimeOfDay | undefined {
  if (themes.has('night') || themes.has('space') || themes.has('aurora')) return 'night';
  if (themes.has('sunset')) return 'sunset';
  if (themes.has('dawn')) return 'dawn';
  if (themes.has('day')) return 'day';
  return undefined;
}

/** Themes that choose colours; a prompt with none of them gets a hue palette. */
const COLOUR_THEMES: readonly Theme[] = [
  'night', 'sunset', 'dawn', 'day', 'sea', 'lake', 'forest', 'mountain',
  'winter', 'desert', 'autumn', 'spring', 'summer', 'space', 'aurora',
];

export function resolvePalette(themes: ReadonlySet<Theme>, time: TimeOfDay, promptHash: number): Palette {
  // Base hues run from teal through blue, violet and pink to red (170..380, wrapped): skies
  // built on yellow or green look sickly once the horizon shifts warmer still.
  if (!COLOUR_THEMES.some((theme) => themes.has(theme))) return huePalette(170 + (promptHash % 210), time);
  const landName = landFor(themes) ?? 'summer';
  return { name: `${time}-${landName}`, time, sky: SKIES[time], land: LANDS[landName] };
}

/**
 * A palette around one hue, in the manner of layered-landscape posters: the sky warms towards
 * the horizon, the land is a darker neighbour of the same hue, accents take the opposite one.
 */
export function huePalette(hue: number, time: TimeOfDay): Palette {
  const h = Math.round(hue);
  const night = time === 'night';
  const dusk = time === 'sunset' || time === 'dawn';
  const sky: SkyColors = night
    ? {
        top: hsl(h, 0.6, 0.04), mid: hsl(h, 0.5, 0.11), low: hsl(h + 10, 0.45, 0.2), horizon: hsl(h + 20, 0.45, 0.33),
        sun: hsl(h + 40, 0.5, 0.93), glow: hsl(h + 20, 0.6, 0.7), haze: hsl(h + 15, 0.4, 0.25),
        cloud: hsl(h, 0.35, 0.22), cloudShade: hsl(h, 0.4, 0.1), water: hsl(h, 0.5, 0.05),
        landTint: hsl(h, 0.5, 0.04), landTintAmount: 0.6, stars: 1, body: 'moon',
      }
    : dusk
      ? {
          top: hsl(h - 30, 0.5, 0.2), mid: hsl(h, 0.45, 0.42), low: hsl(h + 30, 0.65, 0.65), horizon: hsl(h + 50, 0.85, 0.8),
          sun: hsl(h + 50, 1, 0.94), glow: hsl(h + 40, 0.9, 0.68), haze: hsl(h + 30, 0.5, 0.62),
          cloud: hsl(h + 40, 0.8, 0.78), cloudShade: hsl(h - 10, 0.35, 0.35), water: hsl(h - 20, 0.45, 0.16),
          landTint: hsl(h - 20, 0.45, 0.12), landTintAmount: 0.4, stars: 0.08, body: 'sun',
        }
      : {
          top: hsl(h, 0.55, 0.42), mid: hsl(h + 10, 0.55, 0.62), low: hsl(h + 25, 0.6, 0.78), horizon: hsl(h + 40, 0.75, 0.9),
          sun: hsl(h + 45, 1, 0.96), glow: hsl(h + 40, 0.9, 0.82), haze: hsl(h + 30, 0.45, 0.8),
          cloud: hsl(h + 30, 0.6, 0.96), cloudShade: hsl(h, 0.3, 0.72), water: hsl(h, 0.5, 0.28),
          landTint: hsl(h - 20, 0.4, 0.15), landTintAmount: 0.1, stars: 0, body: 'sun',
        };
  const land: LandColors = {
    far: hsl(h - 20, 0.3, 0.55),
    near: hsl(h - 35, 0.42, 0.2),
    accents: [hsl(h + 180, 0.4, 0.58), hsl(h + 150, 0.35, 0.66), hsl(h + 40, 0.6, 0.7)],
    tree: hsl(h - 35, 0.42, 0.14),
    canopy: hsl(h - 30, 0.4, 0.3),
    sand: hsl(h + 40, 0.4, 0.75),
    snow: 'sometimes',
    leafy: 0.3,
  };
  return { name: `hue-${((h % 360) + 360) % 360}-${time}`, time, sky, land };
}

/**
 * The colour of a land layer at a depth (0 farthest, 1 nearest): atmospheric perspective
 * fades far layers into the haze, then the time of day tints them all.
 */
export function layerColor(palette: Palette, depth: number, base?: string): string {
  const { sky, land } = palette;
  const own = base ?? mix(land.far, land.near, depth);
  const hazed = mix(own, sky.haze, Math.pow(1 - depth, 1.3) * 0.72);
  return mix(hazed, sky.landTint, sky.landTintAmount * (0.55 + 0.45 * depth));
}

/** A lit top and a shaded foot for a layer's vertical gradient: gives the flat silhouettes volume. */
export function layerShades(color: string, time: TimeOfDay): { top: string; foot: string } {
  const light = time === 'night' ? 0.04 : 0.1;
  return { top: lighten(color, light), foot: darken(color, time === 'night' ? 0.25 : 0.16) };
}
