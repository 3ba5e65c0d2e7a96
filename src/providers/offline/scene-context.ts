/** What every scene style draws with. */
import type { Theme } from './keywords.js';
import type { Palette } from './palette.js';
import type { Random } from './prng.js';
import type { SvgDoc } from './svg-kit.js';

export type StyleName = 'mountains' | 'forest' | 'sea' | 'night-sky' | 'aurora' | 'abstract';

export interface SceneContext {
  readonly doc: SvgDoc;
  readonly rng: Random;
  readonly width: number;
  readonly height: number;
  /** Pixels per "design pixel": sizes are tuned on a 320-pixel short side and scaled from it. */
  readonly unit: number;
  readonly palette: Palette;
  readonly themes: ReadonlySet<Theme>;
}

export type SceneStyle = (scene: SceneContext) => void;

/** Bumps per width look right on a portrait frame; wider pictures need more of them. */
export function frequencyScale(scene: SceneContext): number {
  return Math.sqrt(scene.width / scene.height / (2 / 3));
}
