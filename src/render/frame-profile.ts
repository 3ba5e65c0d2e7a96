/**
 * How pictures are fitted to the frame's screen.
 * - `auto`: upstream ImageServer's rule: stretch when the aspect ratios differ by at most
 *   `fitThreshold`, otherwise fit inside and pad with black.
 * - `cover`: scale to fill and crop the overflow (centred on the most interesting part).
 * - `contain`: fit inside and pad with black, always.
 * - `stretch`: scale to the exact size, ignoring the aspect ratio.
 */
export type FitMode = 'auto' | 'cover' | 'contain' | 'stretch';

/** Everything that determines the bytes of a frame render. Two equal profiles give equal renders. */
export interface FrameProfile {
  readonly width: number;
  readonly height: number;
  readonly fitMode: FitMode;
  /** Relative aspect-ratio difference under which `auto` stretches (upstream default 0.03). */
  readonly fitThreshold: number;
  /** JPEG quality 1..100. */
  readonly quality: number;
}

/** A short, file-name-safe key for a profile: renders for different profiles live apart. */
export function profileKey(profile: FrameProfile): string {
  const threshold = profile.fitMode === 'auto' ? `-t${profile.fitThreshold}` : '';
  return `${profile.width}x${profile.height}-${profile.fitMode}${threshold}-q${profile.quality}`;
}
