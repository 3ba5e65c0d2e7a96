import { z } from 'zod';

/**
 * Pieces of the `providers.<id>` schemas that every remote generator shares, so the keys
 * read the same in each section of options.yml and a mistake reads the same everywhere.
 */

/** `base_url`: where the generator listens. A path is kept (a reverse-proxy prefix). */
export const baseUrlSchema = z.url({
  protocol: /^https?$/,
  error: 'expected the address of the server, like http://192.168.1.20:7860',
});

/** A duration in seconds (fractions allowed), read as milliseconds. */
export function secondsSchema(defaultSeconds: number, min = 0.01) {
  const message = `expected a number of seconds (at least ${min})`;
  return z
    .number({ error: message })
    .min(min, { error: message })
    .default(defaultSeconds)
    .transform((seconds) => Math.round(seconds * 1000));
}

/** `seed`: the seed the frame server chose (recorded with the picture), or the generator's own pick. */
export const seedModeSchema = z.enum(['request', 'random'], { error: 'expected random, or request (the default)' }).default('request');

/**
 * The per-provider rules (`image_generate_threshold`, `sleep_time`, `daily_limit`) live in
 * the same section but belong to the gate, which validates them itself: accepted here as-is.
 */
const ruleKeys = {
  image_generate_threshold: z.unknown().optional(),
  sleep_time: z.unknown().optional(),
  daily_limit: z.unknown().optional(),
};

/**
 * A strict section schema: an unknown key (a typo such as `stpes`) is an error naming it,
 * not a setting silently ignored. The rule keys are always allowed.
 */
export function remoteSectionSchema<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject(
    { ...shape, ...ruleKeys },
    {
      error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown option ${issue.keys.map((key) => `"${key}"`).join(', ')}` : undefined),
    },
  );
}
