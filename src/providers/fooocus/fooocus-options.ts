import { z } from 'zod';
import { baseUrlSchema, remoteSectionSchema, secondsSchema, seedModeSchema } from '../http/remote-options.js';
import { parseSection, type ProviderContext } from '../registry.js';
import { FOOOCUS_ASPECT_RATIOS, parseAspectRatio } from './aspect-ratios.js';
import { PERFORMANCE_SELECTIONS } from './fooocus-common.js';
import type { FooocusProviderOptions } from './fooocus-job-provider.js';
import { FooocusProvider } from './fooocus-provider.js';
import { FooocusApiProvider } from './fooocusapi-provider.js';

const aspectRatioSchema = z
  .string({ error: 'expected a size like "896*1152"' })
  .refine((text) => parseAspectRatio(text) !== undefined, { error: 'expected a size like "896*1152"' })
  .transform((text) => {
    const size = parseAspectRatio(text) as { width: number; height: number };
    return `${size.width}*${size.height}`;
  });

/** Keys both Fooocus APIs share; the generation options use the APIs' own field names. */
const commonShape = {
  base_url: baseUrlSchema,
  /** The server's --apikey, sent as X-API-KEY. */
  api_key: z.string({ error: 'expected the API key text' }).min(1, { error: 'expected the API key text' }).optional(),
  performance_selection: z.enum(PERFORMANCE_SELECTIONS, { error: `expected one of ${PERFORMANCE_SELECTIONS.join(', ')}` }).default('Speed'),
  /** Unset: the server's default styles. Unknown names are dropped by the server. */
  style_selections: z.array(z.string().min(1), { error: 'expected a list of style names' }).optional(),
  /** A fixed size; unset, the entry of `aspect_ratios` nearest the frame's shape is chosen. */
  aspect_ratios_selection: aspectRatioSchema.optional(),
  /** The sizes the server offers (its `available_aspect_ratios`); Fooocus's SDXL list by default. */
  aspect_ratios: z.array(aspectRatioSchema, { error: 'expected a list of sizes like "896*1152"' }).min(1).default([...FOOOCUS_ASPECT_RATIOS]),
  /** Used when the frame's request has no negative prompt of its own. */
  negative_prompt: z.string({ error: 'expected text' }).default(''),
  seed: seedModeSchema,
  base_model_name: z.string({ error: 'expected a model file name' }).min(1).optional(),
  guidance_scale: z.number({ error: 'expected a number from 1 to 30' }).min(1).max(30).optional(),
  sharpness: z.number({ error: 'expected a number from 0 to 30' }).min(0).max(30).optional(),
  /** One HTTP request (submit, poll, download); the job itself may take as long as the generation timeout. */
  timeout_seconds: secondsSchema(60, 1),
  poll_interval_seconds: secondsSchema(1),
  health_interval_seconds: secondsSchema(60, 0),
};

const fooocusSchema = remoteSectionSchema({
  ...commonShape,
  require_base64: z.boolean({ error: 'expected true or false' }).default(true),
  require_step_preview: z.boolean({ error: 'expected true or false' }).default(false),
});

const fooocusApiSchema = remoteSectionSchema(commonShape);

type CommonSection = z.output<ReturnType<typeof remoteSectionSchema<typeof commonShape>>>;

function providerOptions(id: string, options: CommonSection, context: ProviderContext): FooocusProviderOptions {
  context.secrets.add(options.api_key);
  return {
    id,
    baseUrl: options.base_url,
    ...(options.api_key === undefined ? {} : { apiKey: options.api_key }),
    performance: options.performance_selection,
    ...(options.style_selections === undefined ? {} : { styles: options.style_selections }),
    ...(options.aspect_ratios_selection === undefined ? {} : { aspectRatio: options.aspect_ratios_selection }),
    aspectRatios: options.aspect_ratios,
    negativePrompt: options.negative_prompt,
    seedMode: options.seed,
    ...(options.base_model_name === undefined ? {} : { baseModel: options.base_model_name }),
    ...(options.guidance_scale === undefined ? {} : { guidanceScale: options.guidance_scale }),
    ...(options.sharpness === undefined ? {} : { sharpness: options.sharpness }),
    timeoutMs: options.timeout_seconds,
    pollIntervalMs: options.poll_interval_seconds,
    healthIntervalMs: options.health_interval_seconds,
    logger: context.logger,
  };
}

/** The factory behind `providers.fooocus` (Fooocus-API). */
export function createFooocusProvider(section: Readonly<Record<string, unknown>>, context: ProviderContext, id = 'fooocus'): FooocusProvider {
  const options = parseSection(fooocusSchema, section, id, context.config.optionsFile);
  return new FooocusProvider({
    ...providerOptions(id, options, context),
    requireBase64: options.require_base64,
    stepPreview: options.require_step_preview,
  });
}

/** The factory behind `providers.fooocusapi` (FooocusAPI). */
export function createFooocusApiProvider(section: Readonly<Record<string, unknown>>, context: ProviderContext, id = 'fooocusapi'): FooocusApiProvider {
  const options = parseSection(fooocusApiSchema, section, id, context.config.optionsFile);
  return new FooocusApiProvider(providerOptions(id, options, context));
}
