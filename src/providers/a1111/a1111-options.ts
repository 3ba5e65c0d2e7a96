import { z } from 'zod';
import { parseSection, type ProviderContext } from '../registry.js';
import { baseUrlSchema, remoteSectionSchema, secondsSchema, seedModeSchema } from '../http/remote-options.js';
import { pixelsForSize } from '../remote-size.js';
import { A1111Provider } from './a1111-provider.js';

/** `providers.a1111` in options.yml. */
const a1111Schema = remoteSectionSchema({
  base_url: baseUrlSchema,
  /** `--api-auth user:pass` on the server. */
  username: z.string({ error: 'expected the user name of --api-auth' }).min(1).optional(),
  password: z.string({ error: 'expected the password of --api-auth' }).optional(),
  /** A checkpoint title or name from /sdapi/v1/sd-models; the server's current one when unset. */
  checkpoint: z.string({ error: 'expected a checkpoint name' }).min(1).optional(),
  steps: z.number({ error: 'expected a whole number of steps' }).int().min(1).max(150).default(25),
  cfg_scale: z.number({ error: 'expected a number such as 7' }).min(1).max(30).default(7),
  sampler: z.string({ error: 'expected a sampler name such as "Euler a"' }).min(1).default('Euler a'),
  /** v1.9+ only ("Karras", "Automatic"...); older servers ignore it. */
  scheduler: z.string({ error: 'expected a scheduler name such as "Karras"' }).min(1).optional(),
  seed: seedModeSchema,
  /** Used when the frame's request has no negative prompt of its own. */
  negative_prompt: z.string({ error: 'expected text' }).default(''),
  /** The side of a square with as many pixels as the picture: 640 → 512×768 for a 2:3 frame. */
  size: z.number({ error: 'expected a number of pixels such as 640' }).int().min(64).max(4096).default(640),
  /** One generation, queue included; the server has no limit of its own. */
  timeout_seconds: secondsSchema(600, 1),
  progress_interval_seconds: secondsSchema(1),
  health_interval_seconds: secondsSchema(60, 0),
}).refine((options) => (options.username === undefined) === (options.password === undefined), {
  error: 'username and password go together',
  path: ['password'],
});

export type A1111Section = z.output<typeof a1111Schema>;

/** The factory behind `providers.a1111`. */
export function createA1111Provider(section: Readonly<Record<string, unknown>>, context: ProviderContext): A1111Provider {
  const options = parseSection(a1111Schema, section, 'a1111', context.config.optionsFile);
  context.secrets.add(options.password);
  return new A1111Provider({
    baseUrl: options.base_url,
    ...(options.username === undefined || options.password === undefined ? {} : { auth: { username: options.username, password: options.password } }),
    ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
    steps: options.steps,
    cfgScale: options.cfg_scale,
    sampler: options.sampler,
    ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
    seedMode: options.seed,
    negativePrompt: options.negative_prompt,
    targetPixels: pixelsForSize(options.size),
    timeoutMs: options.timeout_seconds,
    progressIntervalMs: options.progress_interval_seconds,
    healthIntervalMs: options.health_interval_seconds,
    logger: context.logger,
  });
}
