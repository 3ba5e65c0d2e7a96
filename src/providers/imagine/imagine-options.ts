import { z } from 'zod';
import { parseSection, type ProviderContext } from '../registry.js';
import { baseUrlSchema, remoteSectionSchema, secondsSchema, seedModeSchema } from '../http/remote-options.js';
import { pixelsForSize } from '../remote-size.js';
import { IMAGINE_SAMPLERS } from './imagine-api.js';
import { ImagineProvider } from './imagine-provider.js';

const samplerMessage = `expected one of: ${IMAGINE_SAMPLERS.join(', ')}`;

/** `providers.imagine` in options.yml. */
const imagineSchema = remoteSectionSchema({
  base_url: baseUrlSchema,
  /** The file name without extension in the server's models folder (GET /models lists them). */
  model: z.string({ error: 'expected the name of a model in the server\'s models folder, like dreamshaper_8' }).min(1),
  steps: z.number({ error: 'expected a whole number of steps' }).int().min(1).max(150).default(25),
  guidance: z.number({ error: 'expected a number such as 7' }).min(0).max(30).default(7),
  // Lower case on the wire; "Euler a" in options.yml is accepted too.
  sampler: z
    .string({ error: samplerMessage })
    .transform((name) => name.toLowerCase())
    .refine((name) => (IMAGINE_SAMPLERS as readonly string[]).includes(name), { error: samplerMessage })
    .default('dpm++ 2m'),
  seed: seedModeSchema,
  negative_prompt: z.string({ error: 'expected text' }).default(''),
  /** Also send `num_steps` for servers from before June 2025 (and do not require their missing GET /models). */
  legacy_field_names: z.boolean({ error: 'expected true or false' }).default(false),
  size: z.number({ error: 'expected a number of pixels such as 640' }).int().min(64).max(4096).default(640),
  /** The server reloads the model for every picture: allow for that. */
  timeout_seconds: secondsSchema(600, 1),
  health_interval_seconds: secondsSchema(60, 0),
});

/** The factory behind `providers.imagine`. */
export function createImagineProvider(section: Readonly<Record<string, unknown>>, context: ProviderContext): ImagineProvider {
  const options = parseSection(imagineSchema, section, 'imagine', context.config.optionsFile);
  return new ImagineProvider({
    baseUrl: options.base_url,
    model: options.model,
    steps: options.steps,
    guidance: options.guidance,
    sampler: options.sampler,
    seedMode: options.seed,
    negativePrompt: options.negative_prompt,
    legacyFieldNames: options.legacy_field_names,
    targetPixels: pixelsForSize(options.size),
    timeoutMs: options.timeout_seconds,
    healthIntervalMs: options.health_interval_seconds,
    logger: context.logger,
  });
}
